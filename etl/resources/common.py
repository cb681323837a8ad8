"""Helpers the per-site, per-device and snapshot resources share.

* :func:`fetch_lists` reads many paged lists at once (one per site or device) through
  ``client.get_many``, so the fan-out stays bounded and under the one rate budget.
* :func:`fetch_answers` is the same for one document per owner, or a list.
* :class:`Misses` counts owners whose fetch failed for a passing reason and fails the run
  at its end, after the rest was saved.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlencode

from etl.api.client import MAX_PAGES, DattoClient
from etl.errors import APIError, FatalAPIError, MalformedResponseError, RetriableAPIError
from etl.resources.base import pick

log = logging.getLogger(__name__)

#: Owners (devices, sites) handled per transaction: progress survives a stop or a crash, and
#: a stop request is honoured within one batch.
BATCH = 200


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


def fetch_answers(
    client: DattoClient, paths: Sequence[str], items_key: str | None
) -> Iterator[tuple[str, Any]]:
    """``(path, answer or APIError)`` per path: one document each (``items_key`` None) or
    the whole paged list under ``items_key`` (:func:`fetch_lists`)."""
    if items_key is None:
        return client.get_many(paths)
    return fetch_lists(client, paths, items_key)


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


def numbered(items: Any, owner: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(item, owner + position)`` for each dict of a list (the API gives list rows no key)."""
    if not isinstance(items, list):
        return []
    return [
        (item, {**owner, "position": n}) for n, item in enumerate(items) if isinstance(item, dict)
    ]
