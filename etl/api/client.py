"""What a resource run talks to: a light view over the shared :class:`DattoSession`.

A :class:`DattoClient` is constructed per resource run, ``DattoClient(session, lane)``: it has
its own :class:`~etl.api.transport.RequestCounter` (every request sent on its behalf, token
and calibration calls included, so each run reports its own count) and its budget
:class:`~etl.api.budget.Lane`; the httpx client, token, budget, origin and stop event are the
session's (:mod:`etl.api.session`). Resources use :meth:`~DattoClient.get`,
:meth:`~DattoClient.get_many`, :meth:`~DattoClient.paginate` (which follows ``nextPageUrl``
without ever leaving the configured origin), :meth:`~DattoClient.walk`,
:meth:`~DattoClient.next_url`, :attr:`~DattoClient.page_size` and :attr:`~DattoClient.counter`.
"""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import httpx

from etl.api.auth import describe_origin, same_origin
from etl.api.breaker import Breaker, endpoint_family
from etl.api.budget import Lane
from etl.api.paging import ListWalk, Page
from etl.api.session import DattoSession
from etl.api.transport import RequestCounter
from etl.errors import (
    APIError,
    CircuitOpenError,
    CredentialsError,
    IPBlockedError,
    MalformedResponseError,
    UnsafeURLError,
)


class DattoClient:
    """One resource run's view of a :class:`DattoSession`: its own request counter and lane."""

    def __init__(self, session: DattoSession, lane: Lane = Lane.NORMAL) -> None:
        self.session = session
        self.lane = Lane(lane)
        self.counter = RequestCounter()
        self.breaker = Breaker(session.settings.breaker_failures)  # this run's own

    @property
    def origin(self) -> httpx.URL:
        """The configured origin every request goes to."""
        return self.session.origin

    @property
    def page_size(self) -> int:
        """Items per page asked of paged lists (``max``)."""
        return self.session.page_size

    @property
    def concurrency(self) -> int:
        """How many requests :meth:`get_many` keeps out at once by default."""
        return self.session.concurrency

    def url(self, path: str) -> httpx.URL:
        """``/v2/...`` → absolute API URL on the configured origin."""
        return self.session.url(path)

    def get(self, path_or_url: str | httpx.URL, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document, retrying transient faults; fatal ones raise at once.

        Raises CircuitOpenError, without sending, once this run's calls of the endpoint
        family failed ``datto.breaker_failures`` times in a row (:mod:`etl.api.breaker`).
        """
        url = path_or_url if isinstance(path_or_url, httpx.URL) else self.url(path_or_url)
        family = endpoint_family(url)
        try:
            body = self.session.get(
                url,
                params,
                counter=self.counter,
                lane=self.lane,
                guard=lambda: self.breaker.check(family),  # before every attempt
            )
        except CircuitOpenError:
            raise
        except APIError as exc:
            self.breaker.failed(family, exc)
            raise
        self.breaker.passed(family)
        return body

    def get_many(
        self, paths: Iterable[str], *, concurrency: int | None = None
    ) -> Iterator[tuple[str, Any | APIError]]:
        """GET many documents with bounded concurrency under the one budget.

        Yields ``(path, json)`` or ``(path, error)`` for fatal per-item errors (404, 400…) and
        for transient ones that outlived their retries, in completion order; the caller
        decides what to skip. Credentials errors, IP blocks, an open circuit and a stop
        request are raised, since they stop the run (the circuit: the resource). Paths are
        taken lazily (a few per worker ahead), and when the caller stops iterating, nothing
        more is sent.
        """

        def one(path: str) -> tuple[str, Any | APIError]:
            try:
                return path, self.get(path)
            except (CredentialsError, IPBlockedError, CircuitOpenError):
                raise
            except APIError as exc:
                return path, exc

        workers = max(1, concurrency or self.concurrency)
        todo = iter(paths)
        pending: set[Future[tuple[str, Any | APIError]]] = set()
        with ThreadPoolExecutor(workers, thread_name_prefix="datto-get") as pool:

            def submit(batch: Iterable[str]) -> None:
                for path in batch:
                    pending.add(pool.submit(contextvars.copy_context().run, one, path))

            try:
                submit(itertools.islice(todo, 2 * workers))
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        pending.discard(future)
                        yield future.result()
                        submit(itertools.islice(todo, 1))
            finally:
                for future in pending:  # a fatal error or a caller that stopped reading
                    future.cancel()

    # -- paging ----------------------------------------------------------------------------

    def next_url(self, next_page: object, params: dict[str, Any]) -> httpx.URL | None:
        """Validate a ``nextPageUrl``: same origin, under /api, with our filters re-applied."""
        if not next_page:
            return None
        if not isinstance(next_page, str):
            raise MalformedResponseError(f"nextPageUrl is not a string: {next_page!r:.80}")
        try:
            url = self.origin.join(next_page)  # absolute stays absolute; relative joins
        except httpx.InvalidURL:
            raise UnsafeURLError(f"refusing nextPageUrl {next_page!r:.120}: not a URL") from None
        if not same_origin(url, self.origin) or not url.path.startswith("/api/"):
            raise UnsafeURLError(
                f"refusing nextPageUrl on {describe_origin(url)}{url.path}: it leaves the "
                f"configured origin {describe_origin(self.origin)}; nothing was sent there"
            )
        missing = {k: v for k, v in params.items() if k not in url.params}
        return url.copy_merge_params(missing) if missing else url

    def paginate(
        self, path: str, items_key: str, params: dict[str, Any] | None = None
    ) -> Iterator[Page]:
        """Yield the pages of a list, from page 0, following ``nextPageUrl``.

        Stops on a null/empty ``nextPageUrl`` or an empty page. Filters in ``params`` are
        re-applied to every next URL, since Datto may drop them (see :class:`ListWalk`).
        """
        walk = self.walk(path, items_key, params)
        while walk.url is not None:
            page = walk.page(self.get(walk.url, walk.query))
            yield page
            walk.advance(page, self.next_url)

    def walk(self, path: str, items_key: str, params: dict[str, Any] | None = None) -> ListWalk:
        """A :class:`ListWalk` from page 0 of ``path`` with ``max`` and our filters."""
        return ListWalk.start(
            self.url(path), path, items_key, {"max": self.page_size, **(params or {})}
        )


__all__ = ["DattoClient", "Page", "RequestCounter"]
