"""The transport under the client: one budget slot per request sent, counted per resource.

:class:`BudgetTransport` wraps httpx's transport, so every request (the token call and the
auth flow's retry after a 401 included) spends a slot of the rate budget in the lane of the
resource that sent it, and counts in that resource's :class:`RequestCounter`. Who sent it is
carried by context variables that :func:`request_scope` sets around one client call. The
session's stop event ends a wait for a slot at once (:class:`~etl.errors.StopRequested`).

A :class:`Watcher` (the progress display) hears of budget waits per resource, and of retries
(from the session); at DEBUG each request is logged with its method, path, status and time
(never a header or a body, so never the token or the secret).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from etl.api.auth import TOKEN_PATH
from etl.api.budget import Lane, RateBudget

log = logging.getLogger("etl.api.http")


class Watcher(Protocol):
    """Who wants to know what a resource's requests are doing (the progress display)."""

    def waiting(self, resource: str, seconds: float) -> None:
        """``resource`` waits about ``seconds`` for the rate budget (0: not any longer)."""

    def retrying(self, resource: str, attempt: int, of: int, seconds: float) -> None:
        """``resource`` retries a request (``attempt`` of ``of``) in ``seconds``."""


@dataclass
class RequestCounter:
    """Requests sent on behalf of one resource run (thread-safe); ``name``: whose."""

    count: int = 0
    name: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, n: int = 1) -> None:
        with self._lock:
            self.count += n


_counter: contextvars.ContextVar[RequestCounter | None] = contextvars.ContextVar(
    "datto_request_counter", default=None
)
_lane: contextvars.ContextVar[Lane] = contextvars.ContextVar(
    "datto_request_lane", default=Lane.NORMAL
)


class BudgetTransport(httpx.BaseTransport):
    """Spend a budget slot for every request sent, and count it for the current resource.

    ``stop`` (the session's stop event) ends a wait for a slot with StopRequested.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        budget: RateBudget,
        stop: threading.Event | None = None,
    ) -> None:
        self.inner = inner
        self.budget = budget
        self.stop = stop
        self.watcher: Watcher | None = None  # set by the session's owner (progress display)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        counter = _counter.get()
        watcher = self.watcher
        on_wait = None
        if watcher is not None and counter is not None and counter.name:
            name = counter.name

            def on_wait(seconds: float) -> None:
                watcher.waiting(name, seconds)

        # The token call goes in the calibration lane: every request waits for the token, and
        # a calibration waiting for the token must not wait for itself (the first look holds
        # every other lane back).
        lane = Lane.CALIBRATE if request.url.path == TOKEN_PATH else _lane.get()
        with self.budget.slot(lane, stop=self.stop, on_wait=on_wait):
            if counter is not None:
                counter.add()
            started = time.monotonic()
            response = self.inner.handle_request(request)
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s %s %d %.0f ms",
                    request.method,
                    request.url.path,
                    response.status_code,
                    (time.monotonic() - started) * 1000,
                )
            return response

    def close(self) -> None:
        self.inner.close()


@contextlib.contextmanager
def request_scope(counter: RequestCounter, lane: Lane) -> Iterator[None]:
    """Count the requests sent inside the block in ``counter``, in budget lane ``lane``."""
    counter_token = _counter.set(counter)
    lane_token = _lane.set(lane)
    try:
        yield
    finally:
        _counter.reset(counter_token)
        _lane.reset(lane_token)
