"""`lossdb compare`: the summary comparison table — each claim, the verdict, the effect, the finding."""

from __future__ import annotations

import csv
import io
import textwrap
from typing import Annotated

import typer

from lossdb.cli import tables
from lossdb.cli.options import DATASET_HELP, DbOption, choice, format_option

FORMATS = ("table", "markdown", "csv", "json")


def compare(
    experiment: Annotated[list[str] | None, typer.Option(
        "--experiment", "-e", help="Only claims tested by this experiment (repeatable).")] = None,
    claim: Annotated[list[str] | None, typer.Option(
        "--claim", help="Only this claim (repeatable), e.g. convergence.")] = None,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", "-d", metavar="DATA",
        help=f"{DATASET_HELP}. Only the claims judged on it, after its recommendation card.")] = None,
    verdict: Annotated[list[str] | None, typer.Option(
        "--verdict", help="Only rows with this verdict (repeatable): supported, contradicted, equivalent, "
                          "inconclusive, not measurable, not run.")] = None,
    fmt: Annotated[str, format_option(FORMATS)] = "table",
    all_conditions: Annotated[bool, typer.Option(
        "--all-conditions", help="Every condition, learning rate and pair of arms, grouped by claim.")] = False,
    wide: Annotated[bool, typer.Option(
        "--wide", help="The table with every column, the finding wrapped, as wide as the terminal "
                       "(200 columns when piped).")] = False,
    estimator: Annotated[str, typer.Option(
        "--estimator", help="Continuous paired measures: t (the mean of the per-seed differences, "
                            "Student-t) or robust (their median, with the distribution-free sign-test "
                            "interval: for skewed or heavy-tailed differences).")] = "t",
    db: DbOption = None,
) -> None:
    """Print the summary comparison table: each claim, its verdict, the effect with its interval, n.

    Example: lossdb compare --all-conditions --claim convergence --verdict inconclusive
    """
    from lossdb.core.judging import VERDICTS
    from lossdb.core.judging import judge_db as judge
    from lossdb.core.present import terminal

    verdict = [choice(v, tuple(VERDICTS), "verdict") for v in verdict] if verdict else verdict
    rows = judge(db, experiments=experiment, claims=claim, verdicts=verdict, all_conditions=all_conditions,
                 dataset=dataset, estimator=estimator)
    if all_conditions:
        rows = tables.headline_first(rows)
    if dataset is not None and fmt == "table":
        from lossdb.core.present import card_of, card_text

        plain = not (experiment or claim or verdict or all_conditions)
        width = tables.columns(80)
        typer.echo(card_text(card_of(db, dataset, rows if plain else None), width) + "\n")
    if fmt == "json":
        from lossdb.core.jsontext import dumps
        from lossdb.core.present import as_json

        typer.echo(dumps([as_json(v) for v in rows], indent=2))
    elif fmt == "markdown":
        typer.echo(terminal(markdown(rows), markup=False, newlines=True))
    elif fmt == "csv":
        typer.echo(to_csv(rows), nl=False)
    elif wide:
        _wide(rows)
    else:
        typer.echo(terminal(compact(rows, tables.columns(80), grouped=all_conditions),
                            markup=False, newlines=True))
    _set_aside(db, fmt)
    if fmt == "table" and not (wide or all_conditions) and dataset is None:
        from lossdb.core.judging import catalogue_hidden_in, stored_experiments
        from lossdb.core.present import CATALOGUE_HINT
        from lossdb.core.present import until_decided_hint

        width = max(tables.columns(80), 60)
        hint = until_decided_hint(rows, stored_experiments(db), db)
        if hint:
            typer.echo("\n" + terminal(textwrap.fill(hint, width, break_on_hyphens=False), markup=False, newlines=True))
        if catalogue_hidden_in(db):
            typer.echo("\n" + textwrap.fill(CATALOGUE_HINT, width))


def _set_aside(db: str | None, fmt: str) -> None:
    """Say how many stored runs of another engine version no verdict uses: after the table, or on
    stderr beside a machine-readable format."""
    from lossdb.core.present import set_aside_note

    note = set_aside_note(db)
    if note:
        typer.echo(("\n" + textwrap.fill(note, max(tables.columns(80), 60))) if fmt == "table" else note,
                   err=fmt != "table")


def markdown(rows: list) -> str:
    """The comparison as a GitHub-flavoured Markdown table (the presenter's columns)."""
    from lossdb.core.present import SUMMARY_COLUMNS, markdown_cell, summary_row

    lines = ["| " + " | ".join(SUMMARY_COLUMNS) + " |", "|" + "---|" * len(SUMMARY_COLUMNS)]
    for v in rows:
        r = summary_row(v)
        cells = {c: markdown_cell(r[c]) for c in SUMMARY_COLUMNS}
        cells["verdict"] = f"**{cells['verdict']}**"
        lines.append("| " + " | ".join(cells[c] for c in SUMMARY_COLUMNS) + " |")
    return "\n".join(lines)


def to_csv(rows: list) -> str:
    """The comparison as CSV with the presenter's columns."""
    from lossdb.core.present import SUMMARY_COLUMNS, csv_row, summary_row

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(SUMMARY_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_row(summary_row(v)) for v in rows)
    return out.getvalue()


def compact(rows: list, width: int = 80, *, grouped: bool = False) -> str:
    """A plain table that fits `width` columns: claim, verdict, effect [CI], n, and under each row a
    one-line gist; claim names are never cut (the gist is)."""
    from lossdb.core.present import effect_ci, level_text, n_text, one_line

    width = max(width, 60)
    cells = [(v.claim, v.verdict, effect_ci(v), n_text(v)) for v in rows]
    w_claim = max([len("claim"), *(len(c[0]) for c in cells)])
    w_verdict = max([len("verdict"), *(len(c[1]) for c in cells)])
    w_n = max([1, *(len(c[3]) for c in cells)])
    w_effect = max(10, min(width - w_claim - w_verdict - w_n - 6, max([0, *(len(c[2]) for c in cells)])))
    head = f"{'claim':<{w_claim}}  {'verdict':<{w_verdict}}  {'effect [CI]':<{w_effect}}  {'n':>{w_n}}"
    lines = [head.rstrip(), "-" * min(width, len(head))]
    last = None
    for v, (c, verdict, effect, n) in zip(rows, cells, strict=True):
        if grouped and c != last and last is not None:
            lines.append("")
        shown = c if not grouped or c != last else ""
        last = c
        effect = effect if len(effect) <= w_effect else effect[: w_effect - 1] + "…"
        lines.append(f"{shown:<{w_claim}}  {verdict:<{w_verdict}}  {effect:<{w_effect}}  {n:>{w_n}}".rstrip())
        where = v.condition or v.experiment
        gist = (("★ headline · " if v.headline else "") + f"{where}: {one_line(v)}") if grouped \
            else f"{v.metric}; {where}"
        if not grouped and v.lr:
            gist += f"; lr {v.lr}"
        if grouped:  # the condition names the row: wrapped, never cut
            lines.extend(textwrap.wrap(gist, width, initial_indent="  ", subsequent_indent="    "))
        else:
            lines.append("  " + (gist if len(gist) + 2 <= width else gist[: width - 3] + "…"))
    lines.append("")
    footer = ["Effects are in the claim's direction (> 0, or > 1×, favours the claim). "
              "--wide or --format markdown shows every finding.", level_text(rows)]
    return "\n".join([*lines, *(textwrap.fill(f, width) for f in footer if f)])


WIDE_TABLE = 120  # narrower terminals get --wide as one block per row: eight columns would not read


def _wide(rows: list) -> None:
    from rich.console import Console
    from rich.table import Table

    from lossdb.core.present import SUMMARY_COLUMNS, VERDICT_COLORS, level_text, summary_row
    from lossdb.core.present import terminal as escape

    width = tables.columns(200)
    if width < WIDE_TABLE:
        typer.echo(tables.records([summary_row(v) for v in rows], width, ("claim", "verdict", "effect [CI]", "n")))
        return
    table = Table(title="lossdb: the claims, measured", show_lines=True)
    for col in SUMMARY_COLUMNS:
        table.add_column(col, no_wrap=col in ("claim", "verdict"), overflow="fold",
                         ratio=3 if col == "finding" else None)
    for v in rows:
        r = summary_row(v)
        table.add_row(*(f"[{VERDICT_COLORS.get(v.verdict, 'white')}]{escape(r[c])}[/]" if c == "verdict"
                        else escape(r[c]) for c in SUMMARY_COLUMNS))
    table.caption = escape(level_text(rows))
    Console(width=width).print(table)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(compare)
