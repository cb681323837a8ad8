"""Requests to the Datto API: budgeted transport, retries with backoff, ``nextPageUrl`` paging.

Small parts, each swappable: :class:`~etl.api.auth.DattoAuth` attaches the token,
:class:`BudgetTransport` spends one slot of the rate budget per request (token calls included)
and counts it for the resource that sent it, :class:`DattoClient` turns answers into JSON or
errors of :mod:`etl.errors` and retries the transient ones, and :meth:`DattoClient.paginate`
follows ``nextPageUrl`` without ever leaving the configured origin.

Rate limits: the budget is calibrated against ``/v2/system/request_rate`` (:mod:`.calibrate`);
a 429 pauses every thread (``Retry-After`` or Datto's 60 s) and slows the pace; a 403 after a
429 (or an edge's non-JSON 403) is an IP block: every thread stops, and the block is
remembered on disk (:mod:`.memory`) so no process calls the API before it ends.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import random
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import httpx

from etl import __version__
from etl.api.auth import DattoAuth, same_origin
from etl.api.budget import Clock, RateBudget, SystemClock
from etl.api.calibrate import maybe_calibrate
from etl.api.memory import AccountMemory, budget_for, remember_window
from etl.api.paging import ListWalk, Page
from etl.api.transport import BudgetTransport, RequestCounter, request_scope
from etl.config import BudgetSettings, DattoSettings
from etl.errors import (
    APIError,
    BadRequestError,
    CredentialsError,
    FatalAPIError,
    IPBlockedError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RetriableAPIError,
    ServerError,
    TransportError,
    UnsafeURLError,
)

log = logging.getLogger(__name__)
CALIBRATION_LANE = "calibrate"
MAX_429_PER_REQUEST = 3  # a request limited this often fails its resource (others go on)


class DattoClient:
    """A Datto API session: one httpx client, one token, one budget, one origin.

    :meth:`scoped` gives a view that shares all of that but counts requests separately,
    so every resource run reports its own request count.
    """

    def __init__(
        self,
        settings: DattoSettings,
        budget_settings: BudgetSettings | None = None,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        budget: RateBudget | None = None,
    ) -> None:
        budget_settings = budget_settings or BudgetSettings()
        self.settings = settings
        self.budget_settings = budget_settings
        self.clock = clock or SystemClock()
        self.origin = httpx.URL(settings.origin)
        # one budget per account and process, remembered across processes; a test's own
        # clock or budget gets a private one
        self.shared = budget is None and clock is None
        self.budget = budget or (
            budget_for(settings, budget_settings)
            if self.shared
            else RateBudget(
                share=budget_settings.requests_per_minute,
                window=budget_settings.window_seconds,
                clock=self.clock,
                low_share=budget_settings.low_priority_share,
                account_limit=budget_settings.account_limit,
                cutoff_ratio=budget_settings.cutoff_ratio,
                calibrate_every=budget_settings.calibrate_every_seconds,
            )
        )
        self.memory = AccountMemory.of(settings, budget_settings) if self.shared else None
        self.calibration = True  # read /v2/system/request_rate at the start and regularly
        key = settings.api_key.get_secret_value() if settings.api_key else ""
        secret = settings.api_secret.get_secret_value() if settings.api_secret else ""
        self.auth = DattoAuth(settings.origin, key, secret, clock=self.clock.now)
        inner = transport or httpx.HTTPTransport(retries=0)
        self.http = httpx.Client(
            auth=self.auth,
            transport=BudgetTransport(inner, self.budget),
            timeout=httpx.Timeout(
                settings.timeout_seconds, connect=min(10.0, settings.timeout_seconds)
            ),
            headers={"Accept": "application/json", "User-Agent": f"datto-rmm-etl/{__version__}"},
            follow_redirects=False,  # a redirect could lead the token elsewhere
        )
        self.counter = RequestCounter()
        self.max_retries = settings.max_retries
        self.page_size = settings.page_size
        self.concurrency = budget_settings.concurrency
        self.priority = "normal"

    def scoped(self, priority: str | None = None) -> DattoClient:
        """A view sharing this session, with a fresh request counter (and a budget priority)."""
        view = object.__new__(DattoClient)
        view.__dict__.update(self.__dict__)
        view.counter = RequestCounter()
        view.priority = priority or self.priority
        return view

    def close(self) -> None:
        """Close the connection pool and hand the window over to the next process."""
        if self.memory is not None:
            remember_window(self.settings, self.budget_settings, self.budget)
        self.http.close()

    def __enter__(self) -> DattoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- single requests -------------------------------------------------------------------

    def url(self, path: str) -> httpx.URL:
        """``/v2/...`` → absolute API URL on the configured origin."""
        return self.origin.join("/api" + path if path.startswith("/v2/") else path)

    def request_once(self, path: str, *, calibrating: bool = False) -> Any:
        """One GET without retries (429 and 403 bookkeeping still done)."""
        try:
            return self._send_once(self.url(path), None, calibrating=calibrating)
        except RateLimitedError as exc:
            self._on_429(exc)
            raise

    def _send_once(
        self, url: httpx.URL, params: dict[str, Any] | None, *, calibrating: bool = False
    ) -> Any:
        scope = request_scope(self.counter, CALIBRATION_LANE if calibrating else self.priority)
        try:
            with scope:
                response = self.http.get(url, params=params)
        except httpx.TimeoutException as exc:
            raise TransportError(f"timeout on {url.path}", url=str(url)) from exc
        except httpx.TransportError as exc:
            raise TransportError(
                f"connection failed on {url.path}: {type(exc).__name__}", url=str(url)
            ) from exc
        except MalformedResponseError as exc:  # the token call answered no token: why?
            if exc.status == 429:
                raise RateLimitedError(
                    "the token endpoint answered 429", retry_after=None, status=429
                ) from None
            if exc.status == 403:
                raise self._blocked() from None
            raise
        return self._decode(response)

    def _decode(self, response: httpx.Response) -> Any:
        status, path = response.status_code, response.request.url.path
        if status == 200:
            try:
                return response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise MalformedResponseError(
                    f"{path} answered a body that is not complete JSON", status=status
                ) from None
        if status == 401:
            raise CredentialsError(
                "Datto refused the API token even after a refresh: check DATTO_API_KEY and "
                "DATTO_API_SECRET",
                status=status,
            )
        if status == 429:
            raise RateLimitedError(
                f"{path} answered 429 (account rate limit reached)",
                retry_after=_retry_after(response),
                status=status,
            )
        if status == 403:
            if self.budget.recently_limited() or not _is_json(response):
                raise self._blocked()
            raise PermissionDeniedError(
                f"Datto answered 403 on {path}: the API user lacks permission for it",
                status=status,
            )
        if status == 404:
            raise NotFoundError(f"{path} answered 404 (not found)", status=status)
        if status == 400:
            raise BadRequestError(f"{path} answered 400 (bad request)", status=status)
        if status >= 500:
            raise ServerError(f"{path} answered {status}", status=status)
        raise FatalAPIError(f"{path} answered an unexpected {status}", status=status)

    def _blocked(self) -> IPBlockedError:
        """An IP block: stop every thread now and remember it for the processes to come."""
        seconds = self.budget.api_seconds(self.budget_settings.block_seconds)
        self.budget.block(seconds)
        until = time.time() + seconds
        message = (
            f"Datto blocked this IP (403 after a rate-limit breach); no API call "
            f"until {time.strftime('%H:%M:%S', time.localtime(until))} "
            f"({seconds:.0f} s): run again after that"
        )
        if self.memory is not None:
            self.memory.record_block(until, message)
        log.error(message)
        return IPBlockedError(message, until=until, status=403)

    def _on_429(self, exc: RateLimitedError) -> float:
        wait = self.budget.api_seconds(exc.retry_after if exc.retry_after is not None else 60.0)
        self.budget.on_rate_limited(wait)
        log.warning("429 from Datto: pausing %.1f s and slowing down", wait)
        return wait

    def backoff(self, attempt: int) -> float:
        """Capped exponential backoff with full jitter, in budget seconds."""
        return self.budget.api_seconds(random.uniform(0, min(30.0, 0.5 * 2**attempt)))

    def get(self, path_or_url: str | httpx.URL, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document, retrying transient faults; fatal ones raise at once."""
        url = path_or_url if isinstance(path_or_url, httpx.URL) else self.url(path_or_url)
        if not same_origin(url, self.origin):
            raise UnsafeURLError(f"refusing to call {url.host}: not the configured origin")
        attempt = 0
        limited = 0
        while True:
            maybe_calibrate(self)
            try:
                return self._send_once(url, params)
            except RateLimitedError as exc:
                limited += 1
                self._on_429(exc)  # the budget pauses every thread; acquire() waits it out
                if limited > MAX_429_PER_REQUEST:
                    raise
            except RetriableAPIError as exc:
                if attempt >= self.max_retries:
                    raise
                delay = self.backoff(attempt)
                attempt += 1
                log.info("retrying %s in %.1f s after: %s", url.path, delay, exc)
                self.clock.sleep(delay)

    def get_many(
        self, paths: Iterable[str], *, concurrency: int | None = None
    ) -> Iterator[tuple[str, Any | APIError]]:
        """GET many documents with bounded concurrency under the one budget.

        Yields ``(path, json)`` or ``(path, error)`` for fatal per-item errors (404, 400…) and
        for transient ones that outlived their retries, in completion order; the caller
        decides what to skip. Credentials errors and IP blocks are raised, since they stop
        the run. Paths are taken lazily (a few per worker ahead), and when the caller stops
        iterating, nothing more is sent.
        """

        def one(path: str) -> tuple[str, Any | APIError]:
            try:
                return path, self.get(path)
            except (CredentialsError, IPBlockedError):
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
                f"refusing nextPageUrl on {url.scheme}://{url.host}{url.path}: it leaves the "
                f"configured origin {self.origin}; nothing was sent there"
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


def _is_json(response: httpx.Response) -> bool:
    """True when the body parses as JSON (Datto's own errors do; an edge's block page not)."""
    try:
        response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return True


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


__all__ = ["APIError", "BudgetTransport", "DattoAuth", "DattoClient", "Page", "RequestCounter"]
