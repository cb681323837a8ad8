"""Helpers the per-site, per-device and snapshot resources share.

* :func:`fetch_lists` reads many paged lists at once (one per site or device) through
  ``client.get_many``, so the fan-out stays bounded and under the one rate budget.
* :func:`replace_sets` makes the child rows of many owners exactly the rows given, in a few
  statements per batch of owners (``etl.db.load.replace_set`` does the same for one owner).
* :class:`Misses` counts owners whose fetch failed for a passing reason and fails the run
  at its end, after the rest was saved.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from sqlalchemy import Connection, Table, delete, select, tuple_

from etl.api.client import MAX_PAGES, DattoClient
from etl.db.load import NOT_COMPARED, param_limit, upsert
from etl.errors import APIError, FatalAPIError, MalformedResponseError, RetriableAPIError
from etl.resources.base import pick

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Owners (devices, sites) handled per transaction: progress survives a stop or a crash, and
#: a stop request is honoured within one batch.
BATCH = 200


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + size]


def fetch_lists(
    client: DattoClient,
    paths: Sequence[str],
    items_key: str,
    params: dict[str, Any] | None = None,
) -> Iterator[tuple[str, list[dict[str, Any]] | APIError]]:
    """Every page of the lists at ``paths``, fetched in parallel rounds.

    Yields ``(path, items)`` once a list is complete, or ``(path, error)`` when one of its
    pages failed for good (404 on a device that just left, a 400, retries used up): the
    caller skips that owner. ``nextPageUrl`` is checked by the client's origin guard and gets
    our filters back; a list stops on a null next link or an empty page, as in ``paginate``.
    """
    params = {"max": client.page_size, **(params or {})}
    gathered: dict[str, list[dict[str, Any]]] = {p: [] for p in paths}
    seen: dict[str, set[str]] = {p: set() for p in paths}
    pending = {f"{p}?{urlencode(params)}": p for p in paths}
    while pending:
        following: dict[str, str] = {}
        for url, body in client.get_many(list(pending)):
            path = pending[url]
            if isinstance(body, APIError):
                gathered.pop(path, None)
                yield path, body
                continue
            items = body.get(items_key) if isinstance(body, dict) else None
            if not isinstance(items, list | None):
                gathered.pop(path, None)
                yield path, MalformedResponseError(f"{path}: answer has no '{items_key}' list")
                continue
            items = items or []
            gathered[path].extend(items)
            seen[path].add(url)
            nxt = client.next_url(pick(body, "pageDetails", "nextPageUrl"), params)
            if items and nxt is not None:
                if str(nxt) in seen[path] or len(seen[path]) >= MAX_PAGES:
                    raise FatalAPIError(f"{path}: nextPageUrl loops back to a page already read")
                following[str(nxt)] = path
            else:
                yield path, gathered.pop(path)
        pending = following


class Misses:
    """Owners whose fetch failed for a passing reason this run (retries used up).

    They are fetched again next run; :meth:`check` fails the resource at the end, after the
    rest was saved, so the run's status and the exit code say something is missing.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self.count = 0
        self.last: APIError | None = None

    def add(self, owner: str, error: APIError) -> None:
        """Count one owner that could not be fetched."""
        log.warning("%s of %s not fetched: %s", self.what, owner, error)
        self.count += 1
        self.last = error

    def check(self, total: int) -> None:
        """Raise if anything was missed."""
        if self.last is not None:
            raise RetriableAPIError(
                f"{self.what}: {self.count} of {total} could not be fetched and will be asked "
                f"again next run; the rest is saved (last error: {self.last})",
                status=self.last.status,
            )


def key_of(table: Table) -> list[str]:
    """Primary-key column names of ``table``."""
    return [c.name for c in table.primary_key.columns]


class Stored:
    """The stored values of some rows of ``table``, read once, to write only what changed.

    Reading a few thousand rows is far cheaper than compiling upserts for them: new rows
    are then inserted in bulk (executemany), rows whose values differ are upserted, and
    unchanged rows cost no statement (so ``synced_at`` still tells when a row last changed).
    """

    def __init__(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        self.conn, self.table = conn, table
        self.key = key_of(table)
        self.rows = {tuple(r[k] for k in self.key): r for r in rows}  # repeated: last wins
        first = rows[0] if rows else {}
        self.compared = [c for c in first if c not in self.key and c not in NOT_COMPARED]
        self.values: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.limit = param_limit(conn)

    def read(self, where: Any) -> None:
        """Load the stored rows matching ``where``."""
        width = len(self.key)
        query = select(*(self.table.c[c] for c in [*self.key, *self.compared])).where(where)
        for found in self.conn.execute(query):
            self.values[tuple(found[:width])] = tuple(found[width:])

    def read_keys(self) -> None:
        """Load the stored rows that share a key with the new rows."""
        columns = [self.table.c[k] for k in self.key]
        for part in chunks(list(self.rows), max(1, self.limit // len(self.key) - 1)):
            self.read(tuple_(*columns).in_(part))

    def delete_missing(self) -> int:
        """Delete the stored rows read that the new rows lack; return how many."""
        columns = [self.table.c[k] for k in self.key]
        stale = [k for k in self.values if k not in self.rows]
        removed = 0
        for part in chunks(stale, max(1, self.limit // len(self.key) - 1)):
            removed += self.conn.execute(
                delete(self.table).where(tuple_(*columns).in_(part))
            ).rowcount
        return removed

    def write(self) -> int:
        """Insert the new rows, upsert the differing ones; return rows changed."""
        new = [r for k, r in self.rows.items() if k not in self.values]
        if new:
            self.conn.execute(self.table.insert(), new)
        differing = [
            r
            for k, r in self.rows.items()
            if k in self.values and self.values[k] != tuple(r[c] for c in self.compared)
        ]
        return len(new) + upsert(self.conn, self.table, differing)


def upsert_changed(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """``etl.db.load.upsert`` for large batches: same outcome, only changed rows written."""
    stored = Stored(conn, table, rows)
    stored.read_keys()
    return stored.write()


def replace_sets(
    conn: Connection,
    table: Table,
    owner: str,
    owners: Iterable[Any],
    rows: Sequence[dict[str, Any]],
) -> int:
    """Make the rows whose ``owner`` column is in ``owners`` exactly ``rows``.

    Same outcome as ``etl.db.load.replace_set`` per owner, in a few statements for a whole
    batch of owners: stored rows that are gone are deleted, the rest written as by
    :class:`Stored`. Returns rows inserted, updated or deleted.
    """
    stored = Stored(conn, table, rows)
    for group in chunks(list(set(owners)), stored.limit - 1):
        stored.read(table.c[owner].in_(group))
    return stored.delete_missing() + stored.write()


def numbered(items: Any, owner: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(item, owner + position)`` for each dict of a list (the API gives list rows no key)."""
    if not isinstance(items, list):
        return []
    return [
        (item, {**owner, "position": n}) for n, item in enumerate(items) if isinstance(item, dict)
    ]
