"""The shared half of talking to Datto: one session per account, opened by a sync or the daemon.

A :class:`DattoSession` holds what every request shares: one ``httpx.Client`` (one connection
pool), the token (:class:`~etl.api.auth.DattoAuth`), the rate budget behind
:class:`~etl.api.transport.BudgetTransport`, the origin, the account's memory on disk, the
settings, the calibration hook and the stop event. Resources never hold it: each run gets a
light :class:`~etl.api.client.DattoClient` over it, with its own request counter and budget
lane (as dlt's rest_client sits on a shared ``requests.Session``).

:meth:`DattoSession.get` is one logical GET on behalf of such a view: the calibration hook
first when a look is due, then the request, its answer turned into JSON or an error of
:mod:`etl.errors`, and transient faults retried with backoff. A 429 pauses every thread
(``Retry-After`` or Datto's 60 s) and slows the pace; a 403 after a 429 (or an edge's non-JSON
403) is an IP block: every thread stops, and the block is remembered on disk (:mod:`.memory`)
so no process calls the API before it ends.

Stopping: ``stop`` is a ``threading.Event`` (SIGINT/SIGTERM set it in ``datto-etl sync`` and
``datto-etl run``). Budget waits and retry backoff sleep on it, so setting it ends them at once
with :class:`~etl.errors.StopRequested`; the run is then recorded ``stopped``. A request out on
the network is not waited for either: each is sent from a short-lived daemon thread that the
caller leaves behind once ``stop`` is set, so Ctrl-C never waits for Datto's answer.

Transient faults are tallied per endpoint family (:class:`~etl.api.faults.FaultTally`): one
warning for the first, a count for the rest; network errors say where, how and what to fix
(:func:`~etl.api.faults.network_message`). A :class:`~etl.api.transport.Watcher` set with
:meth:`DattoSession.watch` hears of budget waits and retries (the progress display).
"""

from __future__ import annotations

import contextvars
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from etl import __version__
from etl.api.auth import DattoAuth, describe_origin, same_origin
from etl.api.budget import Calibration, Calibrator, Lane, RateBudget
from etl.api.calibrate import calibrate
from etl.api.clock import Clock, SystemClock, pause
from etl.api.faults import FaultTally, network_message
from etl.api.memory import AccountMemory, block_origin, budget_for, remember_window
from etl.api.transport import BudgetTransport, RequestCounter, Watcher, request_scope, too_large
from etl.config import BudgetSettings, DattoSettings
from etl.errors import (
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
    StopRequested,
    TransportError,
    UnsafeURLError,
)

log = logging.getLogger(__name__)
MAX_429_PER_REQUEST = 3  # a request limited this often fails its resource (others go on)
STOP_POLL = 0.05  # seconds: how soon a caller leaves a request in flight behind after a stop


class DattoSession:
    """One httpx client, one token, one budget, one origin, one stop event for an account.

    Without ``budget`` and ``clock``, the budget is the account's process-wide one
    (:func:`~etl.api.memory.budget_for`), remembered across processes; a test's own clock or
    budget gets a private one. ``calibrator`` is the budget's calibration hook (None: never
    calibrate). ``stop`` ends budget waits and backoff with StopRequested once set.
    """

    def __init__(
        self,
        settings: DattoSettings,
        budget_settings: BudgetSettings | None = None,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        budget: RateBudget | None = None,
        stop: threading.Event | None = None,
        calibrator: Calibrator | None = calibrate,
    ) -> None:
        budget_settings = budget_settings or BudgetSettings()
        self.settings = settings
        self.budget_settings = budget_settings
        self.clock: Clock = clock or SystemClock()
        self.origin = httpx.URL(settings.origin)
        self.stop = stop or threading.Event()
        self.calibrator = calibrator  # reads /v2/system/request_rate at the start and regularly
        shared = budget is None and clock is None
        self.budget = budget or (
            budget_for(settings, budget_settings)
            if shared
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
        self.memory = AccountMemory.of(settings, budget_settings) if shared else None
        key = settings.api_key.get_secret_value() if settings.api_key else ""
        secret = settings.api_secret.get_secret_value() if settings.api_secret else ""
        self.auth = DattoAuth(settings.origin, key, secret, clock=self.clock.now)
        inner = transport or httpx.HTTPTransport(retries=0)
        self.max_bytes = settings.max_response_bytes
        self.transport = BudgetTransport(
            inner,
            self.budget,
            self.stop,
            deadline=settings.deadline_seconds,
            max_bytes=self.max_bytes,
        )
        self.watcher: Watcher | None = None
        self.faults = FaultTally()
        self.http = httpx.Client(
            auth=self.auth,
            transport=self.transport,
            timeout=httpx.Timeout(
                settings.timeout_seconds, connect=min(10.0, settings.timeout_seconds)
            ),
            headers={"Accept": "application/json", "User-Agent": f"datto-rmm-etl/{__version__}"},
            follow_redirects=False,  # a redirect could lead the token elsewhere
        )
        self.max_retries = settings.max_retries
        self.page_size = settings.page_size
        self.concurrency = budget_settings.concurrency

    def watch(self, watcher: Watcher | None) -> None:
        """Tell ``watcher`` of budget waits and retries from now on (None: nobody)."""
        self.watcher = watcher
        self.transport.watcher = watcher

    def close(self) -> None:
        """Close the connection pool and hand the window over to the next process."""
        if self.memory is not None:
            remember_window(self.settings, self.budget_settings, self.budget)
        self.http.close()

    def __enter__(self) -> DattoSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request -----------------------------------------------------------------------

    def url(self, path: str) -> httpx.URL:
        """``/v2/...`` → absolute API URL on the configured origin."""
        return self.origin.join("/api" + path if path.startswith("/v2/") else path)

    def get(
        self,
        path_or_url: str | httpx.URL,
        params: dict[str, Any] | None = None,
        *,
        counter: RequestCounter,
        lane: Lane = Lane.NORMAL,
        guard: Callable[[], None] | None = None,
    ) -> Any:
        """GET a JSON document, retrying transient faults; fatal ones raise at once.

        Every request sent (token and calibration calls included) counts in ``counter`` and
        spends a budget slot in ``lane``. ``guard`` runs before every attempt and may raise
        to end the retries (the caller's circuit breaker).
        """
        url = path_or_url if isinstance(path_or_url, httpx.URL) else self.url(path_or_url)
        if not same_origin(url, self.origin):
            raise UnsafeURLError(
                f"refusing to call {describe_origin(url)}: not the configured origin "
                f"{describe_origin(self.origin)}"
            )
        attempt = 0
        limited = 0
        started = time.monotonic()
        while True:
            if guard is not None:
                guard()
            self.calibrate_if_due(counter)
            try:
                return self.send(url, params, counter=counter, lane=lane)
            except RateLimitedError as exc:
                limited += 1
                self.on_429(exc)  # the budget pauses every thread; acquire() waits it out
                if limited > MAX_429_PER_REQUEST:
                    raise
            except RetriableAPIError as exc:
                if attempt >= self.max_retries:
                    self.faults.add(url.path, exc, None)
                    if attempt:  # what was tried, for the line the operator reads
                        exc.args = (
                            f"{exc} (tried {attempt + 1} times over "
                            f"{time.monotonic() - started:.0f} s)",
                        )
                    raise
                delay = self.backoff(attempt)
                attempt += 1
                # one warning per endpoint family, then a count: not a line per retry
                self.faults.add(url.path, exc, delay)
                if self.watcher is not None and counter.name:
                    self.watcher.retrying(counter.name, attempt, self.max_retries, delay)
                self.sleep(delay)

    def get_once(self, path: str, *, counter: RequestCounter, lane: Lane) -> Any:
        """One GET without retries (429 and 403 bookkeeping still done)."""
        try:
            return self.send(self.url(path), None, counter=counter, lane=lane)
        except RateLimitedError as exc:
            self.on_429(exc)
            raise

    def send(
        self,
        url: httpx.URL,
        params: dict[str, Any] | None,
        *,
        counter: RequestCounter,
        lane: Lane,
    ) -> Any:
        """Send one GET, counted in ``counter`` and budgeted in ``lane``; JSON or an error."""
        try:
            with request_scope(counter, lane):
                resp, body = self._request(url, params)
        except httpx.TransportError as exc:
            message = network_message(url, exc, self.settings.timeout_seconds)
            raise TransportError(message, url=str(url)) from exc
        except MalformedResponseError as exc:  # the token call answered no token: why?
            if exc.status == 429:
                raise RateLimitedError(
                    "the token endpoint answered 429", retry_after=None, status=429
                ) from None
            if exc.status == 403:
                raise self._blocked() from None
            raise
        return self._decode(resp, body)

    def _request(
        self, url: httpx.URL, params: dict[str, Any] | None
    ) -> tuple[httpx.Response, bytes]:
        """The GET and its body, on a daemon thread; a stop request leaves it behind at once.

        The request's own thread ends when the network answers or gives up; nobody waits for
        it (a daemon thread does not hold the process up at exit either).
        """
        if self.stop.is_set():
            raise StopRequested("stop requested")
        outcome: list[tuple[httpx.Response, bytes] | BaseException] = []
        done = threading.Event()
        context = contextvars.copy_context()  # the request scope: counter and lane

        def fetch() -> tuple[httpx.Response, bytes]:
            with self.http.stream("GET", url, params=params) as resp:
                return resp, self._read(resp)

        def work() -> None:
            try:
                outcome.append(context.run(fetch))
            except BaseException as exc:  # handed to the caller as is
                outcome.append(exc)
            finally:
                done.set()

        threading.Thread(target=work, name="datto-request", daemon=True).start()
        while not done.wait(STOP_POLL):
            if self.stop.is_set():
                raise StopRequested("stop requested with a request out")
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def _read(self, response: httpx.Response) -> bytes:
        """The body, decompressed, refused past the size cap as it comes in.

        The transport caps what arrives; this caps what it unpacks to (a small gzip body may
        inflate a thousandfold). Pieces are kept apart and joined once at the end: a buffer
        grown piece by piece is copied as it grows, and the copies it leaves behind held a
        refused 64 MB page at several times its size.
        """
        pieces: list[bytes] = []
        size = 0
        for piece in response.iter_bytes():
            size += len(piece)
            if size > self.max_bytes:
                raise too_large(response.request.url.path, self.max_bytes)
            pieces.append(piece)
        return b"".join(pieces)

    def _decode(self, response: httpx.Response, body: bytes) -> Any:
        status, path = response.status_code, response.request.url.path
        if status == 200:
            try:
                return json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise MalformedResponseError(
                    f"{path} answered a body that is not complete JSON", status=status
                ) from None
            except RecursionError:  # valid JSON nested deeper than any Datto answer
                raise MalformedResponseError(
                    f"{path} answered JSON nested too deep to read (a broken page)", status=status
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
            if self.budget.recently_limited() or not _is_json(body):
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

    # -- pacing ----------------------------------------------------------------------------

    def calibrate_if_due(self, counter: RequestCounter) -> Calibration | None:
        """Run the calibration hook when the budget says a look is due (counted in ``counter``).

        The look goes in the calibration lane, which every other lane waits for.
        """
        hook = self.calibrator
        if hook is None:
            return None

        def read(path: str) -> Any:
            return self.get_once(path, counter=counter, lane=Lane.CALIBRATE)

        return self.budget.calibrate_when_due(lambda: hook(self.budget, read))

    def _blocked(self) -> IPBlockedError:
        """An IP block: stop every thread now and remember it for the processes to come."""
        seconds = self.budget.api_seconds(self.budget_settings.block_seconds)
        self.budget.block(seconds)
        until = time.time() + seconds
        message = (
            f"Datto blocked this IP (403 after a rate-limit breach); no API call "
            f"until {time.strftime('%H:%M:%S', time.localtime(until))} "
            f"({seconds:.0f} s) to {self.settings.origin} for any account: run again after that"
        )
        if self.memory is not None:  # every account on this origin waits, here and after
            block_origin(self.settings, self.budget_settings, until, message)
        log.error(message)
        return IPBlockedError(message, until=until, status=403)

    def on_429(self, exc: RateLimitedError) -> float:
        """A 429 came back: pause the budget (``Retry-After`` or 60 s) and slow down."""
        wait = self.budget.api_seconds(exc.retry_after if exc.retry_after is not None else 60.0)
        self.budget.on_rate_limited(wait)
        log.warning("429 from Datto: pausing %.1f s and slowing down", wait)
        return wait

    def backoff(self, attempt: int) -> float:
        """Capped exponential backoff with full jitter, in budget seconds."""
        return self.budget.api_seconds(random.uniform(0, min(30.0, 0.5 * 2**attempt)))

    def sleep(self, seconds: float) -> None:
        """Sleep on the session's clock; the stop event ends it with StopRequested."""
        pause(self.clock, seconds, self.stop)


def _is_json(body: bytes) -> bool:
    """True when the body parses as JSON (Datto's own errors do; an edge's block page not)."""
    try:
        json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
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


__all__ = ["MAX_429_PER_REQUEST", "DattoSession"]
