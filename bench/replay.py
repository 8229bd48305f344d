"""The replay equals the rounds: what `lossdb run --until-decided` printed against what compare replays.

Run: lossdb run --preset full --until-decided --max-seeds 50 --db full.db > rounds.log
     python -m bench.replay --db full.db --log rounds.log

Each round of `--until-decided` prints the headlines it found decided and those still open, with the
seed count of every experiment at that round. `lossdb compare` replays the stored sequential design:
each headline's looks, each judged on the seeds stored by then. This reads both and prints, per round
and headline, whether the replay at that round's seed count says the same (decided or open). A
headline with no looks (a deterministic or fixed design) is decided at a round when its verdict is.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import re

from lossdb.cli.main import app
from typer.testing import CliRunner

_ROUND = re.compile(r"round (\d+) \((.*?) seeds\): decided (.*?); open (.*?)(?=\n(?:training|Judged|round|\d+ rounds)|\Z)", re.S)
_SEEDS = re.compile(r"([\w@.-]+) (\d+)")
UNDECIDED = ("inconclusive",)


def rounds(log: str) -> list[tuple[int, dict[str, int], set[str], set[str]]]:
    """Each printed round: its number, the seeds of every experiment, the decided and the open headlines."""
    def names(text: str) -> set[str]:
        return {n.strip() for n in " ".join(text.split()).split(",") if n.strip() and n.strip() != "none"}
    out = []
    for k, seeds, decided, still in _ROUND.findall(log):
        out.append((int(k), {e: int(n) for e, n in _SEEDS.findall(" ".join(seeds.split()))},
                    names(decided), names(still)))
    return out


def replayed(row: dict, n: int | None) -> bool:
    """Whether the replay of a headline row is decided at n seeds of its experiment."""
    looks = row.get("looks") or []
    if not looks:
        return row["verdict"] not in UNDECIDED
    return any(look["verdict"] not in UNDECIDED and look["n"] <= (n or 0) for look in looks)


def main() -> None:
    """Print, per round and headline, the round's word against the replay's."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--log", required=True, help="the captured output of lossdb run --until-decided")
    args = ap.parse_args()
    result = CliRunner().invoke(app, ["compare", "--format", "json", "--db", args.db])
    if result.exit_code != 0:
        raise SystemExit(result.output)
    heads = {r["claim"]: r for r in json.loads(result.stdout) if r.get("headline")}
    agree = differ = 0
    for k, seeds, decided, still in rounds(open(args.log, encoding="utf-8").read()):
        for claim in sorted(decided | still | set(heads)):
            row = heads.get(claim)
            if row is None or claim not in decided | still:
                print(f"round {k}: {claim} is " + ("not printed by the round" if row else "not a headline of compare"))
                differ += 1
                continue
            online, replay = claim in decided, replayed(row, seeds.get(row["experiment"]))
            same = online == replay
            agree += same
            differ += not same
            if not same:
                print(f"round {k}: {claim} printed {'decided' if online else 'open'}, "
                      f"replay {'decided' if replay else 'open'} at {seeds.get(row['experiment'])} seeds")
    print(f"{agree} round × headline pairs agree, {differ} differ")


if __name__ == "__main__":
    main()
