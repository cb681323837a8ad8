"""Batched upserts (``INSERT … ON CONFLICT DO UPDATE``) for SQLite and PostgreSQL.

A row is only rewritten when one of its values differs from the stored one, so loading the
same data twice changes nothing, not even ``synced_at`` (it tells when a row last changed).
Batches stay under each dialect's bind-parameter limit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, or_, tuple_
from sqlalchemy.dialects import postgresql, sqlite

# PostgreSQL's protocol allows 65,535 parameters per statement; SQLite allows 32,766 since
# 3.32 and 999 before.
_PG_LIMIT = 65_535
_SQLITE_LIMIT = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
NOT_COMPARED = frozenset({"synced_at"})


def param_limit(conn: Connection) -> int:
    """Bind parameters one statement may carry on this connection's dialect."""
    return _PG_LIMIT if conn.dialect.name == "postgresql" else _SQLITE_LIMIT


def _dedupe(rows: Sequence[dict[str, Any]], key: Sequence[str]) -> list[dict[str, Any]]:
    # One INSERT may not touch a row twice (PostgreSQL refuses); pages that shift can repeat
    # an item, and the later copy is the newer one.
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        by_key[tuple(row[k] for k in key)] = row
    return list(by_key.values())


def upsert(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert or update ``rows`` by primary key; return how many rows changed."""
    rows = list(rows)
    if not rows:
        return 0
    key = [c.name for c in table.primary_key.columns]
    rows = _dedupe(rows, key)
    columns = list(rows[0])
    batch = max(1, param_limit(conn) // len(columns) - 1)
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    changed = 0
    for start in range(0, len(rows), batch):
        stmt = insert(table).values(rows[start : start + batch])
        updates = [c for c in columns if c not in key]
        if not updates:
            stmt = stmt.on_conflict_do_nothing(index_elements=key)
        else:
            differs = or_(
                *(
                    table.c[c].is_distinct_from(stmt.excluded[c])
                    for c in updates
                    if c not in NOT_COMPARED
                )
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=key, set_={c: stmt.excluded[c] for c in updates}, where=differs
            )
        # RETURNING counts exactly the rows inserted or updated (rows skipped by the WHERE
        # are not returned); DBAPI rowcounts are not reliable for this on every driver.
        changed += len(conn.execute(stmt.returning(table.c[key[0]])).all())
    return changed


def replace_set(
    conn: Connection,
    table: Table,
    owner: dict[str, Any],
    rows: Iterable[dict[str, Any]],
) -> int:
    """Make the rows owned by ``owner`` (e.g. ``{"device_uid": u}``) exactly ``rows``.

    Rows of the set that are gone are deleted; the rest is upserted. Returns rows changed.
    """
    rows = list(rows)
    key = [c.name for c in table.primary_key.columns]
    owned = and_(*(table.c[k] == v for k, v in owner.items()))
    rest = [k for k in key if k not in owner]
    stmt = delete(table).where(owned)
    if rows:
        keep = {tuple(r[k] for k in rest) for r in rows}
        stmt = stmt.where(tuple_(*(table.c[k] for k in rest)).not_in(list(keep)))
    removed = conn.execute(stmt).rowcount
    return max(removed, 0) + upsert(conn, table, rows)
