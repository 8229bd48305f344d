"""Schema lifecycle through Alembic, configured in code so it works from an installed wheel."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url

from lossdb.core.errors import SchemaOutdatedError, StoreError

from .engine import SQLITE_HEADER, connection, describe, enable_wal, make_engine, sqlite_path

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic costs ~0.3 s to import: it is imported only to migrate. Checking a database's schema
# reads the revisions from the scripts' own declarations (tests check them against Alembic's).
_DECLARED = re.compile(r'^(down_revision|revision)\b[^=]*=\s*(None|"([^"]*)"|\'([^\']*)\')', re.MULTILINE)

VERSION_TABLE = "alembic_version"
# Free space kept beyond a backup's own size (the upgrade itself writes to the disk too).
BACKUP_MARGIN = 16 * 2**20
# Serialises concurrent migrations of one PostgreSQL database (any constant will do).
PG_LOCK_KEY = 7_301_955_411
# Alembic's `context` and `op` are module-level proxies: one migration at a time per process.
_ALEMBIC_LOCK = threading.Lock()


def alembic_config(conn: Connection | None = None) -> Config:
    """An Alembic Config pointing at the installed `migrations` package, with an optional connection."""
    from alembic.config import Config

    cfg = Config()
    location = str(files("lossdb.migrations")).replace("%", "%%")
    cfg.set_main_option("script_location", location)
    cfg.attributes["connection"] = conn
    return cfg


@cache
def _revisions() -> dict[str, str | None]:
    """revision → down_revision of every script in migrations/versions (read once per process)."""
    out: dict[str, str | None] = {}
    for entry in files("lossdb.migrations").joinpath("versions").iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("__"):
            continue
        found = {m[0]: m[2] or m[3] or None for m in _DECLARED.findall(entry.read_text(encoding="utf-8"))}
        if "revision" in found:
            out[str(found["revision"])] = found.get("down_revision")
    return out


def head_revision() -> str:
    """The newest schema revision this lossdb knows."""
    revisions = _revisions()
    heads = set(revisions) - {down for down in revisions.values() if down}
    assert len(heads) == 1, f"migrations/versions must hold one head revision, found {sorted(heads)}"
    return heads.pop()


def known_revisions() -> set[str]:
    """Every revision in migrations/versions."""
    return set(_revisions())


class Upgrade(NamedTuple):
    """What `upgrade` did: the revision before (None: empty), after, and the SQLite backup made."""

    before: str | None
    after: str
    backup: Path | None = None


@dataclass(frozen=True)
class SchemaState:
    """What a database holds: `empty`, `current`, `outdated`, `newer` (unknown revision) or `foreign`."""

    kind: str
    revision: str | None


def schema_state(conn: Connection) -> SchemaState:
    """Classify the database behind `conn` against this lossdb's migrations."""
    tables = set(inspect(conn).get_table_names())
    revisions = (
        tuple(r for (r,) in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")))
        if VERSION_TABLE in tables
        else ()
    )
    if not revisions:
        return SchemaState("empty" if not tables - {VERSION_TABLE} else "foreign", None)
    revision = revisions[0]
    if len(revisions) > 1 or revision not in known_revisions():
        return SchemaState("newer", revision)
    return SchemaState("current" if revision == head_revision() else "outdated", revision)


def check_sqlite_file(url: str, *, must_exist: bool, writable: bool = False) -> Path | None:
    """Refuse, without touching it, a SQLite path that is missing (if required), a folder, not SQLite
    or, when `writable`, a file or folder this user may not write (SQLite also writes files beside it)."""
    path = sqlite_path(url)
    if path is None:
        return None
    if not path.exists():
        if must_exist:
            raise StoreError(
                f"database file {path} does not exist: check the path, or run `lossdb run --db {path}` to create it"
            )
        if not path.parent.is_dir():
            raise StoreError(f"cannot create {path}: the folder {path.parent} does not exist")
        return path
    if path.is_dir():
        raise StoreError(
            f"{path} is a folder, not a database file: pass a file path such as {path / 'lossdb.db'}"
        )
    kind = special_kind(path)
    if kind is not None:  # a pipe would hang the open, a device (/dev/null) would pass for an empty file
        raise StoreError(f"{path} is {kind}, not a regular file: point --db at a database file")
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not a SQLite database: point --db at a lossdb database or at a new file"
        )
    if writable and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        raise StoreError(
            f"{path} is read-only for you (the file or its folder): copy it somewhere writable to store or delete runs"
        )
    return path


def special_kind(path: Path) -> str | None:
    """"a pipe", "a device", "a socket"… for a path that exists but is not a regular file, else None."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return ("a pipe" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a special file")


def refuse(state: SchemaState, url: str) -> None:
    """Raise the one-sentence error for a database this lossdb must not use as it is."""
    where = describe(url)
    if state.kind == "foreign":
        raise StoreError(
            f"{where} holds tables that are not a lossdb store: choose another --db (the database was left untouched)"
        )
    if state.kind == "newer":
        raise StoreError(
            f"{where} uses schema {state.revision}, unknown to this lossdb (written by a newer lossdb or another program): upgrade lossdb or choose another --db"
        )
    if state.kind == "outdated":
        raise SchemaOutdatedError(
            f"database {where} uses schema {state.revision}, this lossdb needs {head_revision()}: run `lossdb db upgrade --db {shlex.quote(where)}`"
        )


def prepare(engine: Engine, url: str, *, create: bool) -> None:
    """Check the schema before use; create it in an empty database when `create` is true."""
    with connection(engine, url) as conn:
        state = schema_state(conn)
    if state.kind == "empty" and create:
        # An in-memory database exists only in this engine's one connection: migrate through it.
        migrate(url, engine=engine if _in_memory(engine, url) else None)
        return
    if state.kind == "empty" and _in_memory(engine, url):
        raise StoreError(IN_MEMORY)
    if state.kind == "empty":
        raise StoreError(
            f"{describe(url)} holds no lossdb data yet: run `lossdb run --db {shlex.quote(describe(url))}` first"
        )
    refuse(state, url)


IN_MEMORY = ("an in-memory database (sqlite://) keeps nothing once the command ends: "
             "pass a database file instead, e.g. --db lossdb.db")


def refuse_in_memory(url: str) -> None:
    """Refuse to store runs in an in-memory SQLite database, which would throw them away."""
    u = make_url(url)
    database = u.database or ""
    if u.get_backend_name() == "sqlite" and (
        database in ("", ":memory:") or u.query.get("mode") == "memory"
        or (database.startswith("file:") and "mode=memory" in database)
    ):
        raise StoreError(IN_MEMORY)


def _in_memory(engine: Engine, url: str) -> bool:
    """Whether `url` is an in-memory SQLite database."""
    return engine.dialect.name == "sqlite" and sqlite_path(url) is None


def migrate(url: str, *, backup: bool = False, engine: Engine | None = None) -> Upgrade:
    """Upgrade to head under a write lock, re-checking the state inside it."""
    # Foreign keys off: a batch migration on SQLite drops and recreates tables, which
    # would otherwise cascade-delete child rows; foreign_key_check verifies afterwards.
    own = engine is None
    engine = engine or make_engine(url, foreign_keys=False)
    copy = None
    try:
        if backup:
            copy = backup_sqlite(url, engine)
        with _ALEMBIC_LOCK, connection(engine, url, write=True) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            state = schema_state(conn)
            if state.kind in ("foreign", "newer"):
                refuse(state, url)
            if state.kind != "current":
                from alembic import command

                command.upgrade(alembic_config(conn), "head")
            if (
                conn.dialect.name == "sqlite"
                and conn.exec_driver_sql("PRAGMA foreign_key_check").first()
            ):
                raise StoreError(
                    f"upgrading {describe(url)} would break references between rows: restore the backup and report this"
                )
        enable_wal(engine)
        reclaim_space(engine)
    finally:
        if own:
            engine.dispose()
    return Upgrade(state.revision, head_revision(), copy)


def reclaim_space(engine: Engine) -> None:
    """VACUUM a SQLite file when over a quarter of it is free pages (a migration that rewrote
    a table leaves them behind: 0003 frees ~80% of a database)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        free = raw.execute("PRAGMA freelist_count").fetchone()[0]
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
        if pages and free > pages / 4:
            raw.execute("VACUUM")


def backup_sqlite(url: str, engine: Engine) -> Path | None:
    """Copy an existing, non-empty SQLite file to <file>.bak-<UTC timestamp> (WAL content included)."""
    path = sqlite_path(url)
    if path is None or not path.exists() or path.stat().st_size == 0:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.bak-{stamp}")
    wal = path.with_name(path.name + "-wal")
    need = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    free = shutil.disk_usage(path.parent).free
    if need + BACKUP_MARGIN > free:
        raise StoreError(f"upgrading {path} first copies it to a backup of {_mb(need)}, but its folder has only "
                         f"{_mb(free)} free: free some space and run it again (the database is unchanged)")
    try:
        with engine.connect() as conn:
            source = conn.connection.driver_connection
            assert isinstance(source, sqlite3.Connection)
            dest = sqlite3.connect(target)
            try:
                source.backup(dest)
            finally:
                dest.close()
    except (OSError, sqlite3.Error) as exc:
        target.unlink(missing_ok=True)  # never leave a partial copy filling the disk
        raise StoreError(f"the backup of {path} could not be written ({exc}): free some space or check the "
                         "folder and run it again (the database is unchanged)") from None
    return target


def _mb(n: int) -> str:
    """A byte count in MB, for messages."""
    return f"{n / 2**20:,.1f} MB"


def upgrade(url: str) -> Upgrade:
    """Bring the database at `url` to head, backing a SQLite file up first."""
    check_sqlite_file(url, must_exist=False, writable=True)
    engine = make_engine(url)
    try:
        with connection(engine, url) as conn:
            state = schema_state(conn)
    finally:
        engine.dispose()
    if state.kind in ("foreign", "newer"):
        refuse(state, url)
    if state.kind == "current":
        return Upgrade(state.revision, state.revision or head_revision())
    return migrate(url, backup=state.kind == "outdated" or _has_content(url))


def _has_content(url: str) -> bool:
    """Whether a SQLite file exists with at least its header (worth a backup before changing it)."""
    path = sqlite_path(url)
    return path is not None and path.exists() and path.stat().st_size > 0


def current(url: str) -> str | None:
    """The database's schema revision (None when empty), read without changing anything."""
    check_sqlite_file(url, must_exist=True)
    engine = make_engine(url, read_only=True)
    try:
        with connection(engine, url) as conn:
            state = schema_state(conn)
    finally:
        engine.dispose()
    if state.kind == "foreign":
        refuse(state, url)
    return state.revision
