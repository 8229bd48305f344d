"""The one TOML line finder: where a setting is written in an experiment file, for error messages."""

from __future__ import annotations

import re

_HEADER = re.compile(r"\s*\[\[?\s*([\w.-]+)\s*\]\]?")


def line_of(text: str, section: str, key: str, index: int | None = None) -> int | None:
    """The line where `key` is set inside [section] (or any [[section]] table), if it can be found;
    with `index`, inside the index-th [[section]] table only, and that table's header line when the
    key is not set in it."""
    seen, inside, header = -1, False, None
    for n, line in enumerate(text.splitlines(), 1):
        head = _HEADER.match(line)
        if head:
            inside = head[1] == section and (index is None or line.lstrip().startswith("[["))
            seen += inside
            header = n if index is not None and inside and seen == index else header
        elif inside and (index is None or seen == index) and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return n
    return header
