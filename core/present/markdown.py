"""The one Markdown escaper: user text (labels, names, sentences, findings) as literal Markdown,
for `lossdb compare --format markdown`, the Markdown report and the dashboard's text."""

from __future__ import annotations

import re

# Characters that make Markdown (GFM: emphasis, math, strike-through, tables, headings) or HTML out
# of plain text; each is written backslash-escaped, or as an entity for <, > and &. A link or an
# image needs "](" or "][": escaping that "]" is enough, so "[−3.8, 3.8]" stays as it reads.
_MARKDOWN = re.compile(r"([\\`*_#|~$]|\](?=[(\[]))")
_LINE_START = re.compile(r"^(\s*)(?:([-+=\[])|(\d+)\.(?=\s|$))", re.MULTILINE)
_CODE = re.compile(r"(`[^`\n]+`)")


def text(value: str, in_table: bool = False, block: bool = False) -> str:
    """User-supplied text as literal Markdown: no HTML, links, images, headings, lists or math,
    whatever it holds; `code` spans (inert in Markdown) are kept, pipes escaped in a table's.
    A `block` (a paragraph of its own) also has the list and heading markers that start its lines escaped."""
    parts = _CODE.split(value)
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a code span: its content is shown as is, HTML included
            out.append(part.replace("|", "\\|") if in_table else part)
            continue
        part = part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        part = _MARKDOWN.sub(r"\\\1", part)
        out.append(_LINE_START.sub(_line_start, part) if block else part)
    return "".join(out)


def _line_start(m: re.Match[str]) -> str:
    """A list or heading marker at the start of a line, escaped: \\- item, 1\\. item."""
    return f"{m.group(1)}\\{m.group(2)}" if m.group(2) else f"{m.group(1)}{m.group(3)}\\."


def cell(value: str) -> str:
    """A table cell: literal text on one line (pipes escaped)."""
    return text(value.replace("\n", " "), in_table=True)
