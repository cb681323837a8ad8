"""The transport under the client: one budget slot per request sent, counted per resource.

:class:`BudgetTransport` wraps httpx's transport, so every request (the token call and the
auth flow's retry after a 401 included) spends a slot of the rate budget in the lane of the
resource that sent it, and counts in that resource's :class:`RequestCounter`. Who sent it is
carried by context variables that :func:`request_scope` sets around one client call. The
session's stop event ends a wait for a slot at once (:class:`~etl.errors.StopRequested`).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

from etl.api.budget import Lane, RateBudget


@dataclass
class RequestCounter:
    """Requests sent on behalf of one resource run (thread-safe)."""

    count: int = 0
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

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.budget.slot(_lane.get(), stop=self.stop):
            counter = _counter.get()
            if counter is not None:
                counter.add()
            return self.inner.handle_request(request)

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
