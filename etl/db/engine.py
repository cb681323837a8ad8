"""Engines for SQLite and PostgreSQL (psycopg 3), with the settings each needs."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from etl.errors import DatabaseError


def normalize_url(url: str) -> str:
    """Pick psycopg 3 for PostgreSQL URLs given without a driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kw: Any) -> Engine:
    """Create an engine; a malformed URL or unknown dialect is a one-line DatabaseError."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        raise DatabaseError(
            f"database URL {url!r} is not valid: use sqlite:///path.db or "
            "postgresql://user@host/dbname (DATTO_ETL_DATABASE_URL)"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(
            f"database {parsed.get_backend_name()!r} is not supported: use SQLite or PostgreSQL"
        )
    # Sorted keys make a re-sent JSON document byte-identical, so upserts see "no change".
    serializer = functools.partial(json.dumps, sort_keys=True, default=str)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, json_serializer=serializer, connect_args={"timeout": 60}, **kw
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, json_serializer=serializer, pool_pre_ping=True, **kw)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets dashboards read while a sync writes; busy_timeout waits out a writer.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
