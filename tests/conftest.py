"""Shared fixtures, named for the state they give."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from lossdb.cli import main as cli_main
from lossdb.core.store import Store, open_store
from tests import workers

PG_ENV = "LOSSDB_TEST_PG_URL"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`pytest -n auto` (make test) starts one worker per CPU this process may use."""
    return workers.available_cpus()


@pytest.fixture(scope="session", autouse=True)
def chart_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Rendered report charts go to a folder of the test session, never to the user's cache."""
    folder = tmp_path_factory.mktemp("chart-cache")
    before = os.environ.get("LOSSDB_CACHE_DIR")
    os.environ["LOSSDB_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("LOSSDB_CACHE_DIR", None)
    else:
        os.environ["LOSSDB_CACHE_DIR"] = before


def _fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of $LOSSDB_TEST_PG_URL, dropped afterwards."""
    server_url = os.environ.get(PG_ENV)
    if not server_url:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV}=postgresql+psycopg://USER@HOST:PORT/DB (it is unset)"
        )
    admin = sa.create_engine(
        server_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"lossdb_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        reason = str(exc.orig).strip().splitlines()[0]
        pytest.skip(
            f"PostgreSQL at {sa.make_url(server_url).render_as_string()} is unreachable ({reason})"
        )
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database that does not exist yet: a SQLite file in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lossdb.db'}"
    else:
        yield from _fresh_pg_database()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An open store on a new database migrated to head."""
    opened = open_store(db_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The path of a SQLite file that does not exist yet."""
    return tmp_path / "lossdb.db"


@pytest.fixture(autouse=True)
def keep_main_module() -> Iterator[None]:
    """Streamlit's script runner replaces sys.modules["__main__"] with the app; later tests that
    spawn worker processes would re-run the app in each worker, so put the real one back."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def quick_catalogue_db(tmp_path_factory) -> tuple[str, str]:
    """A SQLite file holding a real `lossdb run --preset quick` of the whole catalogue, and its output
    (built once per test run, however many workers: tests/workers.py)."""
    def build(folder: Path) -> None:
        result = CliRunner().invoke(cli_main.app, ["run", "--preset", "quick", "--jobs", "2",
                                                   "--db", str(folder / "lossdb.db")])
        assert result.exit_code == 0, result.output
        (folder / "output.txt").write_text(result.output, encoding="utf-8")

    folder = workers.shared_folder(workers.run_folder(tmp_path_factory), "quick-catalogue", build)
    return str(folder / "lossdb.db"), (folder / "output.txt").read_text(encoding="utf-8")


def tiny_toml(name: str = "tiny", *, description: str = "a tiny CE-vs-MSE comparison", claims: str = "",
              dataset: str = "iris", hidden: str = "[8]", lr: str = "[0.1, 0.5]", batch_size: int = 16,
              epochs: int = 3, seeds: int = 2, arms: tuple[tuple[str, ...], ...] = (("ce", "softmax"), ("mse", "linear")),
              extra: str = "") -> str:
    """The one tiny experiment file of the tests (iris, two arms, a few epochs and seeds), any setting changed.

    `hidden` and `lr` are TOML values (a list makes a grid); `claims` a TOML list; an arm is (loss,
    head) or (loss, head, more TOML lines of that arm); `extra` is appended.
    """
    head = f'[experiment]\nname = "{name}"\ndescription = "{description}"\n' + (f"claims = {claims}\n" if claims else "")
    body = (f'[data]\ndataset = "{dataset}"\n[model]\nhidden = {hidden}\n[train]\nlr = {lr}\n'
            f"batch_size = {batch_size}\nepochs = {epochs}\nseeds = {seeds}\n")
    arm_tables = "".join(f'[[arms]]\nloss = "{a[0]}"\nhead = "{a[1]}"\n' + "".join(a[2:]) for a in arms)
    return "\n" + head + body + arm_tables + extra


@pytest.fixture
def tiny_experiment(tmp_path: Path):
    """Write the tiny experiment (settings as tiny_toml's) to tmp_path/NAME.toml and give its path."""
    def write(name: str = "tiny", **settings) -> Path:
        path = tmp_path / f"{name}.toml"
        path.write_text(tiny_toml(name, **settings), encoding="utf-8")
        return path

    return write


NEWCOMER_GRID = tiny_toml("grid", description="two arms at two widths: runs that differ only in `hidden`",
                          hidden="[[4], [8]]", lr="0.5", batch_size=32, epochs=2,
                          arms=(("ce", "softmax", 'label = "**ce** _not bold_ [x](y)"\n'), ("mse", "softmax")))


@pytest.fixture(scope="session")
def newcomer_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database a newcomer might hold: the saturation experiment run for 3 epochs with 2 seeds
    (8 runs that differ in w, b and the loss), and `grid`, a tiny iris experiment whose 8 runs differ
    in `hidden`, the arm and the seed, its first arm labelled with Markdown-like text."""
    from typer.testing import CliRunner

    from lossdb.cli.main import app

    folder = tmp_path_factory.mktemp("newcomer")
    (folder / "grid.toml").write_text(NEWCOMER_GRID)
    db = folder / "newcomer.db"
    result = CliRunner().invoke(app, ["run", "saturation", "--config", str(folder / "grid.toml"),
                                      "--epochs", "3", "--seeds", "2", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db
