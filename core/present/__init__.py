"""The present wing: how numbers, arms and verdicts are shown: table cells, sentences, colours and charts.

Its face: the names other wings, the CLI and the dashboard use, each imported on first use
(core.faces), so importing the package costs nothing.
"""

from lossdb.core.faces import face

__all__, __getattr__, __dir__ = face(__name__, {
    "card_of": "card",
    "card_text": "card",
    "CATALOGUE_HINT": "card",
    "build_card": "card",
    "until_decided_hint": "nextsteps",
    "MISSING": "numbers",
    "join_words": "numbers",
    "lr_text": "numbers",
    "mean_sd": "numbers",
    "num": "numbers",
    "plural": "numbers",
    "BANDS": "display",
    "VERDICT_BADGES": "display",
    "VERDICT_COLORS": "display",
    "label": "display",
    "title": "display",
    "SUMMARY_COLUMNS": "cells",
    "as_json": "cells",
    "effect_ci": "cells",
    "interval_text": "cells",
    "n_text": "cells",
    "one_line": "cells",
    "summary_row": "cells",
    "summary_rows": "cells",
    "values": "cells",
    "markdown_cell": "markdown:cell",
    "markdown_text": "markdown:text",
    "finding": "findings",
    "fragile_text": "findings",
    "sentence": "findings",
    "level_text": "levels",
    "csv_cell": "safetext",
    "csv_row": "safetext",
    "shell": "safetext",
    "terminal": "safetext",
    "compare_command": "nextsteps",
    "planned_text": "nextsteps",
    "set_aside_note": "nextsteps",
    "set_aside_text": "nextsteps",
    "charts": "charts:",
    "display": "display:",
})
