"""Every bad input: one sentence on stderr, a non-zero exit, no traceback, the database byte-identical."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.store import open_store
from tests.conftest import _fresh_pg_database
from tests.runner.test_runner import RESUME

LOSSDB = str(Path(sys.executable).parent / "lossdb")
TOML = """[experiment]
name = "bad"
[data]
dataset = "{dataset}"
[train]
epochs = {epochs}
seeds = 1
[[arms]]
loss = "{loss}"
head = "{head}"
"""


def toml(dataset: str = "iris", loss: str = "ce", head: str = "softmax", epochs: str = "2") -> str:
    """A one-arm experiment file with the given values."""
    return TOML.format(dataset=dataset, loss=loss, head=head, epochs=epochs)


@dataclass(frozen=True)
class Case:
    """One bad input: files to write into the folder, the arguments, and what the error must say."""

    id: str
    args: tuple[str, ...]
    message: str
    files: tuple[tuple[str, str], ...] = ()


CASES = [
    Case("unknown experiment", ("run", "nope"), "unknown experiment 'nope'; valid: "),
    Case("unknown preset", ("run", "--config", "{dir}/ok.toml", "--preset", "huge"),
         "unknown preset 'huge'; valid: quick, full", (("ok.toml", toml()),)),
    Case("unknown loss", ("run", "--config", "{dir}/x.toml"),
         "{dir}/x.toml, line 9: [arms] loss: unknown loss 'msee'; valid: mse, ce,",
         (("x.toml", toml(loss="msee")),)),
    Case("unknown head", ("run", "--config", "{dir}/x.toml"),
         "{dir}/x.toml, line 10: [arms] head: loss 'ce' does not work with head 'tanh'; valid heads for ce:",
         (("x.toml", toml(head="tanh")),)),
    Case("unknown dataset", ("run", "--config", "{dir}/x.toml"),
         "unknown dataset 'digitz'; valid: ", (("x.toml", toml(dataset="digitz")),)),
    Case("malformed toml", ("run", "--config", "{dir}/x.toml"),
         "{dir}/x.toml: not valid TOML: ", (("x.toml", "[experiment]\nname = \"a\"\nepochs 3\n"),)),
    Case("malformed toml line", ("run", "--config", "{dir}/x.toml"), "(at line 3, column",
         (("x.toml", "[experiment]\nname = \"a\"\nepochs 3\n"),)),
    Case("wrong value", ("run", "--config", "{dir}/x.toml"),
         "{dir}/x.toml, line 6: [train] epochs: must be a whole number ≥ 1, got 'ten'",
         (("x.toml", toml(epochs='"ten"')),)),
    Case("missing experiment file", ("run", "--config", "{dir}/absent.toml"),
         "cannot read experiment file {dir}/absent.toml"),
    Case("csv missing value", ("run", "--config", "{dir}/x.toml"),
         "has missing values in 1 row(s) (data row 2; header not counted), the first in column 'b'",
         (("x.toml", toml(dataset="csv:{dir}/d.csv")), ("d.csv", "a,b,target\n1,2,0\n3,,1\n5,6,0\n7,8,1\n"))),
    Case("csv non-numeric feature", ("run", "--config", "{dir}/x.toml"),
         "has a non-numeric feature column 'colour' (first at data row 1)",
         (("x.toml", toml(dataset="csv:{dir}/d.csv")), ("d.csv", "colour,b,target\nred,2,0\nblue,4,1\n"))),
    Case("csv single class", ("run", "--config", "{dir}/x.toml"),
         "has a single class in target column 'target'",
         (("x.toml", toml(dataset="csv:{dir}/d.csv")), ("d.csv", "a,target\n1,yes\n2,yes\n3,yes\n"))),
    Case("csv no target column", ("run", "--config", "{dir}/x.toml"),
         "has no target column 'target'; its columns are 'a', 'label'",
         (("x.toml", toml(dataset="csv:{dir}/d.csv")), ("d.csv", "a,label\n1,0\n2,1\n"))),
    Case("unknown status", ("runs", "--status", "done"), "unknown status 'done'; valid: running,"),
    Case("unknown loss filter", ("runs", "--loss", "l2"), "unknown loss 'l2'; valid: mse, ce"),
    Case("unknown run", ("show", "999"), "no run with id 999 in"),
    Case("unknown export format", ("export", "--format", "xml", "--out", "{dir}/out"),
         "unknown format 'xml'; valid: csv or jsonl"),
    Case("delete unknown experiment", ("delete", "--experiment", "nope", "--yes"),
         "no experiment named 'nope' in"),
    Case("jobs zero", ("run", "--config", "{dir}/ok.toml", "--jobs", "0"),
         "--jobs must be a whole number of processes ≥ 1, got 0", (("ok.toml", toml()),)),
    Case("jobs and scheduler", ("run", "--config", "{dir}/ok.toml", "--jobs", "2", "--scheduler", "tcp://h:1"),
         "pass either --jobs (local processes) or --scheduler", (("ok.toml", toml()),)),
]


def sha256(path: Path) -> str:
    """The checksum of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def lossdb_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lossdb database with one stored run, copied by each test."""
    folder = tmp_path_factory.mktemp("template")
    (folder / "ok.toml").write_text(toml())
    db = folder / "lossdb.db"
    result = CliRunner().invoke(app, ["run", "--config", str(folder / "ok.toml"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_sentence_exit_1_and_leaves_the_database_unchanged(
    case: Case, lossdb_template: Path, tmp_path: Path
) -> None:
    db = tmp_path / "lossdb.db"
    shutil.copyfile(lossdb_template, db)
    for name, text in case.files:
        (tmp_path / name).write_text(text.replace("{dir}", str(tmp_path)))
    before = sha256(db)
    args = [a.replace("{dir}", str(tmp_path)) for a in case.args]
    result = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert case.message.replace("{dir}", str(tmp_path)) in result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "Traceback" not in result.output
    assert sha256(db) == before
    # A reader of a WAL database may leave an empty -wal and its -shm index beside it; no content.
    wal = tmp_path / "lossdb.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def _foreign(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()


DB_CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("foreign sqlite", _foreign, "holds tables that are not a lossdb store"),
    ("text file", lambda p: p.write_text("id,name\n1,a\n"), "is not a SQLite database"),
    ("folder", lambda p: p.mkdir(), "is a folder, not a database file"),
]


@pytest.mark.parametrize("command", ["run", "runs"])
@pytest.mark.parametrize(("kind", "make", "message"), DB_CASES, ids=[c[0] for c in DB_CASES])
def test_a_db_that_is_not_a_lossdb_database_is_refused_and_untouched(
    tmp_path: Path, kind: str, make: Callable[[Path], None], message: str, command: str
) -> None:
    db = tmp_path / "given.db"
    make(db)
    before = sha256(db) if db.is_file() else None
    args = ["run", "nope-free-config"] if command == "run" else ["runs"]
    (tmp_path / "ok.toml").write_text(toml())
    if command == "run":
        args = ["run", "--config", str(tmp_path / "ok.toml")]
    result = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output
    assert (sha256(db) if db.is_file() else None) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["given.db", "ok.toml"])


@pytest.mark.parametrize(
    ("db", "message"),
    [
        ("postgresql+nope://u@h/db", "names an unknown database type"),
        ("sqlite://somehost/x.db", "is not a valid SQLite URL"),
        ("postgresql+psycopg://u:secret@127.0.0.1:9/db", "cannot connect to postgresql+psycopg://u:***@127.0.0.1:9/db"),
        ("{dir}/missing/folder/x.db", "database file {dir}/missing/folder/x.db does not exist"),
    ],
    ids=["unknown driver", "sqlite with a host", "unreachable server", "missing folder"],
)
def test_a_bad_db_location_is_one_sentence_without_the_password(
    tmp_path: Path, db: str, message: str
) -> None:
    result = CliRunner().invoke(app, ["runs", "--db", db.replace("{dir}", str(tmp_path))])
    assert result.exit_code == 1
    assert message.replace("{dir}", str(tmp_path)) in result.output
    assert "secret" not in result.output and "Traceback" not in result.output


def without_root_override(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run `lossdb`; as root, without the capability that lets root write read-only files."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("as root, this test needs setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    return subprocess.run([*prefix, LOSSDB, *args], capture_output=True, text=True, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_a_read_only_database_is_refused_for_writing_and_still_readable(
    lossdb_template: Path, tmp_path: Path, read_only: str
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "lossdb.db"
    shutil.copyfile(lossdb_template, db)
    config = tmp_path / "ok.toml"
    config.write_text(toml(loss="mse", head="linear"))
    (db if read_only == "file" else folder).chmod(0o444 if read_only == "file" else 0o555)
    before = sha256(db)
    writes = [["run", "--config", str(config)], ["delete", "1", "--yes"], ["db", "upgrade"]]
    try:
        refused = [without_root_override([*args, "--db", str(db)])
                   for args in (writes if read_only == "file" else writes[:1])]
        read = without_root_override(["runs", "--format", "json", "--db", str(db)])
    finally:
        folder.chmod(0o755)
    message = f"Error: {db} is read-only for you (the file or its folder): copy it somewhere writable to store or delete runs\n"
    for result in refused:
        assert (result.returncode, result.stderr) == (1, message)
    assert read.returncode == 0 and '"status": "finished"' in read.stdout, read.stderr
    assert sha256(db) == before


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database (skipped, saying why, when no server is reachable)."""
    yield from _fresh_pg_database()


@pytest.mark.slow
@pytest.mark.postgres
def test_a_lost_postgres_connection_mid_run_keeps_every_finished_run(pg_url: str, tmp_path: Path) -> None:
    config = tmp_path / "resume.toml"
    config.write_text(RESUME)
    name = sa.make_url(pg_url).database
    admin = sa.create_engine(sa.make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    proc = subprocess.Popen([LOSSDB, "run", "--config", str(config), "--db", pg_url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while _finished(admin, name) < 8:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
        _, stderr = proc.communicate(timeout=60)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        admin.dispose()
    assert proc.returncode == 1, stderr
    assert stderr.splitlines()[-1].startswith("Error: cannot connect to") and "Traceback" not in stderr
    with open_store(pg_url, create=False) as store:
        finished = store.list_runs(status="finished")
        frame = store.metrics_frame([r.id for r in finished])
        assert {r.status for r in store.list_runs()} <= {"finished", "running"}
    assert len(finished) >= 8
    assert (frame.groupby("run_id").size() == frame.groupby("run_id").size().iloc[0]).all()
    assert frame.run_id.nunique() == len(finished)
    again = subprocess.run([LOSSDB, "run", "--config", str(config), "--db", pg_url],
                           capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert f"{len(finished)} skipped" in again.stdout


def _finished(admin: sa.Engine, name: str) -> int:
    """Finished runs in database `name`, counted through a short-lived connection."""
    engine = sa.create_engine(admin.url.set(database=name))
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM runs WHERE status = 'finished'").scalar_one())
    except sa.exc.ProgrammingError:  # the tables are not created yet
        return 0
    finally:
        engine.dispose()


def _file_size_limit(limit: int) -> Callable[[], None]:
    """A child-process hook: files may not grow past `limit` bytes, as on a nearly full disk
    (writes then fail with EFBIG instead of the process being killed by SIGXFSZ)."""

    def apply() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.skipif(sys.platform == "win32", reason="file size limits are POSIX")
def test_a_full_disk_mid_run_keeps_every_finished_run_and_the_rerun_completes(tmp_path: Path) -> None:
    config, db = tmp_path / "resume.toml", tmp_path / "full.db"
    config.write_text(RESUME)
    created = subprocess.run([LOSSDB, "run", "--config", str(config), "--db", str(db), "--seeds", "1",
                              "--epochs", "1"], capture_output=True, text=True, check=False)
    assert created.returncode == 0, created.stderr
    assert subprocess.run([LOSSDB, "delete", "--experiment", "resume", "--yes", "--db", str(db)],
                          capture_output=True, text=True, check=False).returncode == 0
    limit = 600_000  # bytes per file: room for the first stacks of runs (about 1 MB in all), not all
    proc = subprocess.run([LOSSDB, "run", "--config", str(config), "--db", str(db)],
                          capture_output=True, text=True, check=False, preexec_fn=_file_size_limit(limit))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"Error: writing to {db} failed (disk I/O error: is the disk full?)")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with open_store(str(db), create=False) as store:
        finished = store.list_runs(status="finished")
        frame = store.metrics_frame([r.id for r in finished])
    assert 0 < len(finished) < 32
    assert frame.run_id.nunique() == len(finished)
    assert (frame.groupby("run_id").size() == frame.groupby("run_id").size().iloc[0]).all()
    again = subprocess.run([LOSSDB, "run", "--config", str(config), "--db", str(db)],
                           capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert f"{len(finished)} skipped" in again.stdout
    with open_store(str(db), create=False) as store:
        assert len(store.list_runs(status="finished")) == 32
