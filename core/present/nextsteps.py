"""Next steps a command prints: the runs a `lossdb run` planned, the command that looks at them, and
the `--until-decided` command (with an estimate of its runs) when a table is mostly inconclusive."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lossdb.core.judging.outcomes import Verdict

MAX_SEEDS = 50  # `lossdb run --until-decided`'s default --max-seeds: no hint proposes more
# Seconds `lossdb run --until-decided` spends beside training: per run in the parent process
# (preparing its stack's data, storing its series), whatever --jobs, and per round (judging the
# open verdicts, starting the next round's stacks). Fitted on the shared 2-core development machine
# (load 8): 8,140 runs of a CSV's ten questions from 2 to 50 seeds, --jobs 2, took 132 s for 45 s of
# training (the runs' wall_seconds), estimated 152 s; calibration on a 300-row CSV from 3 to 50
# seeds, 846 runs, took 29 s, estimated 27 s.
PER_RUN_OVERHEAD = 0.015
PER_ROUND = 1.5


def planned_text(experiments: Sequence[str], counts: Counter[str] | dict[str, int]) -> str:
    """"Planned: convergence@grain (120 runs), calibration@grain (60 runs).": each experiment and its runs."""
    return "Planned: " + ", ".join(f"{name} ({counts.get(name, 0)} runs)" for name in experiments) + "."


def set_aside_text(counts: dict[str, int], current: str) -> str | None:
    """"12 stored runs of engine 2 are set aside …": the runs of other engine versions (`counts`,
    core.analysis.engines.set_aside) that no verdict, chart or report uses, and how to train them
    again under the `current` engine; None when there are none."""
    total = sum(counts.values())
    if not total:
        return None
    from lossdb.core.present.numbers import join_words, plural

    engines = join_words([f"engine {v}" for v in sorted(counts)])
    return (f"{plural(total, 'stored run')} of {engines} {'is' if total == 1 else 'are'} set aside "
            f"(this lossdb is engine {current}, whose numbers differ): verdicts, charts and reports use "
            f"engine {current}'s runs only, and `lossdb run` with the same experiments trains them again "
            f"under engine {current}.")


def set_aside_note(db: str | None) -> str | None:
    """`set_aside_text` for database `db` (opened read-only)."""
    import lossdb.core as core
    from lossdb.core.analysis.engines import set_aside
    from lossdb.core.store import open_store

    with open_store(db, create=False, read_only=True) as store:
        return set_aside_text(set_aside(store), core.ENGINE_VERSION)


def compare_command(dataset_key: str, db: str | None = None) -> str:
    """"Next: lossdb compare --dataset grain" (with the --db given to the run)."""
    import shlex

    return f"Next: lossdb compare --dataset {shlex.quote(dataset_key)}" + (f" --db {shlex.quote(db)}" if db else "")


def shown_path(path: str, folder: str | os.PathLike[str] | None = None) -> str:
    """A data file's path as shown: relative to `folder` (default: the current folder) when it is
    inside it or near it, else as stored."""
    if not os.path.isabs(path):
        return path
    shown = os.path.relpath(path, folder or os.getcwd())
    return path if shown.startswith(".." + os.sep + "..") else shown


def more_seeds(open_rows: Sequence[Verdict], specs: dict[str, dict[str, Any]]) -> tuple[int, int]:
    """(the --max-seeds that would decide the open rows, at most MAX_SEEDS; the runs it would add:
    each open experiment's stored runs per seed times the seeds it lacks)."""
    needed, runs = _more_runs(open_rows, specs)
    return needed, sum(runs.values())


def _more_runs(open_rows: Sequence[Verdict], specs: dict[str, dict[str, Any]]) -> tuple[int, dict[str, int]]:
    """(the --max-seeds of `more_seeds`, {experiment: the runs it would add})."""
    wanted = max((v.seeds_needed or 0) for v in open_rows) or 2 * max(v.n for v in open_rows)
    needed = max(min(wanted, MAX_SEEDS), 1 + max(v.n for v in open_rows))
    runs: dict[str, int] = {}
    for name in dict.fromkeys(v.experiment for v in open_rows):
        e = specs.get(name)
        have = max((v.n for v in open_rows if v.experiment == name), default=0)
        if e and have:
            runs[name] = round(e.get("n_runs", 0) / have) * max(0, needed - have)
    return needed, runs


def workers() -> int:
    """The local processes a suggested `lossdb run` is given (--jobs): this machine's CPUs, at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))


def more_seconds(open_rows: Sequence[Verdict], specs: dict[str, dict[str, Any]], jobs: int = 1) -> float | None:
    """The wall seconds the runs of `more_seeds` would take on `jobs` processes: each experiment's
    added runs times its stored runs' measured training seconds per run, shared by the processes,
    plus PER_RUN_OVERHEAD a run and PER_ROUND for each doubling of the seeds (the rounds of
    --until-decided); None when an experiment that would get runs has none measured."""
    import math

    needed, runs = _more_runs(open_rows, specs)
    rounds = max(1, math.ceil(math.log2(needed / max(1, min(v.n for v in open_rows)))))
    training = 0.0
    for name, n in runs.items():
        e = specs[name]
        if n and not e.get("timed"):
            return None
        training += n * e.get("seconds", 0.0) / max(1, e.get("timed", 0))
    return training / max(1, jobs) + PER_RUN_OVERHEAD * sum(runs.values()) + PER_ROUND * rounds


def until_decided_hint(rows: Sequence[Verdict], stored: Sequence[dict[str, Any]],
                       db: str | None = None) -> str | None:
    """When most measured verdicts of a table are inconclusive, the `--until-decided` command for
    its catalogue experiments with an estimate of the runs it would add; else None."""
    from lossdb.core.experiments.spec import catalogue_names

    measured = [v for v in rows if v.verdict not in ("not run", "not measurable")]
    open_rows = [v for v in measured if v.verdict == "inconclusive" and v.n > 0]
    if not measured or 2 * len(open_rows) <= len(measured):
        return None
    catalogue = set(catalogue_names())
    mine = [v for v in open_rows if v.experiment in catalogue]
    commands = []
    if mine:
        needed, runs = more_seeds(mine, {e["name"]: e for e in stored})
        names = " ".join(dict.fromkeys(v.experiment for v in mine))
        commands.append((f"lossdb run {names} --until-decided --max-seeds {needed}{_db(db)}", runs))
    for key in dict.fromkeys(v.experiment.split("@", 1)[1] for v in open_rows if "@" in v.experiment):
        command, runs = dataset_until_decided([v for v in open_rows if v.experiment.endswith("@" + key)], stored,
                                              db=db)
        if command:
            commands.append((command, runs))
    if not commands:
        return None
    shown = "; ".join(f"{c} (about {r} more runs)" for c, r in commands)
    return f"{len(open_rows)} of {len(measured)} verdicts are inconclusive; more seeds would decide them: {shown}."


def dataset_until_decided(open_rows: Sequence[Verdict], stored: Sequence[dict[str, Any]],
                          folder: str | os.PathLike[str] | None = None,
                          db: str | None = None) -> tuple[str | None, int | None]:
    """For open verdicts on one user's data: `lossdb run EXPERIMENT … --dataset csv:PATH --target T
    --until-decided --max-seeds N [--jobs J]` and the runs it would add, or (None, None)."""
    if not open_rows:
        return None, None
    specs = {e["name"]: e for e in stored}
    mine = [specs[v.experiment] for v in open_rows if v.experiment in specs]
    spec = (mine[0].get("spec") or {}) if mine else {}
    data = spec.get("data", {})
    dataset = str(data.get("dataset", ""))
    if dataset.startswith("csv:"):
        path = str((spec.get("origin") or {}).get("data") or dataset[4:])  # where it was run from, as given
        given = f"csv:{_quoted(shown_path(path, folder))} --target {_quoted(str(data.get('target', 'target')))}"
    elif re.fullmatch(r"[a-z_]+", dataset):  # a bundled set: `lossdb run --dataset iris`
        given = dataset
    else:
        return None, None
    needed, runs = more_seeds(open_rows, specs)
    jobs = workers()
    names = " ".join(dict.fromkeys(v.experiment.split("@", 1)[0] for v in open_rows))  # only the open questions
    command = (f"lossdb run {names} --dataset {given} --until-decided --max-seeds {needed}"
               f"{f' --jobs {jobs}' if jobs > 1 else ''}{_db(db)}")
    return command, runs


def _db(db: str | None) -> str:
    return f" --db {_quoted(db)}" if db else ""


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)
