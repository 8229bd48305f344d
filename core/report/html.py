"""The report as one self-contained HTML file: inline CSS, inline SVG charts, no network request.

With `interactive`, the Vega runtime (vega, vega-lite, vega-embed, bundled by vl-convert) is
embedded once and each chart's static SVG is replaced by a live chart that zooms (scroll and drag
on its scales) and shows tooltips; without JavaScript, or in print, the SVG stays.

"No external URL" here means no *fetching* reference: no src= or href= to http(s), no CSS
@import or url(http…). The only "http" strings left in the static file are the SVG namespace
identifiers (xmlns="http://www.w3.org/2000/svg"), which are names that a browser never fetches.
"""

from __future__ import annotations

import copy
import json
import re
from html import escape
from importlib import resources
from typing import Any

from lossdb.core.report.figures import Chart
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


def css() -> str:
    """The report's stylesheet (core/report/report.css)."""
    return resources.files("lossdb.core.report").joinpath("report.css").read_text(encoding="utf-8")


def inline(text: str) -> str:
    """Escaped text with `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def anchor(name: str) -> str:
    """The id of an experiment's section."""
    return "exp-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name)


def table(t: Table, cls: str = "", verdict_col: int | None = None, numeric: set[int] | None = None) -> str:
    """A scrollable <table> of strings; the verdict column is coloured, numeric columns right-aligned."""
    numeric = numeric or set()
    head = "".join(f"<th scope=\"col\">{escape(h)}</th>" for h in t.head)
    body = []
    for row in t.rows:
        cells = []
        for i, cell in enumerate(row):
            if i == verdict_col:
                cells.append(f"<td class=\"verdict verdict-{cell.replace(' ', '-')}\">{escape(cell)}</td>")
            else:
                cls_attr = " class=\"num\"" if i in numeric else (" class=\"finding\"" if t.head[i] == "finding" else "")
                cells.append(f"<td{cls_attr}>{inline(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<div class=\"scroll\"><table class=\"{cls}\"><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def kv_table(t: Table) -> str:
    """A two-column table of labels and values."""
    rows = "".join(f"<tr><th scope=\"row\">{escape(k)}</th><td>{inline(v)}</td></tr>" for k, v in t.rows)
    return f"<div class=\"scroll\"><table class=\"kv\"><tbody>{rows}</tbody></table></div>"


def figure(chart: Chart, svg: str) -> str:
    """A chart as <figure> with its inline SVG and caption."""
    return (f"<figure id=\"{chart.id}\"><div class=\"chart\" id=\"view-{chart.id}\">{svg}</div>"
            f"<figcaption>{escape(chart.caption)}</figcaption></figure>")


def section(s: Section, svgs: dict[str, str]) -> str:
    """One experiment's section."""
    intro = section_intro(s)
    out = [f"<section id=\"{anchor(s.name)}\"><h2>Experiment: {escape(s.name)}</h2>",
           f"<p>{inline(intro['description'])}</p>"]
    if intro["protocol"]:
        out.append(f"<p>{inline(intro['protocol'])}</p>")
    out += [f"<p class=\"note\">{escape(intro['claims'])} {escape(intro['status'])}.</p>",
            "<h3>Protocol</h3>", kv_table(settings_table(s))]
    if not s.conditions:
        out.append("<p class=\"empty\">No run of this experiment finished, so it has no charts or final metrics.</p>")
    for cond in s.conditions:
        out.append(f"<h3>{escape(cond.name)}</h3>")
        out += [figure(c, svgs[c.id]) for c in cond.charts]
        t = arm_table(cond)
        out.append(table(t, "arms", numeric=set(range(1, len(t.head)))))
        if has_chosen_mark(cond):
            out.append(f"<p class=\"note\">{escape(CHOSEN_NOTE)} Final metrics are mean ± sd across seeds.</p>")
    if s.charts_left_out:
        out.append(f"<p class=\"note\">{s.charts_left_out} more charts of this experiment are left out to keep the "
                   "report short; the dashboard's Convergence page draws every one.</p>")
    out.append("<h3>Notable runs</h3>")
    out.append(table(notable_table(s), "notable", numeric={0, 2}) if s.notable
               else "<p>None: every run of this experiment finished.</p>")
    out.append("</section>")
    return "\n".join(out)


def render(data: ReportData, svgs: dict[str, str], interactive: bool = False) -> str:
    """The whole report as one HTML document."""
    toc = ["<li><a href=\"#abstract\">Abstract</a></li>", "<li><a href=\"#summary\">Summary comparison</a></li>"]
    toc += [f"<li><a href=\"#{anchor(s.name)}\">Experiment: {escape(s.name)}</a></li>" for s in data.sections]
    toc.append("<li><a href=\"#provenance\">Provenance</a></li>")
    missing = not_run_text(data)
    body = [
        f"<header><h1>{escape(data.title)}</h1><p class=\"meta\">{escape(data.date)} · lossdb "
        f"{escape(data.provenance.lossdb_version)} · {escape(data.provenance.database)}</p></header>",
        f"<nav class=\"toc\" aria-label=\"Contents\"><strong>Contents</strong><ol>{''.join(toc)}</ol></nav>",
        f"<section id=\"abstract\"><h2>Abstract</h2><p>{inline(data.abstract)}</p></section>",
        "<section id=\"summary\"><h2>Summary comparison</h2>",
        "<p class=\"note\">One row per claim: its headline comparison, each arm's mean measure, the verdict, "
        "the effect in the claim's direction with its confidence interval across paired seeds (Bonferroni-adjusted over the headlines), "
        "the number of pairs, and the finding.</p>",
        table(summary_table(data), "summary", verdict_col=1, numeric={3}),
        f"<p class=\"note\">{inline(summary_level(data))}</p>" if summary_level(data) else "",
        f"<p class=\"note\">{inline(missing)}</p>" if missing else "",
        "</section>",
    ]
    for heading, answers, bottom, command in card_blocks(data):
        body.append(f"<section class=\"card\"><h2>{escape(heading)}</h2><ul>"
                    + "".join(f"<li>{escape(a)}</li>" for a in answers) + "</ul>"
                    + "".join(f"<p>{escape(b)}</p>" for b in bottom)
                    + (f"<p class=\"note\">{inline(command)}</p>" if command else "") + "</section>")
    if not data.sections:
        body.append("<p class=\"empty\">The database holds no runs of the selected experiments yet: "
                    "<code>lossdb run --preset quick</code> fills it in about a minute.</p>")
    body += [section(s, svgs) for s in data.sections]
    body += ["<section id=\"provenance\"><h2>Provenance</h2>", kv_table(provenance_table(data)), "</section>"]
    scripts = _interactive(data) if interactive else ""
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<meta name=\"generator\" content=\"lossdb {escape(data.provenance.lossdb_version)}\">"
            f"<title>{escape(data.title)}</title><style>{css()}</style></head>\n"
            f"<body><main>\n{chr(10).join(b for b in body if b)}\n</main>{scripts}</body></html>\n")


def live_spec(chart: Chart) -> dict[str, Any]:
    """The chart's spec with zoom and pan bound to its scales (on the top layer)."""
    spec = copy.deepcopy(chart.spec)
    layers = spec.get("layer") or []
    if layers:
        layers[-1].setdefault("params", []).append({"name": "zoom", "select": "interval", "bind": "scales"})
    return spec


def _script_json(value: Any) -> str:
    # Inside <script> the HTML parser looks for "</script" and "<!--" before JavaScript sees the
    # text: escape <, > and & so no label can end or comment out the script; U+2028/2029 end
    # lines in older JavaScript. Each is a \\u sequence, which JSON and JavaScript read back as is.
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _interactive(data: ReportData) -> str:
    """The Vega runtime once, then one vegaEmbed call per chart (the SVG stays if it fails)."""
    import vl_convert as vlc

    bundle = vlc.javascript_bundle().replace("</script", "<\\/script")
    specs = {c.id: live_spec(c) for c in data.charts}
    boot = ("(function(){var specs=" + _script_json(specs) + ";"
            "Object.keys(specs).forEach(function(id){var el=document.getElementById('view-'+id);"
            "if(!el||!window.vegaEmbed)return;"
            "vegaEmbed(el,specs[id],{actions:false,renderer:'svg'}).catch(function(){});});})();")
    return f"<script>{bundle}</script><script>{boot}</script>"
