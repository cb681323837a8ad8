"""New rows handed to the driver already in database form, inside the caller's transaction.

SQLAlchemy's ``execute(table.insert(), [dict, …])`` processes every parameter of every row
through its execution context; for a bulk load that costs more than the database's own
work. Here each (table, dialect, columns) gets a plan once: the SQL text and the column
types' own bind processors (the very functions SQLAlchemy would call, so the stored values
are identical: UTC timestamps, JSON serialized with sorted keys, booleans). Rows become plain
tuples and go to the driver in one call:

- SQLite: ``executemany`` through ``exec_driver_sql`` (the engine's error handling stays:
  a full disk is still a one-line StorageError);
- PostgreSQL: ``COPY … FROM STDIN`` into the table for batches of :data:`COPY_MIN` rows or
  more (a unique violation is raised as SQLAlchemy's IntegrityError, so the caller's
  savepoint fallback to ``INSERT … ON CONFLICT`` works as before), ``executemany`` below.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Boolean, Connection, Dialect, Table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeEngine

from etl.db.engine import environment_error
from etl.db.schema import UTCDateTime

#: Below this many rows a COPY's extra round trips cost more than executemany's pipeline.
COPY_MIN = 32


@dataclass(frozen=True)
class Plan:
    """How rows with these columns go into this table on this dialect."""

    columns: tuple[str, ...]
    insert_sql: str
    copy_sql: str
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def tuples(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """The rows as parameter tuples in database form."""
        get = itemgetter(*self.columns)
        if len(self.columns) == 1:
            return [(get(r),) for r in rows]
        if not self.processors:
            return [get(r) for r in rows]
        out = []
        procs = self.processors
        for row in rows:
            values = list(get(row))
            for i, process in procs:
                values[i] = process(values[i])
            out.append(tuple(values))
        return out


@functools.lru_cache(maxsize=512)
def plan(table: Table, dialect: Dialect, columns: tuple[str, ...]) -> Plan:
    """The :class:`Plan` for ``columns`` of ``table`` on ``dialect`` (made once)."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    processors = []
    for i, name in enumerate(columns):
        process = _processor(table.c[name].type, dialect)
        if process is not None:
            processors.append((i, process))
    target = quote(table.name)
    return Plan(
        columns=columns,
        insert_sql=f"INSERT INTO {target} ({names}) VALUES ({', '.join([mark] * len(columns))})",
        copy_sql=f"COPY {target} ({names}) FROM STDIN",
        processors=tuple(processors),
    )


def _processor(kind: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's bind processor on ``dialect``, or an equal but cheaper one."""
    if isinstance(kind, Boolean):
        # Both drivers take Python booleans as SQLAlchemy would send them (SQLite: 1/0).
        return None
    if isinstance(kind, UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_utc
    return kind.dialect_impl(dialect).bind_processor(dialect)


def _sqlite_utc(value: datetime | None) -> str | None:
    """What UTCDateTime + SQLite's DATETIME store: naive UTC as ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    if value is None:
        return None
    if value.tzinfo is UTC:
        value = value.replace(tzinfo=None)
    elif value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``, in the open transaction."""
    if not rows:
        return
    how = plan(table, conn.dialect, tuple(rows[0]))
    data = how.tuples(rows)
    if conn.dialect.name == "postgresql" and len(data) >= COPY_MIN:
        _copy(conn, how, data)
    else:
        conn.exec_driver_sql(how.insert_sql, data)


def _copy(conn: Connection, how: Plan, data: list[Any]) -> None:
    import psycopg  # PostgreSQL's driver; SQLite users never load it

    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    try:
        with raw.cursor() as cursor, cursor.copy(how.copy_sql) as copy:
            for row in data:
                copy.write_row(row)
    except psycopg.errors.UniqueViolation as exc:
        raise IntegrityError(how.copy_sql, None, exc) from None
    except psycopg.Error as exc:
        found = environment_error(conn, exc)
        if found is not None:
            raise found from None
        raise
