"""Text a user typed (descriptions, arm labels, file names, titles), made harmless to show.

`terminal` is the one function every command passes such text through before printing it:
control characters (escape sequences, carriage returns, bidirectional overrides) are shown
escaped, as `\\x1b`, and Rich markup is escaped unless the text is printed without markup.
`csv_cell` keeps a spreadsheet from reading a cell as a formula; `shell` quotes a command line
shown to a reader for pasting.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable

# C0 controls (newline and tab handled apart), DEL, C1 controls, and the Unicode format characters
# that reorder or hide text (bidirectional embeddings, overrides and isolates, line/paragraph separators).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# What Rich reads as a tag: [name], [/], [/name], [#hex], [@click]… (as rich.markup.escape).
_MARKUP = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])", re.IGNORECASE)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: object, *, markup: bool = True, newlines: bool = False) -> str:
    """`text` safe to print: control characters shown escaped (a newline too, unless `newlines`
    keeps a multi-line block's), a tab as a space, and with `markup` Rich tags escaped."""
    out = _CONTROL.sub(_escaped, str(text)).replace("\t", " ")
    if not newlines:
        out = out.replace("\n", "\\n")
    if markup:
        out = _MARKUP.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", out)
    return out


def csv_cell(value: object) -> object:
    """A CSV cell that no spreadsheet evaluates: text starting with = + - @, a tab or a carriage
    return gets a leading ' (a number, even a negative one, stays as it is), control characters
    are shown escaped; anything not text is returned unchanged."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START) and not _number(value):
        value = "'" + value
    return _CONTROL.sub(_escaped, value)


def csv_row(row: dict[str, object]) -> dict[str, object]:
    """Every cell of a CSV row through `csv_cell`."""
    return {k: csv_cell(v) for k, v in row.items()}


def _number(text: str) -> bool:
    """Whether `text` is a plain number such as -0.5 or -inf (what a spreadsheet reads as a number)."""
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text


def shell(words: Iterable[str]) -> str:
    """A command line from its words, each quoted for a POSIX shell (shlex.quote)."""
    return " ".join(shlex.quote(str(w)) for w in words)
