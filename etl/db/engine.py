"""Engines for SQLite and PostgreSQL (psycopg 3), with the settings each needs.

- The URL is checked first: malformed, an unknown dialect or driver, or an in-memory SQLite
  database (nothing would be kept) is a one-line :class:`~etl.errors.DatabaseURLError`.
- SQLite transactions are real transactions (SQLAlchemy's documented pysqlite recipe): the
  driver's own legacy transaction handling is off and every transaction starts with an
  explicit BEGIN, so a page's rows, their savepoints and its cursor commit together, once.
- SQLite files are created private (0600; SQLite gives the -wal and -shm files the mode of
  the database file), a missing directory is created with a log line saying so, and a
  read-only engine (``status``) never creates anything.
- Errors of the environment (disk full, read-only file, a path that cannot be opened, a
  standby server…) become one-line :class:`~etl.errors.StorageError` naming the fix, at the
  source (the engine's ``handle_error`` event), so no caller shows a driver traceback.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError

from etl.errors import DatabaseMissingError, DatabaseURLError, StorageError

log = logging.getLogger(__name__)
FIX_URL = (
    "set database.url (DATTO_ETL_DATABASE_URL) to sqlite:///path/to/file.db or "
    "postgresql://user@host/dbname"
)
_ENV_ERROR = "etl.environment_error"  # connection.info key: the environment error seen last


def normalize_url(url: str) -> str:
    """Pick psycopg 3 for PostgreSQL URLs given without a driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def parse_url(url: str) -> URL:
    """The checked URL: a file or server database of a supported dialect, else DatabaseURLError."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        raise DatabaseURLError(f"database URL {url!r} is not valid: {FIX_URL}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseURLError(
            f"database {backend!r} is not supported: use SQLite or PostgreSQL ({FIX_URL})"
        )
    if backend == "sqlite" and sqlite_file(parsed) is None:
        raise DatabaseURLError(
            f"database URL {url!r} is an in-memory SQLite database: nothing would be kept "
            "after the run; set database.url (DATTO_ETL_DATABASE_URL) to a file, e.g. "
            "sqlite:///datto_rmm.db"
        )
    return parsed


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL (``~`` expanded), None for an in-memory, non-SQLite or
    malformed URL (:func:`parse_url` says what is wrong with that one)."""
    try:
        parsed = make_url(normalize_url(url)) if isinstance(url, str) else url
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if _is_uri(parsed) and database.startswith("file:"):  # sqlite:///file:x.db?uri=true&…
        parts = urlsplit(database)
        if "mode=memory" in parts.query or parsed.query.get("mode") == "memory":
            return None
        database = unquote(parts.path)
    if database in ("", ":memory:"):
        return None
    return Path(database).expanduser()


def _is_uri(parsed: URL) -> bool:
    return str(parsed.query.get("uri", "")).lower() in ("true", "1")


def where(engine_or_url: Engine | URL) -> str:
    """The database for messages: the SQLite file, or the URL without its password."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else engine_or_url
    path = sqlite_file(url) if url.get_backend_name() == "sqlite" else None
    return str(path) if path is not None else url.render_as_string(hide_password=True)


def make_engine(url: str, *, readonly: bool = False, **kw: Any) -> Engine:
    """Create an engine for ``url`` (see the module docstring); ``readonly`` for ``status``.

    A read-only engine on SQLite needs the file to exist (:class:`DatabaseMissingError`
    otherwise) and opens it read-only: a mistyped path creates nothing.
    """
    parsed = parse_url(url)
    # Sorted keys make a re-sent JSON document byte-identical, so upserts see "no change".
    # One encoder, made once: json.dumps with options builds a new one for every value.
    serializer = json.JSONEncoder(sort_keys=True, default=str).encode
    path = sqlite_file(parsed)
    if path is not None:
        if readonly:
            readonly_file = f"file:{quote(str(path))}"
            parsed = parsed.set(database=readonly_file, query={"mode": "ro", "uri": "true"})
        elif not _is_uri(parsed):
            parsed = parsed.set(database=str(path))  # with ~ expanded, as prepared below
        kw = {"connect_args": {"timeout": 60}, **kw}
    else:
        kw = {"pool_pre_ping": True, **kw}
    try:
        engine = create_engine(parsed, json_serializer=serializer, **kw)
    except (ArgumentError, ImportError) as exc:  # e.g. sqlite+nothing://, postgresql+psycopg2
        raise DatabaseURLError(
            f"database driver {parsed.drivername!r} is not available ({exc}): "
            "use sqlite:///… or postgresql://… (psycopg 3 comes with datto-etl)"
        ) from None
    if path is not None:
        if readonly and not path.is_file():
            raise DatabaseMissingError(
                f"no database at {path}: run `datto-etl sync` first or check database.url"
            )
        if not readonly:  # at the first connection: a command failing before creates nothing
            event.listen(engine, "do_connect", functools.partial(_prepare_on_connect, path))
        event.listen(engine, "connect", _sqlite_connect if not readonly else _sqlite_connect_ro)
        begin = "BEGIN" if readonly else "BEGIN IMMEDIATE"
        event.listen(engine, "begin", functools.partial(_sqlite_begin, begin))
    event.listen(engine, "handle_error", _environment_error, retval=True)
    return engine


def prepare_sqlite_file(path: Path) -> None:
    """Create the directory (saying so) and an empty private database file if missing.

    A path that cannot hold a writable database (a directory, a read-only file or file
    system) is a one-line StorageError before SQLite gives a vaguer one.
    """
    folder = path.parent
    if path.is_dir():
        raise StorageError(
            f"database.url points at the directory {path}: name a file in it, "
            f"e.g. sqlite:///{path / 'datto_rmm.db'}"
        )
    try:
        if not folder.exists():
            folder.mkdir(parents=True, mode=0o700)
            log.info("created the directory %s for the database", folder)
        if not path.exists():
            # An empty file is an empty SQLite database; SQLite gives its -wal and -shm files
            # the same mode. 0600: the tables hold the account's inventory and users.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as exc:
        if exc.errno == errno.EROFS:
            raise StorageError(SQLITE_FIXES[sqlite3.SQLITE_READONLY].format(where=path)) from None
        raise StorageError(
            f"cannot create the database {path}: {exc.strerror or exc} "
            f"({exc.filename or folder}); choose a path in a directory this user can write "
            "(database.url)"
        ) from None
    if not writable(path) or not writable(folder):  # SQLite writes -wal/-shm beside the file
        raise StorageError(SQLITE_FIXES[sqlite3.SQLITE_READONLY].format(where=path))


def _prepare_on_connect(path: Path, *_args: Any) -> None:
    prepare_sqlite_file(path)


def writable(path: Path) -> bool:
    """True when this user may write ``path`` and its file system is not mounted read-only."""
    try:
        read_only_fs = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False
    return not read_only_fs and os.access(path, os.W_OK)


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=60000")  # wait out another writer instead of failing
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # The driver's legacy transaction control off: it would emit no BEGIN before a SAVEPOINT
    # or a SELECT, so a bulk insert's SAVEPOINT ... RELEASE committed on its own.
    dbapi_conn.isolation_level = None
    # WAL lets dashboards read while a sync writes.
    dbapi_conn.execute("PRAGMA journal_mode=WAL")
    # Checkpoint every 64 MB of WAL, not every 4 MB: an index page changed by many commits
    # is then copied into the database once, not once per commit (a backfill wrote each
    # row's pages several times over). The WAL file is cut back to 64 MB after a checkpoint.
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=16384")
    dbapi_conn.execute("PRAGMA journal_size_limit=67108864")
    _sqlite_pragmas(dbapi_conn)


def _sqlite_connect_ro(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    _sqlite_pragmas(dbapi_conn)


def _sqlite_begin(statement: str, conn: Connection) -> None:
    conn.info.pop(_ENV_ERROR, None)
    # IMMEDIATE takes the write lock at once, waiting up to busy_timeout for another writer.
    # A deferred transaction that read first cannot wait: once another writer committed, its
    # snapshot is stale and its first write fails at once with "database is locked".
    conn.exec_driver_sql(statement)


# SQLite primary result codes (sqlite3 exposes them as ``sqlite_errorcode`` since 3.11)
SQLITE_FIXES = {
    sqlite3.SQLITE_FULL: "the disk holding the database {where} is full: free some space or "
    "move the database, then run again (what was committed before is kept)",
    sqlite3.SQLITE_READONLY: "the database {where} is read-only: make the file, its directory "
    "and any -wal/-shm files beside it writable for this user, or change database.url",
    sqlite3.SQLITE_CANTOPEN: "cannot open the database file {where}: it must be a file (not a "
    "directory) in a directory this user can write; check database.url",
    sqlite3.SQLITE_PERM: "no permission to open the database {where}: check its file rights",
    sqlite3.SQLITE_IOERR: "disk I/O error on the database {where}: check the disk (and its "
    "free space), then run again",
    sqlite3.SQLITE_NOTADB: "{where} is not a SQLite database: point database.url at the "
    "datto-etl database file",
    sqlite3.SQLITE_CORRUPT: "the database {where} is damaged: restore it from a backup or "
    "move it away and sync into a new file",
    sqlite3.SQLITE_BUSY: "the database {where} stayed locked by another writer for 60 s: "
    "close what holds it (a long query, a DB browser, another program) and run again",
}
# PostgreSQL SQLSTATE codes of the environment
PG_FIXES = {
    "53100": "the disk of the database server {where} is full: free space on the server, "
    "then run again (what was committed before is kept)",
    "53300": "the database server {where} has no free connection slot: raise "
    "max_connections or close idle sessions",
    "25006": "the database {where} accepts reads only (a standby after a failover?): point "
    "database.url at the primary server",
    "42501": "the database user lacks a right on {where}: grant it CREATE and write rights "
    "on the database (or use its owner)",
}
# Follow-ups of an error that already ended the transaction (e.g. SQLite rolls back a
# transaction on a full disk, then the savepoint's rollback finds no savepoint).
_AFTERMATH = ("no such savepoint", "no transaction is active", "cannot rollback")


def environment_problem(exc: BaseException | None, db: str) -> StorageError | None:
    """The StorageError for a driver error caused by the environment, else None."""
    if exc is None:
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in SQLITE_FIXES:
        return StorageError(SQLITE_FIXES[code & 0xFF].format(where=db))
    state = getattr(exc, "sqlstate", None)
    if isinstance(state, str) and state in PG_FIXES:
        return StorageError(PG_FIXES[state].format(where=db))
    return None


def _environment_error(ctx: ExceptionContext) -> BaseException | None:
    if ctx.is_pre_ping or not isinstance(ctx.original_exception, Exception):
        return None
    url = ctx.engine.url if ctx.engine is not None else None
    found = environment_problem(ctx.original_exception, where(url) if url else "in use")
    info = _info(ctx.connection)
    if found is not None:
        if info is not None:
            info[_ENV_ERROR] = found
        return found
    seen = info.get(_ENV_ERROR) if info is not None else None
    if seen is not None and any(s in str(ctx.original_exception) for s in _AFTERMATH):
        return seen  # report the cause, not "no such savepoint"
    return None


def _info(conn: Connection | None) -> dict[Any, Any] | None:
    """The connection's info dict, None when there is no usable connection."""
    if conn is None or conn.closed or conn.invalidated:
        return None
    return conn.info


def environment_error(conn: Connection, exc: BaseException) -> StorageError | None:
    """The StorageError for a driver error ``exc`` met outside SQLAlchemy's execution (a
    COPY on the raw connection), remembered on ``conn`` like :func:`_environment_error` does;
    None when the environment is not the cause."""
    found = environment_problem(exc, where(conn.engine))
    info = _info(conn)
    if found is not None and info is not None:
        info[_ENV_ERROR] = found
    return found
