"""`lossdb compare`: the summary comparison table — each claim, what each arm measured, the verdict."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from cli.options import DbOption
from core.errors import ConfigError

if TYPE_CHECKING:
    from core.claims import Verdict

FORMATS = ("table", "markdown", "json")
COLOURS = {"supported": "green", "contradicted": "red", "inconclusive": "yellow", "not run": "dim"}


def compare(
    experiment: Annotated[list[str] | None, typer.Option(
        "--experiment", "-e", help="Only claims tested by this experiment (repeatable).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, markdown or json.")] = "table",
    all_conditions: Annotated[bool, typer.Option(
        "--all-conditions", help="Every condition, learning rate and pair of arms, not one row per claim.")] = False,
    db: DbOption = None,
) -> None:
    """Print the summary comparison table: each claim, the arms' values, the verdict and the finding.

    Example: lossdb run --preset quick && lossdb compare --format markdown
    """
    from core.claims import CLAIMS, evaluate, summary
    from core.store import open_store

    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    known = sorted({e for c in CLAIMS.values() for e in c.experiments})
    unknown = [e for e in experiment or [] if e not in known]
    if unknown:
        raise ConfigError(f"unknown experiment {unknown[0]!r}; valid: {', '.join(known)}")
    store = open_store(db, create=False, read_only=True)
    try:
        verdicts = evaluate(store, experiment or None)
    finally:
        store.close()
    rows = verdicts if all_conditions else summary(verdicts)
    if fmt == "json":
        typer.echo(json.dumps([v.as_dict() for v in rows], indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        typer.echo(markdown(rows, all_conditions))
    else:
        _table(rows, all_conditions)


def _values(v: Verdict) -> str:
    return "; ".join(f"{k} {x:.3g}" for k, x in v.values.items()) if v.values else ""


def _where(v: Verdict) -> str:
    return ", ".join(p for p in (v.condition, f"lr {v.lr}" if v.lr else "") if p)


def markdown(rows: list[Verdict], all_conditions: bool = False) -> str:
    """The comparison as a GitHub-flavoured Markdown table."""
    head = ["claim", "experiment", "condition", "arms", "values", "verdict", "finding"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for v in rows:
        cells = [v.claim, v.experiment, _where(v), " vs ".join(v.arms), _values(v), f"**{v.verdict}**",
                 v.finding + (f" Run `{v.command}`." if v.command else "")]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _table(rows: list[Verdict], all_conditions: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="lossdb: the claims, measured", show_lines=True, expand=True)
    table.add_column("claim", ratio=2)
    table.add_column("arms and values", ratio=2)
    table.add_column("verdict", width=12, no_wrap=True)  # "contradicted" whole, never "incon…"
    table.add_column("finding", ratio=5)
    for v in rows:
        where = f"{v.experiment}: {_where(v)}" if v.condition else v.experiment
        values = "\n".join(f"{k}: {x:.3g}" for k, x in v.values.items()) or "\n".join(v.arms)
        finding = v.finding + (f" Run: [bold]{v.command}[/bold]" if v.command else "")
        table.add_row(f"{v.claim}\n[dim]{where}[/dim]", values,
                      f"[{COLOURS.get(v.verdict, 'white')}]{v.verdict}[/]", finding)
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(compare)
