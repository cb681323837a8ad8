"""The transport under the client: one budget slot per request sent, counted per resource.

:class:`BudgetTransport` wraps httpx's transport, so every request (the token call and the
auth flow's retry after a 401 included) spends a slot of the rate budget in the lane of the
resource that sent it, and counts in that resource's :class:`RequestCounter`. Who sent it is
carried by context variables that :func:`request_scope` sets around one client call. The
session's stop event ends a wait for a slot at once (:class:`~etl.errors.StopRequested`).

A :class:`Watcher` (the progress display) hears of budget waits per resource, and of retries
(from the session); at DEBUG each request is logged with its method, path, status and time
(never a header or a body, so never the token or the secret).

It also bounds every request once its slot is taken (:class:`GuardedStream`): a total
deadline, since httpx's read timeout starts again with every byte and a server trickling its
body would hold a sync (and the account lock) forever; past it, a
:class:`~etl.errors.TransportError`, retried like a timeout. And a size cap: reading stops
past ``max_bytes`` with :class:`~etl.errors.ResponseTooLargeError`, so memory stays bounded
whatever the server sends.
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
from etl.errors import ResponseTooLargeError, TransportError

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


def too_large(where: str, max_bytes: int) -> ResponseTooLargeError:
    """The error for a body past the cap (``where``: the request's path)."""
    return ResponseTooLargeError(
        f"{where} answered more than {max_bytes / 1e6:g} MB: refused, reading stopped there "
        "(raise datto.max_response_mb if the account really needs pages this big)"
    )


class GuardedStream(httpx.SyncByteStream):
    """A response body read under its request's total deadline and the size cap.

    Checked as each piece arrives: a trickle ends at most one piece (one read timeout at
    worst) past the deadline, and no more than ``max_bytes`` (+ one piece) is ever read.
    """

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        where: str,
        *,
        deadline: float,
        seconds: float,
        max_bytes: int,
    ) -> None:
        self.inner = inner
        self.where = where
        self.deadline = deadline  # time.monotonic() by which the body must be in
        self.seconds = seconds
        self.max_bytes = max_bytes

    def __iter__(self) -> Iterator[bytes]:
        got = 0
        for piece in self.inner:
            got += len(piece)
            if got > self.max_bytes:
                raise too_large(self.where, self.max_bytes)
            if time.monotonic() > self.deadline:
                raise self.late()
            yield piece

    def late(self) -> TransportError:
        """The error for a request past its deadline."""
        return TransportError(
            f"{self.where} sent no complete answer within {self.seconds:g} s "
            "(datto.request_deadline_seconds): the server sends too slowly",
            url=self.where,
        )

    def close(self) -> None:
        self.inner.close()


class BudgetTransport(httpx.BaseTransport):
    """Spend a budget slot for every request sent, and count it for the current resource.

    ``stop`` (the session's stop event) ends a wait for a slot with StopRequested. Once the
    slot is taken, the request has ``deadline`` seconds in all (connect, headers, body: each
    timeout is cut to it) and its body at most ``max_bytes`` (:class:`GuardedStream`).
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        budget: RateBudget,
        stop: threading.Event | None = None,
        *,
        deadline: float = float("inf"),
        max_bytes: int = 1 << 62,
    ) -> None:
        self.inner = inner
        self.budget = budget
        self.stop = stop
        self.watcher: Watcher | None = None  # set by the session's owner (progress display)
        self.deadline = deadline
        self.max_bytes = max_bytes

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
            deadline = started + self.deadline
            timeouts = request.extensions.get("timeout")
            if isinstance(timeouts, dict):  # no single wait may outlast the whole request
                request.extensions["timeout"] = {
                    k: self.deadline if v is None else min(v, self.deadline)
                    for k, v in timeouts.items()
                }
            response = self.inner.handle_request(request)
            if log.isEnabledFor(logging.DEBUG):  # to the answer's headers; never the token
                log.debug(
                    "%s %s %d %.0f ms",
                    request.method,
                    request.url.path,
                    response.status_code,
                    (time.monotonic() - started) * 1000,
                )
        if not isinstance(response.stream, httpx.SyncByteStream):
            return response
        guarded = GuardedStream(
            response.stream,
            request.url.path,
            deadline=deadline,
            seconds=self.deadline,
            max_bytes=self.max_bytes,
        )
        if time.monotonic() > deadline:  # the headers alone came too slowly
            response.close()
            raise guarded.late()
        response.stream = guarded
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
