"""Database URLs, engines (SQLite pragmas, PostgreSQL options), transactions and error translation."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lossdb.core import jsontext
from lossdb.core.errors import StoreError
from sqlalchemy import Connection, Engine, create_engine, event, pool
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    SQLAlchemyError,
)

DEFAULT_URL = "sqlite:///lossdb.db"
BACKENDS = ("sqlite", "postgresql")
ENV_VAR = "LOSSDB_DB"
BUSY_TIMEOUT_S = 30.0
PG_CONNECT_TIMEOUT_S = 10
SQLITE_HEADER = b"SQLite format 3\x00"
# An execution option on a Connection: its transaction will write (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION = "lossdb_write"
# Serialises write transactions on one PostgreSQL database (any constant will do).
PG_WRITE_LOCK_KEY = 7_301_955_412


def resolve_url(db: str | None) -> str:
    """Turn `--db` (None, a path or a URL) into a SQLAlchemy URL: None → $LOSSDB_DB → DEFAULT_URL."""
    if db is None:
        db = os.environ.get(ENV_VAR) or DEFAULT_URL
    db = db.strip()
    if not db:
        raise StoreError(
            "the database location is empty: pass a file path or a URL such as sqlite:///lossdb.db"
        )
    try:
        db.encode("utf-8")
    except UnicodeEncodeError:
        raise StoreError("the database location holds bytes that are not UTF-8 text: "
                         "rename the file or pass another --db") from None
    if "://" not in db:
        # A path is a path: '%', '?' and '#' in it are characters of the file name, not URL syntax.
        return URL.create("sqlite", database=str(Path(db).expanduser().absolute())).render_as_string(
            hide_password=False)
    try:
        url = make_url(db)
        url.get_dialect()
    except NoSuchModuleError:
        raise StoreError(
            f"{mask_url(db)} names an unknown database type: use a path, sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"
        ) from None
    except (ArgumentError, ValueError):
        raise StoreError(
            f"{mask_url(db)} is not a valid database URL: use a path, sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"
        ) from None
    if url.get_backend_name() not in BACKENDS:
        raise StoreError(
            f"{mask_url(db)} is a {url.get_backend_name()} database, and lossdb stores runs in SQLite or "
            "PostgreSQL only: use a path, sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"
        )
    if url.get_backend_name() == "sqlite" and (
        url.username or url.password or url.host or url.port
    ):
        raise StoreError(
            f"{mask_url(db)} is not a valid SQLite URL: write sqlite:///relative.db or sqlite:////absolute.db"
        )
    return db


# Query parameters that carry a credential in the URLs SQLAlchemy's drivers accept (libpq's
# password, sslpassword; ODBC's PWD; tokens and keys of cloud drivers).
SECRET_KEYS = re.compile(r"pass|pwd|secret|token|key|credential|auth", re.IGNORECASE)


def mask_url(url: str) -> str:
    """The URL with every credential replaced by ***: the password of user:password@ (even one
    holding an unencoded '@' or ':') and any query parameter that names a password, token or key."""
    head, sep, query = url.partition("?")
    scheme, found, rest = head.partition("://")
    if found and not scheme.startswith("sqlite"):  # a SQLite URL holds a path, no credentials
        at = rest.rfind("@")
        if at >= 0:
            userinfo = rest[:at]
            user, colon, _ = userinfo.partition(":")
            rest = (f"{user}:***" if colon else userinfo) + rest[at:]
        head = scheme + found + rest
    if sep:
        query = "&".join(_mask_param(p) for p in query.split("&"))
    return head + sep + query


def _mask_param(param: str) -> str:
    """`key=value` with the value masked when the key names a credential."""
    key, eq, _ = param.partition("=")
    return f"{key}=***" if eq and SECRET_KEYS.search(key) else param


def secrets_of(url: str) -> list[str]:
    """The credential strings in a URL (as written and decoded), to scrub from driver messages."""
    from urllib.parse import unquote

    found = []
    head, _, query = url.partition("?")
    _, sep, rest = head.partition("://")
    if sep and "@" in rest:
        _, colon, password = rest[: rest.rfind("@")].partition(":")
        if colon and password:
            found.append(password)
    for param in query.split("&") if query else []:
        key, eq, value = param.partition("=")
        if eq and value and SECRET_KEYS.search(key):
            found.append(value)
    return [v for s in found for v in {s, unquote(s)} if len(v) >= 3]


def scrub(text: str, url: str) -> str:
    """`text` with every credential of `url` replaced by ***."""
    for secret in sorted(secrets_of(url), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (absolute), or None for other backends and in-memory databases."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    if u.database.startswith("file:") or u.query.get("mode") == "memory":
        return None
    return Path(u.database).expanduser().absolute()


def file_identity(url: str) -> tuple[int, int] | None:
    """(device, inode) of a SQLite file, None for other backends or a file not there: a file moved
    or copied over the database's path has another identity."""
    path = sqlite_path(url)
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def describe(url: str) -> str:
    """How messages name the database: the file path for SQLite, the masked URL otherwise."""
    path = sqlite_path(url)
    return str(path) if path is not None else mask_url(url)


def dumps(value: Any) -> str:
    """The JSON text of a config, spec or extras (valid JSON for PostgreSQL: NaN and infinity as null, core.jsontext)."""
    try:
        return json.dumps(jsontext.plain(value, nonfinite="null"), allow_nan=False)
    except TypeError as exc:
        raise StoreError(f"a value cannot be stored as JSON: {exc}") from None


def make_engine(url: str, *, read_only: bool = False, foreign_keys: bool = True) -> Engine:
    """An Engine for `url`; SQLite gets a busy timeout, foreign keys and explicit BEGINs."""
    u = make_url(url)
    try:
        if u.get_backend_name() == "sqlite":
            return _sqlite_engine(u, read_only=read_only, foreign_keys=foreign_keys)
        connect_args: dict[str, Any] = {}
        if u.get_backend_name() == "postgresql":
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
            if read_only:
                connect_args["options"] = "-c default_transaction_read_only=on"
        return create_engine(
            u, pool_pre_ping=True, connect_args=connect_args, json_serializer=dumps
        )
    except (ImportError, NoSuchModuleError) as exc:
        raise StoreError(
            f"the database driver for {mask_url(url)} is not installed ({exc}): install it, e.g. pip install 'lossdb[postgres]'"
        ) from None
    except ArgumentError as exc:
        raise StoreError(f"{mask_url(url)} is not a usable database URL: {exc}") from None


def _sqlite_engine(u: URL, *, read_only: bool, foreign_keys: bool) -> Engine:
    """A SQLite engine: read-only through a file: URI, pragmas on every connection."""
    path = sqlite_path(u.render_as_string(hide_password=False))
    if path is None:
        engine = create_engine(u, poolclass=pool.StaticPool, json_serializer=dumps)
    else:
        if read_only:
            query = {"uri": "true", "mode": "ro"}
            if _frozen(path):
                # In a folder nobody can write, a WAL database cannot get its -shm index;
                # SQLite reads it anyway when told that no other process can change it.
                query["immutable"] = "1"
            u = u.set(database=path.as_uri(), query=query)
        engine = create_engine(
            u,
            poolclass=pool.QueuePool,
            connect_args={"timeout": BUSY_TIMEOUT_S},
            json_serializer=dumps,
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control from the sqlite3 module: it would otherwise run DDL
        # outside transactions and BEGIN too late for a busy timeout to help.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front, so the busy timeout applies instead of an
        # immediate "database is locked" when a read transaction tries to upgrade.
        writes = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _frozen(path: Path) -> bool:
    """Whether a SQLite file sits in a folder this user cannot write, with no WAL content beside it."""
    wal = path.with_name(path.name + "-wal")
    return (
        path.exists()
        and not os.access(path.parent, os.W_OK)
        and (not wal.exists() or wal.stat().st_size == 0)
    )


def enable_wal(engine: Engine) -> None:
    """Switch a SQLite database to WAL mode (persistent in the file); a no-op elsewhere or if done."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        delay = 0.005
        while True:
            try:
                mode = raw.execute("PRAGMA journal_mode").fetchone()
                if mode is None or str(mode[0]).lower() in ("wal", "memory"):
                    return
                raw.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                # Changing the journal mode needs the file to itself and SQLite answers "locked"
                # at once, without its busy handler, while another connection reads or migrates
                # it (several processes opening a new file together): wait and retry.
                if "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
                    raise
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)


@contextmanager
def connection(engine: Engine, url: str, *, write: bool = False) -> Iterator[Connection]:
    """A Connection inside one transaction: commits on success, rolls back and raises StoreError on failure."""
    try:
        with engine.connect() as conn:
            if write:
                conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                if write and conn.dialect.name == "postgresql":
                    # One writer at a time, as on SQLite: concurrent `lossdb run`s then see each
                    # other's rows instead of racing to insert the same run identity.
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK_KEY})")
                yield conn
    except (SQLAlchemyError, sqlite3.Error) as exc:
        raise translate_error(exc, url) from exc


def translate_error(exc: BaseException, url: str) -> StoreError:
    """One sentence for a database failure: not a database, read-only, locked, full, unreachable…"""
    where = describe(url)
    orig = getattr(exc, "orig", None) or exc
    detail = scrub((str(orig).strip().splitlines() or [type(orig).__name__])[0], url)
    low = detail.lower()
    if "not a database" in low or "file is encrypted" in low:
        return StoreError(
            f"{where} is not a SQLite database: point --db at a lossdb database or at a new file"
        )
    if "readonly" in low or "read-only" in low:
        return StoreError(
            f"{where} is read-only here (a read-only connection, file or server): open a writable database to store or delete runs"
        )
    if "locked" in low or "busy" in low:
        return StoreError(
            f"{where} stayed locked by another process for {BUSY_TIMEOUT_S:.0f} s: wait for it to finish and try again"
        )
    if "unable to open database file" in low:
        return StoreError(
            f"cannot open {where}: check that the file and its folder exist and are readable"
        )
    if "disk is full" in low or "no space left" in low:
        return StoreError(
            f"the disk holding {where} is full: free some space and rerun (finished runs are kept)"
        )
    if "disk i/o error" in low:  # what SQLite reports when a write fails (a full disk or a size quota)
        return StoreError(
            f"writing to {where} failed (disk I/O error: is the disk full?): free some space or check "
            "the disk and rerun (finished runs are kept)"
        )
    if isinstance(exc, IntegrityError):
        return StoreError(f"{where} refused a write that breaks its constraints: {detail}")
    if (isinstance(exc, DBAPIError) and exc.connection_invalidated) or _is_connect_error(exc):
        return StoreError(f"cannot connect to {where}: {detail}")
    return StoreError(f"database error on {where}: {detail}")


def _is_connect_error(exc: BaseException) -> bool:
    """Whether a failure happened while connecting (server down, bad host, bad credentials)."""
    text = str(getattr(exc, "orig", exc)).lower()
    return any(
        marker in text
        for marker in (
            "connection refused",
            "could not connect",
            "connection failed",
            "could not translate host",
            "timeout expired",
            "connection to server",
            "not currently accepting connections",
            "terminating connection",
            "server closed the connection",
        )
    )
