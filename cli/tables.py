"""How wide a table the CLI lays out: the terminal's width, or a fixed one when the output is piped.

`shutil.get_terminal_size` reads $COLUMNS first, then the terminal; when stdout is a file or a
pipe it gives the fallback, so piped output keeps the same width whatever window it came from.
"""

from __future__ import annotations

import shutil

NARROWEST = 60  # below this no table of ours is readable; narrower terminals get 60 columns and wrap


def columns(piped: int = 80) -> int:
    """The columns to lay a table out in: the terminal's (or $COLUMNS), `piped` when not a terminal."""
    return max(shutil.get_terminal_size((piped, 24)).columns, NARROWEST)


def headline_first(rows: list, key: str = "claim") -> list:
    """Rows grouped by `key` in the order each group first appears, the group's headline row(s) first."""
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(getattr(row, key), []).append(row)
    return [r for group in groups.values() for r in sorted(group, key=lambda r: not r.headline)]


def records(rows: list[dict[str, str]], width: int, title_keys: tuple[str, ...]) -> str:
    """Rows as blocks for a narrow terminal: the `title_keys` cells on one line, then each other
    cell as "name: value" wrapped to `width` (nothing cut), a blank line between blocks."""
    import textwrap

    blocks = []
    for row in rows:
        lines = textwrap.wrap(" · ".join(row[k] for k in title_keys), width, subsequent_indent="  ")
        for key, value in row.items():
            if key not in title_keys and value:
                lines += textwrap.wrap(f"{key}: {value}", width, initial_indent="  ", subsequent_indent="    ")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
