"""The report as a reader sees it: every cell a formatted string, shared by HTML, Markdown and PDF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lossdb.core.present import display, cells as present
from lossdb.core.present.levels import level_text
from lossdb.core.present.numbers import MISSING, lr_text, mean_sd, plural
from lossdb.core.report.model import Condition, ReportData, Section

SUMMARY_HEAD = present.SUMMARY_COLUMNS


@dataclass(frozen=True)
class Table:
    """A table of strings: a header row and body rows of equal length."""

    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def summary_table(data: ReportData) -> Table:
    """One row per claim, as `lossdb compare` lists them (the presenter's columns and cells)."""
    rows = tuple(tuple(r[c] for c in SUMMARY_HEAD) for r in present.summary_rows(list(data.summary)))
    return Table(SUMMARY_HEAD, rows)


def summary_level(data: ReportData) -> str:
    """The level of the summary table's intervals ("Headlines: 99.55% intervals, family of 11 …")."""
    return level_text(list(data.summary))


def arm_table(cond: Condition) -> Table:
    """Per arm and learning rate: runs, then each final metric as mean ± sd across seeds."""
    head = ("arm", "lr", "runs", *(display.title(m) for m in cond.metrics))
    rows = []
    for a in cond.arms:
        runs = str(a.runs) + "".join(f", {n} {s}" for s, n in sorted(a.statuses.items()) if s != "finished")
        lr = lr_text(a.lr) + (" ★" if a.chosen and _several_lrs(cond, a.label) else "")
        rows.append((a.label, lr, runs, *(mean_sd(a.metrics[m].mean, a.metrics[m].sd) for m in cond.metrics)))
    return Table(head, tuple(rows))


def _several_lrs(cond: Condition, label: str) -> bool:
    return sum(a.label == label for a in cond.arms) > 1


def has_chosen_mark(cond: Condition) -> bool:
    """True when the table marks a chosen learning rate with ★."""
    return any(a.chosen and _several_lrs(cond, a.label) for a in cond.arms)


CHOSEN_NOTE = ("★ the learning rate chosen for that arm on validation over all seeds (core.judging.lrchoice); "
               "the verdicts apply the same rule on one half of the seeds to measure the other half.")


def notable_table(section: Section) -> Table:
    """The runs that diverged, failed, were interrupted or are still running: one row per arm,
    rate, condition and what happened, with its seeds (the JSON report lists every run)."""
    groups: dict[tuple[str, float, str, str, str], list[int]] = {}
    for n in section.notable:
        groups.setdefault((n.label, n.lr, n.status, n.condition, n.detail), []).append(n.seed)
    rows = tuple((str(len(seeds)), label, lr_text(lr), seeds_text(seeds), status, condition, detail)
                 for (label, lr, status, condition, detail), seeds in groups.items())
    return Table(("runs", "arm", "lr", "seeds", "status", "condition", "what happened"), rows)


def seeds_text(seeds: list[int], most: int = 6) -> str:
    """Seeds as runs of consecutive numbers ("0–4, 7, 9–12"), the first `most` of them and "…"."""
    spans: list[list[int]] = []
    for seed in sorted(set(seeds)):
        if spans and seed == spans[-1][1] + 1:
            spans[-1][1] = seed
        else:
            spans.append([seed, seed])
    parts = [f"{a}" if a == b else f"{a}–{b}" for a, b in spans]
    return ", ".join(parts[:most]) + (", …" if len(parts) > most else "")


def settings_table(section: Section) -> Table:
    """The protocol settings as two columns."""
    return Table(("setting", "value"), tuple((k, v) for k, v in section.settings.items()))


def status_line(section: Section) -> str:
    """"36 runs: 33 finished, 3 diverged"."""
    parts = ", ".join(f"{n} {s}" for s, n in sorted(section.statuses.items(), key=lambda kv: -kv[1]))
    return f"{plural(section.runs, 'run')}: {parts}" if section.runs else "no runs"


def provenance_table(data: ReportData) -> Table:
    """Versions, commit, database, run counts, time span and the command."""
    p = data.provenance
    status = ", ".join(f"{n} {s}" for s, n in sorted(p.runs_by_status.items(), key=lambda kv: -kv[1]))
    rows: list[tuple[str, str]] = [
        ("lossdb", p.lossdb_version or MISSING), ("numpy", p.numpy_version or MISSING),
        ("Python", p.python_version or MISSING), ("git commit", p.git_commit or "not a git checkout"),
        ("database", f"`{p.database}`"),
        ("runs", f"{plural(p.runs, 'run')} in {plural(p.experiments, 'experiment')}" + (f" ({status})" if status else "")),
        ("runs made", f"{p.first_run} to {p.last_run}" if p.first_run else "no runs yet"),
        ("runs made with", "; ".join(p.run_versions) or MISSING),
        ("data digests", "; ".join(p.data_digests) or MISSING),
        ("report made", data.date),
        ("reproduce this report", f"`{p.command}`"),
    ]
    return Table(("", ""), tuple(rows))


def not_run_text(data: ReportData) -> str:
    """A sentence naming the catalogue experiments the claims need that have no runs, with the command
    (or, when the database holds only the user's experiments, one line on how to run the catalogue)."""
    if data.catalogue_hidden and not data.not_run:
        from lossdb.core.present.card import CATALOGUE_HINT

        return CATALOGUE_HINT
    if not data.not_run:
        return ""
    names = ", ".join(data.not_run)
    return (f"Not yet run: {names}. The claims they test show \"not run\"; "
            f"`lossdb run {' '.join(data.not_run)}` measures them.")


def card_blocks(data: ReportData) -> list[tuple[str, list[str], list[str], str]]:
    """Each recommendation card as (heading, answers, bottom line and open questions, command line)."""
    out = []
    for c in data.cards:
        command = f"To decide what is open ({c.cost_text}): `{c.command}`" if c.command else ""
        out.append((f"Which loss for {c.dataset}?", [x.text for x in c.answers],
                    [x.text for x in (*c.bottom_line, *c.still_open)], command))
    return out


def section_intro(section: Section) -> dict[str, Any]:
    """The text before a section's tables: what it tests and why, which claims, how many runs."""
    claims = ", ".join(section.claims) if section.claims else "no claim of the catalogue"
    return {"description": section.description or "A user-defined experiment (no description given).",
            "protocol": section.protocol, "claims": f"Claims tested: {claims}.", "status": status_line(section)}
