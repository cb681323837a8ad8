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


def replace_sets(
    conn: Connection,
    table: Table,
    owner: str,
    owners: Iterable[Any],
    rows: Sequence[dict[str, Any]],
) -> int:
    """Make the rows whose ``owner`` column is in ``owners`` exactly ``rows``.

    The stored rows of those owners are read first; rows that are gone are deleted by key,
    new ones inserted in bulk, and only rows whose values differ are upserted (unchanged
    rows are not rewritten, so ``synced_at`` still tells when a row first appeared or last
    changed). Same outcome as ``etl.db.load.replace_set`` per owner, in a few statements
    for a whole batch of owners. Returns rows inserted, updated or deleted.
    """
    key = key_of(table)
    by_key = {tuple(r[k] for k in key): r for r in rows}  # a repeated item: the last wins
    compared = [c for c in (rows[0] if rows else {}) if c not in key and c not in NOT_COMPARED]
    columns = [table.c[k] for k in key]
    limit = param_limit(conn)
    stored: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for group in chunks(list(set(owners)), limit - 1):
        query = select(*columns, *(table.c[c] for c in compared)).where(table.c[owner].in_(group))
        for found in conn.execute(query):
            stored[tuple(found[: len(key)])] = tuple(found[len(key) :])
    stale = [k for k in stored if k not in by_key]
    changed = 0
    for part in chunks(stale, max(1, limit // len(key) - 1)):
        changed += conn.execute(delete(table).where(tuple_(*columns).in_(part))).rowcount
    new = [r for k, r in by_key.items() if k not in stored]
    if new:  # executemany: far cheaper than an upsert for rows known to be absent
        conn.execute(table.insert(), new)
        changed += len(new)
    differing = [
        r for k, r in by_key.items() if k in stored and stored[k] != tuple(r[c] for c in compared)
    ]
    return changed + upsert(conn, table, differing)


def numbered(items: Any, owner: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(item, owner + position)`` for each dict of a list (the API gives list rows no key)."""
    if not isinstance(items, list):
        return []
    return [
        (item, {**owner, "position": n}) for n, item in enumerate(items) if isinstance(item, dict)
    ]
