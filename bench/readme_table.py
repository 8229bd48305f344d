"""The README's "What it found" from a database: the summary table and one line per headline.

Every sentence it prints is built from a verdict row (the headline, or the same comparison in its
other settings), so the README's table and prose can be regenerated, never hand-edited:

    lossdb run --preset full --until-decided --max-seeds 50 --jobs 16 --db full.db
    python -m bench.readme_table --db full.db > what-it-found.md     # or: make readme-table DB=full.db

Prints Markdown; asserts nothing.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence

from lossdb.core.judging.headlines import tally
from lossdb.core.judging.judge import judge
from lossdb.core.judging.outcomes import VERDICTS, Verdict
from lossdb.core.judging.setup import setup_dependence
from lossdb.core.present.cells import effect_ci, n_text, values, where
from lossdb.core.present.findings import sentence
from lossdb.core.present.measure_reasons import measure_reason_text

COLUMNS = ("claim", "verdict", "effect [CI]", "n", "measured by", "tested in", "arms and values", "power")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def power(v: Verdict) -> str:
    """How far the seeds got: decided at n, the seeds a decision would take, or why no seed count helps."""
    if v.verdict == "not run":
        return f"not run: `{v.command}`" if v.command else "not run"
    if v.verdict == "not measurable":
        return "; ".join(t for t in (measure_reason_text(r) for r in v.reasons) if t) or "no usable pair"
    if v.deterministic:
        return "deterministic: one run is the whole experiment"
    if v.decided:
        at = v.looks[-1].n if v.looks else v.n
        return f"decided at {at} seeds" + (" (group-sequential)" if v.looks else "")
    if v.seeds_needed is not None:
        return (f"more than {v.seeds_needed} seeds would be needed" if v.seeds_needed_capped
                else f"about {v.seeds_needed} seeds would decide it")
    return "open"


def table(headlines: Sequence[Verdict]) -> str:
    """The summary table as GitHub Markdown: one row per claim."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for v in headlines:
        cells = (v.claim, f"**{v.verdict}**", effect_ci(v), n_text(v), v.metric, where(v), values(v), power(v))
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def _same_comparison(head: Verdict, rows: Sequence[Verdict]) -> list[Verdict]:
    return [v for v in rows if v.claim == head.claim and v.experiment == head.experiment
            and v.metric == head.metric and v.arms == head.arms and not v.illustration
            and (v.condition, v.lr) != (head.condition, head.lr)]


def _counted(rows: Sequence[Verdict]) -> str:
    counts = Counter(v.verdict for v in rows)
    return ", ".join(f"{counts[k]} {k}" for k in VERDICTS if counts[k])


def headline_lines(headlines: Sequence[Verdict], everything: Sequence[Verdict]) -> list[str]:
    """One Markdown bullet per headline: its finding, its power line, and how the same comparison
    came out in every other setting (so 'holds only under some setups' is a count, not a pick)."""
    out = []
    setups = setup_dependence(headlines, everything)
    for v in headlines:
        others = _same_comparison(v, everything)
        elsewhere = (f" The same comparison in {len(others)} other settings: {_counted(others)}." if others else "")
        setup = f" Setup: {measure_reason_text(setups[v.claim])}." if v.claim in setups else ""
        nielsen = _beside(v, others)
        book = (f" At Nielsen's initialisation (init=normal, N(0, 1) weights): {nielsen.verdict}, {effect_ci(nielsen)}."
                if nielsen is not None else "")
        beside = "".join(f" Beside it, {c.metric}: {c.verdict}, {effect_ci(c)}." for c in _companions(v, everything))
        out.append(f"- **{v.claim}** — {v.verdict}, {effect_ci(v)} ({power(v)}). {sentence(v)}{elsewhere}{setup}"
                   f"{book}{beside}")
    return out


def _companions(head: Verdict, rows: Sequence[Verdict]) -> list[Verdict]:
    """The claim's other measures of the same arms in the headline's condition and rate setting (label
    noise at the last and at the best-validation epoch; convergence in steps and over the first epoch)."""
    return [v for v in rows if v.claim == head.claim and v.experiment == head.experiment and v.metric != head.metric
            and v.arms == head.arms and v.condition == head.condition and v.lr_mode == head.lr_mode
            and not v.illustration]


def _beside(head: Verdict, others: Sequence[Verdict]) -> Verdict | None:
    """The same comparison at Nielsen's large-weight initialisation, the rest of the setup as the headline's."""
    if dict(head.condition_keys).get("init") in (None, "normal"):
        return None
    want = {**dict(head.condition_keys), "init": "normal"}
    return next((v for v in others if dict(v.condition_keys) == want and v.lr_mode == head.lr_mode), None)


def totals(everything: Sequence[Verdict]) -> str:
    """The counts over every comparison: raw, and with the false discovery rate held at 5%."""
    measured = [v for v in everything if not v.illustration and v.verdict != "not run"]
    held = tally(everything)
    return (f"Over all {len(measured)} comparisons (every condition, learning rate and pair of arms; "
            f"illustrations and experiments not run apart): {_counted(measured)}; with the false discovery rate held at 5% "
            f"(Benjamini–Hochberg): " + ", ".join(f"{n} {k}" for k, n in held.items() if n) + ".")


def render(db: str) -> str:
    """The whole block for the README from the database at `db`."""
    headlines = judge(db)
    everything = judge(db, all_conditions=True)
    return "\n".join([table(headlines), "", *headline_lines(headlines, everything), "", totals(everything), ""])


def main(argv: Sequence[str] | None = None) -> None:
    """Print the README block of a database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the database (path or SQLAlchemy URL)")
    print(render(parser.parse_args(argv).db))


if __name__ == "__main__":
    main()
