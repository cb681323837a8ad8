"""Writing rows: upserts that touch only what changed, and replace-a-set for child rows.

Reading the stored values of a batch once is far cheaper than letting the database compare
every column in an ``ON CONFLICT … WHERE`` for every row, so :func:`upsert` reads the stored
rows by key, inserts the new ones in bulk (executemany), and upserts only the rows whose
values differ. A row whose values are unchanged is not written at all, so loading the same
data twice changes nothing, not even ``synced_at`` (it tells when a row last changed).

Two writers racing on a new key cannot fail the load: the bulk insert runs in a savepoint
and falls back to ``INSERT … ON CONFLICT DO UPDATE`` for the batch. Batches stay under each
dialect's bind-parameter limit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import JSON, Connection, String, Table, delete, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from etl.db.bulk import insert_rows

# PostgreSQL's protocol allows 65,535 parameters per statement; SQLite allows 32,766 since
# 3.32 and 999 before.
_PG_LIMIT = 65_535
_SQLITE_LIMIT = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
NOT_COMPARED = frozenset({"synced_at"})
T = TypeVar("T")


def param_limit(conn: Connection) -> int:
    """Bind parameters one statement may carry on this connection's dialect."""
    return _PG_LIMIT if conn.dialect.name == "postgresql" else _SQLITE_LIMIT


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + size]


def key_of(table: Table) -> list[str]:
    """Primary-key column names of ``table``."""
    return [c.name for c in table.primary_key.columns]


def _conflict_upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """``INSERT … ON CONFLICT DO UPDATE … WHERE something differs``, executemany."""
    if not rows:
        return 0
    key = key_of(table)
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    updates = [c for c in rows[0] if c not in key]
    if updates:
        compared = [c for c in updates if c not in NOT_COMPARED]
        differs = or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in compared))
        stmt = stmt.on_conflict_do_update(
            index_elements=key, set_={c: stmt.excluded[c] for c in updates}, where=differs
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=key)
    # RETURNING yields exactly the rows inserted or updated (the WHERE skips the others);
    # DBAPI rowcounts are not reliable for this on every driver.
    return len(conn.execute(stmt.returning(table.c[key[0]]), list(rows)).all())


def _clean(value: Any, length: int | None = None) -> Any:
    """A value PostgreSQL will take: no NUL characters (text and JSON refuse them), and a
    string cut to its column's length. An odd value from the API must not fail the load."""
    if isinstance(value, str):
        value = value.replace("\x00", "") if "\x00" in value else value
        return value[:length] if length and len(value) > length else value
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _checked(table: Table, key: Sequence[str]) -> list[tuple[str, int | None]]:
    """The columns that may hold text (strings, JSON documents), each with its length limit
    (None: unlimited, and always for key columns: a key is never cut)."""
    return [
        (c.name, None if c.name in key else getattr(c.type, "length", None))
        for c in table.columns
        if isinstance(c.type, String | JSON)
    ]


def _shallow_clean(
    rows: list[dict[str, Any]], checked: list[tuple[str, int | None]]
) -> list[dict[str, Any]]:
    """``rows``, with a cleaned copy of each row holding a NUL or a string too long for its
    column.

    The batch is tested column by column in C (``repr`` of the column's values shows a NUL
    anywhere, in a JSON document's keys too, as ``\\x00``; ``max`` of the lengths); only a
    column that fails is looked at row by row, and the deep :func:`_clean` runs for the
    rare value that needs it.
    """
    present = [(c, n) for c, n in checked if rows and c in rows[0]]
    suspect: list[tuple[str, int | None]] = []
    try:
        for column, limit in present:
            values = list(map(itemgetter(column), rows))
            if "\\x00" in repr(values) or (
                limit is not None and max(map(len, filter(None, values)), default=0) > limit
            ):
                suspect.append((column, limit))
    except (KeyError, TypeError):  # rows of other shapes, a non-string in a string column
        suspect = checked
    if not suspect:
        return rows
    out = []
    for row in rows:
        fixed: dict[str, Any] | None = None
        for column, limit in suspect:
            value = row.get(column)
            if _clean(value, limit) != value:
                fixed = fixed if fixed is not None else dict(row)
                fixed[column] = _clean(value, limit)
        out.append(row if fixed is None else fixed)
    return out


class Stored:
    """The stored values of some rows of ``table``, read once, to write only what changed."""

    def __init__(self, conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
        self.conn, self.table = conn, table
        self.key = key_of(table)
        checked = _checked(table, self.key)
        key = self.key
        # Pages that shift can repeat an item; the later copy is the newer one.
        self.rows: dict[tuple[Any, ...], dict[str, Any]] = {
            tuple([row[k] for k in key]): row for row in _shallow_clean(list(rows), checked)
        }
        first = next(iter(self.rows.values()), {})
        self.compared = [c for c in first if c not in self.key and c not in NOT_COMPARED]
        self.values: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.limit = param_limit(conn)

    def _keys_per_statement(self) -> int:
        # PostgreSQL plans a row-value IN list as nested ORs and runs out of stack past a few
        # thousand; a one-column IN list has no such limit below the parameter cap.
        width = len(self.key)
        return max(1, min(self.limit // width - 1, 1000 if width > 1 else 20_000))

    def _key_in(self, keys: Sequence[tuple[Any, ...]]) -> Any:
        if len(self.key) == 1:
            return self.table.c[self.key[0]].in_([k[0] for k in keys])
        first = {k[0] for k in keys}
        if len(self.key) == 2 and len(first) == 1:
            # one account's rows (the usual batch): ``a = ? AND b IN (…)`` walks the primary
            # key; SQLite plans a row-value IN list far worse (a scan per page on SQLite)
            (value,) = first
            return (self.table.c[self.key[0]] == value) & self.table.c[self.key[1]].in_(
                [k[1] for k in keys]
            )
        return tuple_(*(self.table.c[k] for k in self.key)).in_(keys)

    def read(self, where: Any) -> None:
        """Load the stored rows matching ``where``."""
        width = len(self.key)
        query = select(*(self.table.c[c] for c in [*self.key, *self.compared])).where(where)
        for found in self.conn.execute(query):
            self.values[tuple(found[:width])] = tuple(found[width:])

    def read_keys(self) -> None:
        """Load the stored rows that share a key with the new rows."""
        for part in chunks(list(self.rows), self._keys_per_statement()):
            self.read(self._key_in(part))

    def delete_missing(self) -> int:
        """Delete the stored rows read that the new rows lack; return how many."""
        stale = [k for k in self.values if k not in self.rows]
        removed = 0
        for part in chunks(stale, self._keys_per_statement()):
            removed += self.conn.execute(delete(self.table).where(self._key_in(part))).rowcount
        return removed

    def write(self) -> int:
        """Insert the new rows, upsert the differing ones; return rows changed."""
        values = self.values
        new = [r for k, r in self.rows.items() if k not in values]
        compared = self.compared
        differing = [
            r
            for k, r in self.rows.items()
            if k in values and values[k] != tuple([r[c] for c in compared])
        ]
        changed = 0
        if new:
            try:
                with self.conn.begin_nested():
                    insert_rows(self.conn, self.table, new)
                changed += len(new)
            except IntegrityError:  # another writer added some of these keys meanwhile
                changed += _conflict_upsert(self.conn, self.table, new)
        return changed + _conflict_upsert(self.conn, self.table, differing)


def upsert(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert or update ``rows`` by primary key; return how many rows changed."""
    stored = Stored(conn, table, rows)
    if not stored.rows:
        return 0
    stored.read_keys()
    return stored.write()


def replace_sets(
    conn: Connection,
    table: Table,
    owner: str,
    owners: Iterable[Any],
    rows: Iterable[dict[str, Any]],
    *,
    account_uid: str,
) -> int:
    """Make the rows of account ``account_uid`` whose ``owner`` column is in ``owners``
    exactly ``rows``.

    Stored rows of those owners that are gone are deleted, the rest written as by
    :func:`upsert`. Returns rows inserted, updated or deleted. Only the account's own rows
    are read and deleted: owner ids (sites, devices, components) may repeat in another
    account sharing the database.
    """
    stored = Stored(conn, table, rows)
    for group in chunks(list(set(owners)), stored.limit - 2):
        stored.read((table.c.account_uid == account_uid) & table.c[owner].in_(group))
    return stored.delete_missing() + stored.write()


def replace_set(
    conn: Connection,
    table: Table,
    owner: dict[str, Any],
    rows: Iterable[dict[str, Any]],
    *,
    account_uid: str,
) -> int:
    """Make the account's rows owned by ``owner`` (one column: ``{"device_uid": u}``)
    exactly ``rows``."""
    ((column, value),) = owner.items()
    return replace_sets(conn, table, column, [value], rows, account_uid=account_uid)
