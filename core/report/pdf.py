"""The report as a PDF typeset by Typst (its Python package carries the compiler and default fonts):
charts placed as SVG (vector), a table of contents, page numbers. No network and no system fonts."""

from __future__ import annotations

import json
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from lossdb.core import jsontext
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
    summary_table,
)

TEMPLATE = "report.typ"
# Typst writes `/MarkInfo<</Marked true/Suspects false>>` in the catalogue; poppler (pdfinfo, pdftotext,
# Evince) reads any /Suspects that is not `true` as "Suspects object is wrong type (boolean)". An absent
# /Suspects means false, so it is blanked out byte for byte (the cross-reference offsets stay right).
SUSPECTS = (b"/MarkInfo<</Marked true/Suspects false>>", b"/MarkInfo<</Marked true" + b" " * 15 + b">>")


def _table(t: Table) -> dict[str, Any]:
    return {"head": list(t.head), "rows": [list(r) for r in t.rows]}


def _section(s: Section) -> dict[str, Any]:
    intro = section_intro(s)
    conditions = []
    for cond in s.conditions:
        note = f"{CHOSEN_NOTE} Final metrics are mean ± sd across seeds." if has_chosen_mark(cond) else \
            "Final metrics are mean ± sd across seeds."
        conditions.append({"name": cond.name, "table": _table(arm_table(cond)), "note": note,
                           "charts": [{"file": f"charts/{c.id}.svg", "caption": c.caption} for c in cond.charts]})
    left_out = (f"{s.charts_left_out} more charts of this experiment are left out to keep the report short; "
                "the dashboard's Convergence page draws every one.") if s.charts_left_out else ""
    return {"name": s.name, "description": intro["description"], "protocol": intro["protocol"],
            "claims": intro["claims"], "status": intro["status"],
            "settings": [list(r) for r in settings_table(s).rows], "conditions": conditions,
            "left_out": left_out, "notable": _table(notable_table(s))}


def document(data: ReportData) -> dict[str, Any]:
    """What the Typst template reads (data.json): every string formatted for the reader."""
    return {"title": data.title,
            "subtitle": f"{data.date} · lossdb {data.provenance.lossdb_version} · {data.provenance.database}",
            "date": data.date, "abstract": data.abstract, "summary": _table(summary_table(data)),
            "not_run": not_run_text(data), "sections": [_section(s) for s in data.sections],
            "cards": [{"heading": h, "answers": a, "bottom": b, "command": c} for h, a, b, c in card_blocks(data)],
            "provenance": [list(r) for r in provenance_table(data).rows]}


def _sources(root: Path, data: ReportData, svgs: dict[str, str]) -> Path:
    """Write the template, data.json and the charts into `root`; the template's path."""
    template = resources.files("lossdb.core.report").joinpath(TEMPLATE).read_text(encoding="utf-8")
    (root / "charts").mkdir()
    for chart_id, svg in svgs.items():
        (root / "charts" / f"{chart_id}.svg").write_text(svg, encoding="utf-8")
    (root / "data.json").write_text(jsontext.dumps(document(data)), encoding="utf-8")
    main = root / TEMPLATE
    main.write_text(template, encoding="utf-8")
    return main


def render(data: ReportData, svgs: dict[str, str]) -> bytes:
    """The PDF's bytes."""
    import typst

    with tempfile.TemporaryDirectory(prefix="lossdb-report-") as tmp:
        main = _sources(Path(tmp), data, svgs)
        pdf = typst.compile(str(main), root=str(tmp), ignore_system_fonts=True, format="pdf")
    return pdf.replace(*SUSPECTS)


def contents(data: ReportData, svgs: dict[str, str]) -> list[tuple[int, str]]:
    """The table of contents as Typst lays it out: (level, heading text) of every outlined heading."""
    import typst

    with tempfile.TemporaryDirectory(prefix="lossdb-report-") as tmp:
        main = _sources(Path(tmp), data, svgs)
        found = json.loads(typst.query(str(main), "heading.where(outlined: true)", root=str(tmp),
                                       ignore_system_fonts=True))
    return [(int(h["level"]), _plain(h["body"])) for h in found]


def _plain(content: Any) -> str:
    """The text of a Typst content tree (as `typst query` returns it)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_plain(c) for c in content)
    if isinstance(content, dict):
        if content.get("func") == "space":
            return " "
        if "text" in content:
            return str(content["text"])
        return "".join(_plain(v) for k, v in content.items() if k in ("children", "body"))
    return ""
