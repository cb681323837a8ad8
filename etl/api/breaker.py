"""The circuit breaker: an endpoint family that keeps failing stops its resource, not the run.

A hung endpoint would otherwise cost every one of its calls the full timeout and retries: two
thousand per-device calls to a hung audit endpoint take about a day with the defaults. Each
resource run (one :class:`~etl.api.client.DattoClient`) has one :class:`Breaker`: it counts
the calls of each endpoint family (:func:`endpoint_family`: the path with its ids as ``*``,
e.g. ``GET /v2/audit/device/*``) that failed in a row for a passing reason (timeouts, 5xx,
dropped connections, malformed answers, each after its retries). At ``limit`` failures in a
row the family's circuit opens: every later call of it, and every retry still to come of the
calls already out, raises :class:`~etl.errors.CircuitOpenError`, which stops the resource
with one clear error. Other families, other resources and the next run are not affected; a
call that succeeds starts the count again.
"""

from __future__ import annotations

import threading

import httpx

from etl.errors import APIError, CircuitOpenError, RateLimitedError, RetriableAPIError


def endpoint_family(url: httpx.URL, method: str = "GET") -> str:
    """``GET /v2/audit/device/*``: the route of ``url``, its ids (segments with a digit, or
    long ones) replaced by ``*``."""
    parts = url.path.removeprefix("/api").strip("/").split("/")
    kept = [
        p if i == 0 or not (len(p) > 24 or any(c.isdigit() for c in p)) else "*"
        for i, p in enumerate(parts)
    ]
    return f"{method} /{'/'.join(kept)}"


def counts_against(error: APIError) -> bool:
    """True for the failures the breaker counts: passing faults that outlived their retries
    (a 429 is the account's pace, not the endpoint's health)."""
    return isinstance(error, RetriableAPIError) and not isinstance(error, RateLimitedError)


class Breaker:
    """Failures in a row per endpoint family, for one resource run (thread-safe)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._failures: dict[str, int] = {}
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def check(self, family: str) -> None:
        """Raise CircuitOpenError when ``family``'s circuit is open."""
        with self._lock:
            if self._failures.get(family, 0) < self.limit:
                return
            last = self._last.get(family, "")
        raise CircuitOpenError(
            f"{family} failed {self.limit} times in a row (last: {last}): no more calls to it "
            "this run (datto.breaker_failures); the rest is saved, the next run tries again"
        )

    def passed(self, family: str) -> None:
        """A call of ``family`` succeeded: its count starts again."""
        with self._lock:
            self._failures[family] = 0

    def failed(self, family: str, error: APIError) -> None:
        """A call of ``family`` failed for good with ``error`` (counted if it is a fault)."""
        if not counts_against(error):
            return
        with self._lock:
            self._failures[family] = self._failures.get(family, 0) + 1
            self._last[family] = str(error).splitlines()[0][:200]

    def is_open(self, family: str) -> bool:
        """True when ``family``'s circuit is open."""
        with self._lock:
            return self._failures.get(family, 0) >= self.limit


__all__ = ["Breaker", "counts_against", "endpoint_family"]
