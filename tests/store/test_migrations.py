"""Schema lifecycle: migrations against the ORM, refusing old or unknown schemas, upgrades, the wheel."""

from __future__ import annotations

import ast
import csv
import hashlib
import importlib.util
import io
import math
import re
import shutil
import sqlite3
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from lossdb.core.errors import SchemaOutdatedError, StoreError
from lossdb.core.store import current, export, head_revision, open_store, upgrade
from lossdb.core.store import migrate as store_migrate
from lossdb.core.store.models import Base

REPO = Path(__file__).resolve().parents[2]
TABLES = {"alembic_version", "experiments", "runs", "series", "run_summaries", "store_version"}
# A real database written by `lossdb run --config tests/data/schema_0001.toml` at schema 0001.
SAVED_0001 = REPO / "tests" / "data" / "schema_0001.db"
# The same at schema 0002 (schema_0002.toml), plus one hand-made run with NaN, ±inf and -0.0
# (tests/data/schema_0002_special_run.py).
SAVED_0002 = REPO / "tests" / "data" / "schema_0002.db"
# The same at schema 0003 (schema_0003.toml), before runs kept a digest of their data.
SAVED_0003 = REPO / "tests" / "data" / "schema_0003.db"
SAVED = {"0001": SAVED_0001, "0002": SAVED_0002}  # with the long metrics table
DATA_TABLES = ("experiments", "runs", "metrics", "run_summaries")  # at schema 0001


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    """A copy of the saved schema-0001 database with 8 runs (2 diverged, with NaN metrics)."""
    target = tmp_path / "schema_0001.db"
    shutil.copyfile(SAVED_0001, target)
    return target


def sqlite_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """The rows every schema holds alike (0001 columns; summaries' final values), in key order."""
    columns = {
        "experiments": "*",
        "runs": "id, experiment_id, arm_hash, seed, status, config, lr, wall_seconds",
        "run_summaries": "run_id, name, value",
    }
    with sqlite3.connect(path) as conn:
        out = {
            table: conn.execute(f"SELECT {cols} FROM {table} ORDER BY 1, 2").fetchall()
            for table, cols in columns.items()
        }
    conn.close()
    return out


def long_metrics(path: Path) -> list[tuple[int, str, int, float | None]]:
    """The long metrics table of a database at schema 0001 or 0002, in key order (NULL is NaN)."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT * FROM metrics ORDER BY run_id, name, epoch").fetchall()
    conn.close()
    return rows


def assert_bit_equal(frame_values: np.ndarray, stored: list[float | None]) -> None:
    """The values equal the stored ones bit for bit (NULL stored = NaN read)."""
    expected = np.array([np.nan if v is None else v for v in stored], dtype=np.float64)
    same_nan = np.isnan(frame_values) == np.isnan(expected)
    finite = ~np.isnan(expected)
    assert same_nan.all()
    assert (frame_values[finite].view(np.int64) == expected[finite].view(np.int64)).all()


def copy_saved_rows(engine: sa.Engine) -> None:
    """Copy the saved 0001 database's rows into a database migrated to 0001."""
    source = sa.create_engine(f"sqlite:///{SAVED_0001}")
    try:
        old = sa.MetaData()
        old.reflect(source, only=DATA_TABLES)
        with source.connect() as reader, engine.begin() as writer:
            for table in DATA_TABLES:
                rows = [dict(row._mapping) for row in reader.execute(old.tables[table].select())]
                target = sa.Table(table, sa.MetaData(), autoload_with=writer)
                writer.execute(target.insert(), rows)
            if writer.dialect.name == "postgresql":
                for table in ("experiments", "runs"):
                    writer.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )
    finally:
        source.dispose()


def sha256(path: Path) -> str:
    """The checksum of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def schema_diff(url: str) -> list[object]:
    """What autogenerate would change to make the database match the ORM metadata."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    """The tables in the database."""
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def downgrade_to_base(url: str) -> None:
    """Run every migration's downgrade, as `alembic downgrade base` would."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            command.downgrade(store_migrate.alembic_config(conn), "base")
    finally:
        engine.dispose()


def set_revision(path: Path, revision: str) -> None:
    """Stamp a SQLite lossdb database with `revision`, without running any migration."""
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    conn.close()


def test_new_database_migrates_to_head(db_url: str) -> None:
    open_store(db_url).close()
    assert current(db_url) == head_revision()
    assert table_names(db_url) == TABLES


def test_migrated_schema_equals_the_orm_metadata(db_url: str) -> None:
    open_store(db_url).close()
    assert schema_diff(db_url) == []


def test_every_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    open_store(db_url).close()
    downgrade_to_base(db_url)
    assert table_names(db_url) <= {"alembic_version"}
    assert upgrade(db_url)[:2] == (None, head_revision())
    assert schema_diff(db_url) == []


def test_migrations_have_exactly_one_head() -> None:
    script = ScriptDirectory.from_config(store_migrate.alembic_config())
    assert script.get_heads() == [head_revision()]


def test_the_revisions_read_without_alembic_match_alembics_own() -> None:
    script = ScriptDirectory.from_config(store_migrate.alembic_config())
    assert store_migrate.known_revisions() == {rev.revision for rev in script.walk_revisions()}
    assert store_migrate._revisions() == {rev.revision: rev.down_revision for rev in script.walk_revisions()}


def test_revision_files_are_numbered_and_titled_in_one_line() -> None:
    versions = Path(str(files("lossdb.migrations") / "versions"))
    scripts = sorted(p for p in versions.glob("*.py") if p.name != "__init__.py")
    assert [p.name for p in scripts][:1] == ["0001_create_tables.py"]
    for number, path in enumerate(scripts, start=1):
        assert re.fullmatch(rf"{number:04d}_[a-z]+(_[a-z0-9]+)+\.py", path.name), path.name
        module = ast.parse(path.read_text())
        title = (ast.get_docstring(module) or "").splitlines()[0]
        assert title.endswith("."), path.name
        assert f'revision: str = "{number:04d}"' in path.read_text(), path.name


def test_saved_schema_0001_database_is_refused_with_the_exact_upgrade_command(
    old_db: Path,
) -> None:
    before = sha256(old_db)
    with pytest.raises(SchemaOutdatedError) as info:
        open_store(str(old_db))
    assert str(info.value) == (
        f"database {old_db} uses schema 0001, this lossdb needs {head_revision()}: "
        f"run `lossdb db upgrade --db {old_db}`"
    )
    assert sha256(old_db) == before


@pytest.mark.parametrize("revision", sorted(SAVED))
def test_saved_database_upgrades_with_its_data_intact(revision: str, tmp_path: Path) -> None:
    db = tmp_path / f"schema_{revision}.db"
    shutil.copyfile(SAVED[revision], db)
    before, metrics = sqlite_rows(db), long_metrics(db)
    assert upgrade(str(db))[:2] == (revision, head_revision())
    assert sqlite_rows(db) == before
    assert schema_diff(f"sqlite:///{db}") == []
    with open_store(str(db), create=False) as store:
        runs = store.list_runs()
        frame = store.metrics_frame([r.id for r in runs])
    assert {r.status for r in runs} == {"finished", "diverged"}
    assert list(frame.itertuples(index=False, name=None))[:3] == [m[:3] + (m[3],) for m in metrics[:3]]
    assert [tuple(r) for r in frame[["run_id", "name", "epoch"]].itertuples(index=False)] == [
        m[:3] for m in metrics
    ]
    assert_bit_equal(frame["value"].to_numpy(), [m[3] for m in metrics])


def test_runs_saved_before_data_digests_upgrade_with_an_unknown_digest_and_are_not_redone(
        tmp_path: Path) -> None:
    db = tmp_path / "schema_0003.db"
    shutil.copyfile(SAVED_0003, db)
    before = sqlite_rows(db)
    assert upgrade(str(db))[:2] == ("0003", head_revision())
    assert sqlite_rows(db) == before
    assert schema_diff(f"sqlite:///{db}") == []
    with open_store(str(db), create=False) as store:
        runs = store.list_runs()
        assert len(runs) == 8 and {r.data_digest for r in runs} == {None}
        digests = store.finished_digests("schema-0003-sample", runs[0].engine_version)
    assert len(digests) == 8 and set(digests.values()) == {None}


def test_upgrade_backfills_summaries_equal_to_the_values_recomputed_from_the_series(
    tmp_path: Path,
) -> None:
    db = tmp_path / "schema_0002.db"
    shutil.copyfile(SAVED_0002, db)
    metrics = long_metrics(db)
    upgrade(str(db))
    with open_store(str(db), create=False) as store:
        summaries = store.summaries([r.id for r in store.list_runs()])
    series: dict[tuple[int, str], list[float]] = {}
    for run_id, name, _, value in metrics:
        series.setdefault((run_id, name), []).append(math.nan if value is None else value)
    assert len(summaries) == len(series)
    for row in summaries.itertuples(index=False):
        values = series[(row.run_id, row.name)]
        finite = [(v, e) for e, v in enumerate(values) if math.isfinite(v)]
        lowest = min(finite, key=lambda p: (p[0], p[1]), default=(math.nan, math.nan))
        highest = min(finite, key=lambda p: (-p[0], p[1]), default=(math.nan, math.nan))
        expected = (values[-1], *lowest, *highest, sum(values) / len(values), len(values))
        got = (row.final, row.min, row.min_epoch, row.max, row.max_epoch, row.mean, row.epochs)
        assert np.allclose(got, expected, rtol=1e-12, atol=0, equal_nan=True), (row, expected)


def test_export_of_an_upgraded_database_writes_the_long_rows_it_held(tmp_path: Path) -> None:
    db = tmp_path / "schema_0002.db"
    shutil.copyfile(SAVED_0002, db)
    metrics = long_metrics(db)
    upgrade(str(db))
    with open_store(str(db), create=False, read_only=True) as store:
        export(store, tmp_path / "out", "csv")
    expected = io.StringIO(newline="")
    writer = csv.writer(expected)
    writer.writerow(["run_id", "name", "epoch", "value"])
    writer.writerows((r, n, e, math.nan if v is None else v) for r, n, e, v in metrics)
    assert (tmp_path / "out" / "metrics.csv").read_bytes().decode() == expected.getvalue()


def test_downgrade_from_packed_series_gives_back_the_long_metrics_table(tmp_path: Path) -> None:
    db = tmp_path / "schema_0002.db"
    shutil.copyfile(SAVED_0002, db)
    metrics = long_metrics(db)
    upgrade(str(db))
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            command.downgrade(store_migrate.alembic_config(conn), "0002")
    finally:
        engine.dispose()
    restored = long_metrics(db)
    assert [m[:3] for m in restored] == [m[:3] for m in metrics]
    assert_bit_equal(np.array([np.nan if m[3] is None else m[3] for m in restored]), [m[3] for m in metrics])


def test_upgrade_of_the_saved_database_keeps_a_backup_at_schema_0001(old_db: Path) -> None:
    original = sha256(old_db)
    backup = upgrade(str(old_db)).backup
    assert backup is not None and backup.name.startswith("schema_0001.db.bak-")
    assert sqlite_rows(backup) == sqlite_rows(SAVED_0001)
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    conn.close()
    assert original == sha256(SAVED_0001)


def test_a_database_at_0001_on_any_backend_upgrades_with_its_rows(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(store_migrate.alembic_config(conn), "0001")
        copy_saved_rows(engine)
    finally:
        engine.dispose()
    assert upgrade(db_url)[:2] == ("0001", head_revision())
    assert schema_diff(db_url) == []
    with open_store(db_url, create=False) as store:
        runs = store.list_runs()
        assert len(runs) == 8 and all(r.extras == {} for r in runs)
        frame = store.metrics_frame([r.id for r in runs])
    assert len(frame) == 556 and int(frame.value.isna().sum()) == 54


def test_database_at_an_unknown_revision_is_refused_and_untouched(db_path: Path) -> None:
    open_store(str(db_path)).close()
    set_revision(db_path, "9999")
    before = sha256(db_path)
    with pytest.raises(StoreError, match="schema 9999, unknown to this lossdb") as info:
        open_store(str(db_path))
    assert not isinstance(info.value, SchemaOutdatedError)
    with pytest.raises(StoreError, match="unknown to this lossdb"):
        upgrade(str(db_path))
    assert sha256(db_path) == before


def test_upgrade_copies_the_sqlite_file_to_a_timestamped_backup_first(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    open_store(url).close()
    downgrade_to_base(url)
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA user_version = 42")
    conn.close()
    assert upgrade(str(db_path))[:2] == (None, head_revision())
    (backup,) = db_path.parent.glob("lossdb.db.bak-*")
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (42,)
        assert {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        } == {"alembic_version"}
    conn.close()
    assert current(str(db_path)) == head_revision()


def test_upgrade_of_a_database_at_head_changes_nothing(db_path: Path) -> None:
    open_store(str(db_path)).close()
    before = sha256(db_path)
    assert upgrade(str(db_path)) == (head_revision(), head_revision(), None)
    assert sha256(db_path) == before
    assert not list(db_path.parent.glob("*.bak-*"))


def test_upgrade_refuses_a_foreign_database_and_leaves_it_untouched(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    before = sha256(db_path)
    with pytest.raises(StoreError, match="not a lossdb store"):
        upgrade(str(db_path))
    assert sha256(db_path) == before
    assert not list(db_path.parent.glob("*.bak-*"))


def test_current_of_a_missing_file_raises_and_creates_nothing(db_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        current(str(db_path))
    assert not db_path.exists()


def test_current_of_an_empty_database_is_none(db_path: Path) -> None:
    sqlite3.connect(db_path).close()
    assert current(str(db_path)) is None


def test_alembic_ini_migrates_a_database_for_developers(tmp_path: Path) -> None:
    db = tmp_path / "dev.db"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(REPO / "alembic.ini"),
            "-x",
            f"db={db}",
            "upgrade",
            "head",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert current(str(db)) == head_revision()


def _can_build_wheels_offline() -> bool:
    """Whether this environment's setuptools builds wheels by itself (>= 70.1, or with `wheel`)."""
    try:
        import setuptools
    except ImportError:
        return False
    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.mark.slow
def test_migrations_work_from_an_installed_wheel(tmp_path: Path) -> None:
    source = tmp_path / "src"
    keep = ("pyproject.toml", "README.md", "core", "cli", "dashboard", "migrations")
    source.mkdir()
    for name in keep:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(
                origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        elif origin.exists():
            shutil.copy2(origin, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    # Without a capable setuptools here, pip builds in an isolated env fetched from the index.
    isolation = ["--no-build-isolation"] if _can_build_wheels_offline() else []
    subprocess.run(
        [*pip, "wheel", "--no-deps", *isolation, "-w", str(wheels), str(source)], check=True
    )
    (wheel,) = wheels.glob("lossdb-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    probe = (
        "import sqlite3, lossdb.core.store, lossdb.migrations\n"
        "print(lossdb.core.store.__file__); print(lossdb.migrations.__file__)\n"
        "print(lossdb.core.store.upgrade('installed.db')[:2])\n"
        "print(sorted(r[0] for r in sqlite3.connect('installed.db').execute(\"SELECT name FROM sqlite_master WHERE type='table'\")))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    store_file, migrations_file, revisions, tables = result.stdout.splitlines()
    assert store_file.startswith(str(target)) and migrations_file.startswith(str(target))
    assert revisions == f"(None, '{head_revision()}')"
    assert set(ast.literal_eval(tables)) == TABLES
