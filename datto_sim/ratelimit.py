"""The account's rate limit as Datto enforces it, plus ``GET /v2/system/request_rate``.

Per API_FACTS.md: 600 requests per rolling 60 s for the whole account, token calls and every
other integration included; past 90 % every answer is delayed 1 s; past 600 the answer is
429 (``Retry-After`` optional) until the window falls below 600; a client hammering on after
a 429 gets 403 from the edge, body not JSON, and the IP stays blocked for about 5 minutes.
A competing integration can consume part of the budget. Times are simulated seconds, so the
simulator's time scale shrinks all of it for tests.

Knobs (``SimSettings``): ``rate_limit``, ``rate_cutoff_ratio``, ``rate_window``,
``rate_delay``, ``retry_after_header``, ``block_after_strikes``, ``block_seconds``,
``competitor_rpm``, ``competitor_after``, ``force_429_at``, ``force_block_at``,
``write_quota`` (``request_rate`` carries write counters; False: an account still on the
older single bucket). Tests reach
the live state through :func:`limiter` (``limiter(sim).force_429()`` and so on).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import TYPE_CHECKING

from datto_sim.server import Request, Response, Router, error

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 900  # generation order (middlewares last: the rate limiter goes in front of every route)

STRIKE_GRACE = 2.0  # simulated seconds after a 429 in which requests already in flight land
WRITE_LIMIT = 600  # writes per window in total (separate quotas, since about March 2026)
WRITE_OPERATIONS = {  # per-operation write limits, as live accounts report them
    "device-udf-set": 600,
    "alert-resolve": 100,
    "device-move": 100,
    "device-job-create": 100,
    "site-create": 100,
}
BLOCK_PAGE = (
    b"<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1>"
    b"<p>Your IP address has been blocked.</p></body></html>"
)


class RateLimiter:
    """The rolling window of one account; a middleware that answers 429/403 or delays."""

    def __init__(self, sim: Simulator) -> None:
        s = sim.settings
        self.sim = sim
        self.limit = s.rate_limit
        self.cutoff = s.rate_cutoff_ratio
        self.window = s.rate_window
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()  # every counted request, all clients
        self.client_times: list[float] = []  # requests of the clients under test, counted
        self.peak = 0  # most requests the account had in its window at any arrival
        self.delayed = 0
        self.limited = 0
        self.blocked_answers = 0
        self.blocks = 0
        self.arrivals = 0
        self._forced_429 = 0
        self._block_at_next = False
        self._episode: float | None = None  # first 429 of the current episode
        self._strikes = 0
        self.blocked_until: float | None = None
        start = sim.clock.now()
        # a competitor that "has always been running" already fills its share of the window
        self._rival_gap = 60.0 / s.competitor_rpm if s.competitor_rpm else None
        self._rival_next = start + s.competitor_after if s.competitor_after else start - 60.0

    # -- control from tests ------------------------------------------------------------------

    def force_429(self, n: int = 1) -> None:
        """The next ``n`` requests answer 429 whatever the window holds."""
        with self._lock:
            self._forced_429 += n

    def force_block(self) -> None:
        """The next request answers 429, and the IP is blocked from then on."""
        with self._lock:
            self._forced_429 += 1
            self._block_at_next = True

    def count(self) -> int:
        """Requests in the account's window now (competitor included)."""
        with self._lock:
            now = self.sim.clock.now()
            self._compete(now)
            self._trim(now)
            return len(self._starts)

    def max_in_window(self, window: float | None = None) -> int:
        """Most requests of the clients under test in any ``window`` (default 60) seconds."""
        with self._lock:
            times = list(self.client_times)
        return max_in_window(times, window or self.window)

    # -- the middleware ----------------------------------------------------------------------

    def _trim(self, now: float) -> None:
        while self._starts and self._starts[0] <= now - self.window:
            self._starts.popleft()

    def _compete(self, now: float) -> None:
        if self._rival_gap is None:
            return
        while self._rival_next <= now:
            self._trim(self._rival_next)
            if len(self._starts) < self.limit:  # the rival gets 429s too; those do not count
                self._starts.append(self._rival_next)
            self._rival_next += self._rival_gap

    def _limited(self, now: float) -> Response:
        self.limited += 1
        if self._episode is None or now - self._episode > self.window:
            self._episode, self._strikes = now, 0
        elif now - self._episode > STRIKE_GRACE:
            self._strikes += 1  # asked again while told to wait: hammering
        headers = {}
        if self.sim.settings.retry_after_header:
            free_at = self._starts[0] + self.window if len(self._starts) >= self.limit else now
            headers["Retry-After"] = str(max(1, math.ceil(free_at - now)))
        resp = error(429, "Too Many Requests: account rate limit exceeded", "")
        resp.headers.update(headers)
        return resp

    def __call__(self, sim: Simulator, req: Request) -> Response | None:
        s = sim.settings
        with self._lock:
            now = sim.clock.now()
            self.arrivals += 1
            self._compete(now)
            self._trim(now)
            if self.blocked_until is not None and now < self.blocked_until:
                self.blocked_answers += 1
                return Response(403, raw=BLOCK_PAGE)
            if self._strikes >= s.block_after_strikes or self.arrivals == s.force_block_at:
                self._block(now)
                if self.arrivals == s.force_block_at:
                    return self._limited(now)  # the 429 the client then ignores
                return Response(403, raw=BLOCK_PAGE)
            if self.arrivals in s.force_429_at or self._forced_429:
                self._forced_429 = max(0, self._forced_429 - 1)
                if self._block_at_next:
                    self._block_at_next = False
                    self._block(now)
                return self._limited(now)
            if len(self._starts) >= self.limit:
                return self._limited(now)
            self._starts.append(now)
            self.client_times.append(now)
            count = len(self._starts)
            self.peak = max(self.peak, count)
            slow = count > self.cutoff * self.limit
            if slow:
                self.delayed += 1
        if slow:
            sim.clock.sleep(s.rate_delay)  # Datto delays every answer past the cut-off line
        return None

    def _block(self, now: float) -> None:
        self.blocks += 1
        self._strikes = 0
        self.blocked_until = now + self.sim.settings.block_seconds

    def request_rate(self, sim: Simulator) -> dict[str, object]:
        """The body of ``GET /v2/system/request_rate``: the simulator's own figures.

        The window is given in *real* seconds (``rate_window / time_scale``), so a client that
        follows it paces itself right on a fast clock; the write counters come as live
        accounts with separate read and write quotas send them (none are written here).
        """
        window = self.sim.clock.real_seconds(self.window)
        body: dict[str, object] = {
            "slidingTimeWindowSizeSeconds": int(window) if window == int(window) else window,
            "accountUid": sim.account_uid,
            "accountCount": self.count(),
            "accountRateLimit": self.limit,
            "accountCutOffRatio": self.cutoff,
        }
        if sim.settings.write_quota:
            body["accountWriteRateLimit"] = WRITE_LIMIT
            body["accountWriteCount"] = 0
            body["operationWriteStatus"] = {
                op: {"limit": limit, "count": 0} for op, limit in WRITE_OPERATIONS.items()
            }
        return body


def max_in_window(times: list[float], window: float) -> int:
    """Most of the sorted ``times`` that fall in any half-open span of ``window`` seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def limiter(sim: Simulator) -> RateLimiter:
    """The rate limiter of ``sim``."""
    return sim.ratelimit  # type: ignore[attr-defined]


def generate(sim: Simulator) -> None:
    """Install the limiter as the first middleware (it sees every request, token calls too)."""
    sim.ratelimit = RateLimiter(sim)  # type: ignore[attr-defined]
    if sim.settings.rate_limit_enabled:
        sim.middlewares.insert(0, sim.ratelimit)  # type: ignore[attr-defined]


def register(router: Router) -> None:
    """Routes of this module."""

    @router.get("/v2/system/request_rate")
    def request_rate(sim: Simulator, req: Request) -> Response:
        return Response(200, limiter(sim).request_rate(sim))
