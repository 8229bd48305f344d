"""The report as GitHub-flavoured Markdown; its charts are SVG files in a folder beside it."""

from __future__ import annotations

from urllib.parse import quote

from lossdb.core.present.markdown import cell, text
from lossdb.core.report.model import ReportData, Section
from lossdb.core.report.view import (
    CHOSEN_NOTE,
    Table,
    arm_table,
    has_chosen_mark,
    card_blocks,
    not_run_text,
    notable_table,
    provenance_table,
    section_intro,
    settings_table,
    summary_level,
    summary_table,
)


def table(t: Table, bold: int | None = None) -> str:
    """A GFM table (column `bold` in bold)."""
    lines = ["| " + " | ".join(cell(h) or " " for h in t.head) + " |", "|" + "---|" * len(t.head)]
    for row in t.rows:
        cells = [f"**{cell(c)}**" if i == bold else cell(c) for i, c in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def kv(t: Table) -> str:
    """A two-column table with the labels in bold."""
    lines = ["| | |", "|---|---|"] + [f"| **{cell(k)}** | {cell(v)} |" for k, v in t.rows]
    return "\n".join(lines)


def anchor(text: str) -> str:
    """GitHub's heading anchor: lower case, spaces to dashes, punctuation dropped."""
    kept = "".join(ch for ch in text.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def section(s: Section, files: str) -> list[str]:
    """One experiment's section; charts link to `files`/<id>.svg."""
    intro = section_intro(s)
    out = [f"## Experiment: {text(s.name)}", "", text(intro["description"], block=True), ""]
    if intro["protocol"]:
        out += [text(intro["protocol"], block=True), ""]
    out += [f"_{text(intro['claims'])} {text(intro['status'])}._", "", "### Protocol", "", kv(settings_table(s)), ""]
    if not s.conditions:
        out += ["> No run of this experiment finished, so it has no charts or final metrics.", ""]
    for cond in s.conditions:
        out += [f"### {text(cond.name)}", ""]
        for c in cond.charts:
            out += [f"![{text(c.metric)}, {text(cond.name)}]({quote(files)}/{quote(c.id)}.svg)", "",
                    f"_{text(c.caption)}_", ""]
        out += [table(arm_table(cond)), ""]
        if has_chosen_mark(cond):
            out += [f"{text(CHOSEN_NOTE)} Final metrics are mean ± sd across seeds.", ""]
    if s.charts_left_out:
        out += [f"{s.charts_left_out} more charts of this experiment are left out to keep the report short; "
                "the dashboard's Convergence page draws every one.", ""]
    out += ["### Notable runs", ""]
    out += [table(notable_table(s)) if s.notable else "None: every run of this experiment finished.", ""]
    return out


def render(data: ReportData, files: str) -> str:
    """The report as Markdown whose images are `files`/<chart id>.svg (relative to the .md file)."""
    toc = ["- [Abstract](#abstract)", "- [Summary comparison](#summary-comparison)"]
    toc += [f"- [Experiment: {text(s.name)}](#{anchor('Experiment: ' + s.name)})" for s in data.sections]
    toc.append("- [Provenance](#provenance)")
    out = [f"# {text(data.title)}", "", f"_{text(data.date)} · lossdb {text(data.provenance.lossdb_version)}_", "",
           *toc, "", "## Abstract", "", text(data.abstract, block=True), "", "## Summary comparison", "",
           table(summary_table(data), bold=1), ""]
    if summary_level(data):
        out += [text(summary_level(data), block=True), ""]
    missing = not_run_text(data)
    if missing:
        out += [text(missing, block=True), ""]
    for heading, answers, bottom, command in card_blocks(data):
        out += [f"## {text(heading)}", "", *(f"- {text(a)}" for a in answers), ""]
        out += [*(text(b, block=True) + "\n" for b in bottom)]
        if command:
            out += [text(command, block=True), ""]
    if not data.sections:
        out += ["> The database holds no runs of the selected experiments yet: `lossdb run --preset quick` "
                "fills it in about a minute.", ""]
    for s in data.sections:
        out += section(s, files)
    out += ["## Provenance", "", kv(provenance_table(data)), ""]
    return "\n".join(out)
