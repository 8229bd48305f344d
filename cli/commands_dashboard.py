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


LOOPBACK_NAMES = ("localhost",)


def exposure(host: str, port: int) -> str | None:
    """None for a loopback address; for another IP address given explicitly, the warning to print.
    Raises ConfigError for an empty host or a name that is not an address (which could bind
    every interface, or one nobody meant)."""
    import ipaddress

    from lossdb.core.errors import ConfigError

    if host.strip().lower() in LOOPBACK_NAMES:
        return None
    try:
        address = ipaddress.ip_address(host.strip())
    except ValueError:
        shown = host.encode("unicode_escape").decode("ascii")
        raise ConfigError(f"--host {shown!r} is not an IP address: give 127.0.0.1 to keep the dashboard on this "
                          "machine, or an address such as 0.0.0.0 to serve it to other machines") from None
    if address.is_loopback:
        return None
    return (f"Warning: the dashboard listens on {address} port {port}: anyone who can reach that port can read "
            "every run in the database (127.0.0.1 keeps it on this machine).")


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
    from lossdb.core.present import terminal
    from lossdb.core.store import ENV_VAR, describe, open_store, resolve_url


    warning = exposure(host, port)
    host = host.strip()
    url = resolve_url(db)
    open_store(url, create=False, read_only=True).close()
    command = streamlit_command(app_path(), host, port)
    if warning:
        typer.echo(warning, err=True)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(terminal(f"lossdb dashboard: http://{shown}:{port} (database {describe(url)}); Ctrl+C stops it.",
                        markup=False))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, {**os.environ, ENV_VAR: url})


def register(app: typer.Typer) -> None:
    """Add this command to the app."""
    app.command()(dashboard)
