"""Fetching for many owners at once, shared by the per-site and per-device shapes.

* :func:`fetch_lists` reads many paged lists at once (one per site or device) through
  ``client.get_many``, so the fan-out stays bounded and under the one rate budget.
* :func:`fetch_answers` is the same for one document per owner, or a list.
* :class:`Misses` counts owners whose fetch failed for a passing reason and fails the run
  at its end (:class:`~etl.errors.IncompleteRunError`), after the rest was saved.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from etl.api.client import DattoClient
from etl.errors import (
    APIError,
    IncompleteRunError,
    MalformedResponseError,
    ResponseTooLargeError,
)

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
    pages failed for good (404 on a device that just left, a 400, a malformed page, retries
    used up): the caller skips that owner. Each list is walked by the same rules as
    ``client.paginate`` (:class:`~etl.api.paging.ListWalk`).
    """
    walks = {path: client.walk(path, items_key, params) for path in paths}
    gathered: dict[str, list[dict[str, Any]]] = {path: [] for path in paths}
    while walks:
        pending = {str(walk.request_url): path for path, walk in walks.items()}
        for url, body in client.get_many(list(pending)):
            path = pending[url]
            if isinstance(body, APIError):
                del walks[path]
                yield path, body
                continue
            walk = walks[path]
            try:
                page = walk.page(body)
            except (MalformedResponseError, ResponseTooLargeError) as exc:  # this owner's page
                del walks[path]
                yield path, exc
                continue
            # A hostile or looping next link is not one owner's problem: it stops the run.
            walk.advance(page, client.next_url)
            gathered[path].extend(page.items)
            if walk.url is None:
                del walks[path]
                yield path, gathered.pop(path)


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
        # the session warned of the endpoint family once and counts the rest; the run fails
        # with the count at its end (check): not a line per owner
        log.debug("%s of %s not fetched: %s", self.what, owner, error)
        self.count += 1
        self.last = error

    def check(self, total: int) -> None:
        """Raise if anything was missed."""
        if self.last is not None:
            raise IncompleteRunError(
                f"{self.what}: {self.count} of {total} could not be fetched and will be asked "
                f"again next run; the rest is saved (last error: {self.last})",
                missed=self.count,
                total=total,
            )
