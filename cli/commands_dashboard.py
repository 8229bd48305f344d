"""`lossdb dashboard`: start the Streamlit dashboard on the database and print its address."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from lossdb.cli.options import DbOption


def app_path() -> Path:
    """The installed dashboard's entry script, located without importing the dashboard."""
    from lossdb.core.errors import ConfigError

    spec = importlib.util.find_spec("lossdb.dashboard")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the lossdb dashboard is not installed: reinstall lossdb (pip install -e .)")
    return Path(list(spec.submodule_search_locations)[0]) / "app.py"


def streamlit_command(app: Path, host: str, port: int) -> list[str]:
    """The `streamlit run` command line (through dashboard.serve, which imports the heavy modules
    before the first page load) that serves `app` on host:port. The database URL is not on it:
    a command line is visible to every local user (`ps`), so the URL goes in $LOSSDB_DB."""
    return [sys.executable, "-m", "lossdb.dashboard.serve", "run", str(app),
            "--server.address", host, "--server.port", str(port), "--server.headless", "true",
            "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]


def dashboard(
    db: DbOption = None,
    port: Annotated[int, typer.Option(min=1, max=65535, metavar="PORT", help="Port to serve on.")] = 8501,
    host: Annotated[str, typer.Option(
        metavar="ADDRESS", help="Address to listen on; 127.0.0.1 keeps it on this machine, 0.0.0.0 exposes it.")] = "127.0.0.1",
) -> None:
    """Open the results in the browser.

    Streamlit serves the summary table and the charts on localhost.

    It only reads the database, so a `lossdb run` can write meanwhile: refresh to see new runs.

    Example: lossdb dashboard --db lossdb.db --port 8502
    """
    from lossdb.core.store import ENV_VAR, describe, open_store, resolve_url


    url = resolve_url(db)
    open_store(url, create=False, read_only=True).close()
    command = streamlit_command(app_path(), host, port)
    typer.echo(f"lossdb dashboard: http://{host}:{port} (database {describe(url)}); Ctrl+C stops it.")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, {**os.environ, ENV_VAR: url})


def register(app: typer.Typer) -> None:
    """Add this command to the app."""
    app.command()(dashboard)
