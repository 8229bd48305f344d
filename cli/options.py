"""Option types shared by several commands."""

from typing import Annotated

import typer

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="LOSSDB_DB", show_envvar=True,
                 help="Database: a file path or any SQLAlchemy URL [default: sqlite:///lossdb.db]."),
]
