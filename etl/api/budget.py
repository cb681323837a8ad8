"""The rate budget: a sliding window of request starts, shared by every thread of a process.

Datto counts 600 requests per rolling 60 s for the whole account, every integration included.
This budget keeps our own share below ``limit`` per ``window`` seconds, and below what the
account has left under its cut-off line once other integrations' use is known
(:meth:`RateBudget.calibrate`, fed by :mod:`etl.api.calibrate`). ``acquire()`` blocks until a
slot is free; low-priority requests may only fill part of the window, so high and normal
ones always find room. The clock is injected (:mod:`etl.api.clock`) so tests can drive time; a
stop event handed to ``acquire()`` ends its wait at once with :class:`~etl.errors.StopRequested`.

Calibration is a hook: :meth:`RateBudget.calibrate_when_due` runs a :data:`Calibrator` (one
look at the account's request rate, :func:`etl.api.calibrate.calibrate` by default) when a look
is due, one caller at a time; the session that sends requests supplies it.

The window itself is the account's: calibration adopts the ``slidingTimeWindowSizeSeconds``
that ``request_rate`` reports (``budget.window_seconds`` is only the fallback until then, or
when the API does not say). Every duration the API speaks of (60 s to wait after a 429, the
5-minute block) is in API seconds, Datto's window being 60 of them;
:meth:`RateBudget.api_seconds` turns them into this budget's time, which differs only when
the window reported is not 60 s (the simulator's fast clock reports a shortened one).
"""

from __future__ import annotations

import contextlib
import heapq
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from etl.api.clock import Clock, SystemClock, pause
from etl.errors import IPBlockedError


class Lane(StrEnum):
    """Budget lanes: a free slot goes to the first lane waiting, in this order."""

    CALIBRATE = "calibrate"  # the request_rate call, which every other lane waits for
    HIGH = "high"  # cheap, frequent, urgent (open alerts)
    NORMAL = "normal"
    LOW = "low"  # expensive bulk (audits, software): may fill only part of the window


LANES = tuple(Lane)
API_WINDOW = 60.0  # Datto's window, in API seconds
PENALTY_STEP = 0.8  # each 429 episode: go on at 80 % of the pace
RECOVERY_STEP = 0.1  # each calm calibration gives back 10 % of the pace


@dataclass
class Calibration:
    """What one ``GET /v2/system/request_rate`` said, and what the budget made of it.

    ``window`` is the rolling window in force after the look (the API's, when it said).
    """

    account_count: int
    account_limit: int
    cutoff_ratio: float
    ours: int
    others: int
    limit: int
    window: float = API_WINDOW


WaitHook = Callable[[float], None]
"""Told how long a request will likely wait for a slot (budget seconds; 0: the wait is over)."""
WAIT_WORTH_TELLING = 1.0  # budget seconds: shorter waits are the ordinary pace, not news

Reader = Callable[[str], Any]
"""One GET of an API path in the calibration lane, no retries (the session provides it)."""

Calibrator = Callable[["RateBudget", Reader], "Calibration | None"]
"""The calibration hook: read the account's request rate with ``Reader`` and fit the budget
(:meth:`RateBudget.calibrate`); None when it could not be read."""


@dataclass
class RateBudget:
    """At most ``limit`` request starts in any ``window`` seconds; thread-safe.

    ``share`` is the most this tool may ever use per window (the setting); ``limit`` is what
    it may use now, after calibration against other integrations and after any 429.
    """

    share: int = 300
    window: float = 60.0
    clock: Clock = field(default_factory=SystemClock)
    low_share: float = 0.8
    account_limit: int = 600
    cutoff_ratio: float = 0.9
    calibrate_every: float = 15.0  # API seconds
    limit: int = field(default=0, init=False)
    total: int = field(default=0, init=False)
    blocked_until: float | None = field(default=None, init=False)  # budget clock
    last_calibration: Calibration | None = field(default=None, init=False)
    reported_window: float | None = field(default=None, init=False)  # the API's, once said
    # a slot is taken when a request starts and leaves the window ``window`` seconds after
    # its answer came back: Datto counts the request somewhere in between, so however late it
    # arrives there, two requests of one slot never land within one window of each other
    _ends: list[float] = field(default_factory=list, init=False, repr=False)  # a heap
    _in_flight: int = field(default=0, init=False)
    _paused_until: float = field(default=0.0, init=False)
    _last_429: float | None = field(default=None, init=False)
    _penalty: float = field(default=1.0, init=False)
    _calm: bool = field(default=True, init=False)
    _headroom: int | None = field(default=None, init=False)  # account room for us, if known
    _prev_others: int | None = field(default=None, init=False)
    _next_calibration: float = field(default=float("-inf"), init=False)
    _first_look: bool = field(default=False, init=False)  # the first calibration is out
    _waiting: dict[Lane, int] = field(default_factory=lambda: dict.fromkeys(LANES, 0), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.limit = max(1, self.share)

    # -- time --------------------------------------------------------------------------------

    def api_seconds(self, seconds: float) -> float:
        """API seconds (Retry-After, Datto's 60 s advice, the 5-minute block) → budget time."""
        return seconds * self.window / API_WINDOW

    def _trim(self, now: float) -> int:
        """Forget slots that left the window; return the slots in use."""
        while self._ends and self._ends[0] <= now - self.window:
            heapq.heappop(self._ends)
        return len(self._ends) + self._in_flight

    # -- spending ----------------------------------------------------------------------------

    def _room(self, lane: Lane) -> int:
        """Slots ``lane`` may fill in the window (low leaves the rest to high and normal)."""
        if lane is Lane.LOW:
            return max(1, math.floor(self.limit * self.low_share))
        return self.limit

    def _blocked_error(self) -> IPBlockedError:
        left = (self.blocked_until or 0) - self.clock.now()
        return IPBlockedError(
            "Datto blocked this IP after a rate-limit breach (403 after a 429); no API call "
            f"for another {max(0.0, left):.0f} s: run again after that",
            until=time.time() + max(0.0, left),
        )

    @contextlib.contextmanager
    def slot(
        self,
        lane: Lane = Lane.NORMAL,
        *,
        stop: threading.Event | None = None,
        on_wait: WaitHook | None = None,
    ) -> Iterator[float]:
        """Hold a slot while one request is out; it leaves the window a window after."""
        waited = self.acquire(lane, hold=True, stop=stop, on_wait=on_wait)
        try:
            yield waited
        finally:
            with self._lock:
                self._in_flight -= 1
                heapq.heappush(self._ends, self.clock.now())

    def acquire(
        self,
        lane: Lane = Lane.NORMAL,
        *,
        hold: bool = False,
        stop: threading.Event | None = None,
        on_wait: WaitHook | None = None,
    ) -> float:
        """Block until one more request fits; return the seconds waited.

        A free slot goes to the highest :class:`Lane` waiting (calibration first), and low may
        only fill ``low_share`` of the window. ``hold`` keeps the slot in flight until
        released (see :meth:`slot`); otherwise it counts from now. Raises
        :class:`IPBlockedError` while an IP block lasts, and :class:`StopRequested` as soon
        as ``stop`` is set while waiting.

        ``on_wait`` hears of the wait (whoever shows progress): the seconds it will likely
        last, again each time the estimate is renewed, and 0 once the slot is taken.
        """
        lane = Lane(lane)
        higher = LANES[: LANES.index(lane)]
        waited = 0.0
        queued = told = False
        try:
            while True:
                with self._lock:
                    now = self.clock.now()
                    if self.blocked_until is not None and now < self.blocked_until:
                        raise self._blocked_error()
                    in_use = self._trim(now)
                    wait = max(0.0, self._paused_until - now)
                    if self._first_look and not wait and lane is not Lane.CALIBRATE:
                        # the account's use is not known yet: the first calibration is out
                        wait = self.window / 200
                    fits = in_use < self._room(lane)
                    first = not any(self._waiting[h] for h in higher)
                    if not wait and fits and first:
                        if hold:
                            self._in_flight += 1
                        else:
                            heapq.heappush(self._ends, now)
                        self.total += 1
                        break
                    if not queued:
                        self._waiting[lane] += 1
                        queued = True
                    expected = self._expected_wait(lane, now, wait)
                    if not wait:
                        # the oldest slot leaves the window then; poll at least 20 times per
                        # window so a raised limit or a higher lane's turn is seen soon
                        oldest = self._ends[0] + self.window - now if self._ends else self.window
                        wait = min(oldest, self.window / 20)
                wait = max(wait, self.window / 2000)
                if on_wait is not None and expected >= WAIT_WORTH_TELLING:
                    on_wait(expected)
                    told = True
                pause(self.clock, wait, stop)  # a signal ends the wait at once
                waited += wait
        finally:
            if queued:
                with self._lock:
                    self._waiting[lane] -= 1
            if told and on_wait is not None:
                on_wait(0.0)
        return waited

    def _expected_wait(self, lane: Lane, now: float, pause_left: float) -> float:
        """Budget seconds a request of ``lane`` waiting now will likely wait (lock held)."""
        if pause_left:
            return pause_left
        # the slots that must leave the window first: our excess, and those waiting before us
        ahead = sum(self._waiting[h] for h in LANES[: LANES.index(lane) + 1]) - 1
        need = len(self._ends) + self._in_flight - self._room(lane) + 1 + ahead
        if need <= 0 or not self._ends:
            return self.window / 20 if need > 0 else 0.0
        if need > len(self._ends):  # more than the window holds: whole windows more
            return self.window * math.ceil(need / max(1, self._room(lane)))
        return max(0.0, heapq.nsmallest(need, self._ends)[-1] + self.window - now)

    # -- reacting to the API -----------------------------------------------------------------

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` of budget time."""
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock.now() + seconds)

    def on_rate_limited(self, wait: float) -> None:
        """A 429 came back: pause ``wait`` (budget time) and go on slower.

        Requests already in flight come back 429 too; they extend the pause but slow us down
        only once per episode.
        """
        with self._lock:
            now = self.clock.now()
            episode = now >= self._paused_until
            self._last_429 = now
            self._paused_until = max(self._paused_until, now + wait)
            if episode:
                self._penalty *= PENALTY_STEP
                self._calm = False
                self._apply()
            self._next_calibration = self._paused_until  # look again once the pause ends

    def recently_limited(self) -> bool:
        """True when a 429 came back lately, so a 403 now means the edge blocked the IP."""
        with self._lock:
            return self._last_429 is not None and self.clock.now() - self._last_429 < (
                self.api_seconds(300.0) + max(0.0, self._paused_until - self._last_429)
            )

    def block(self, seconds: float) -> None:
        """An IP block: nothing may be sent for ``seconds`` of budget time."""
        with self._lock:
            until = self.clock.now() + seconds
            self.blocked_until = max(self.blocked_until or until, until)

    def blocked_for(self) -> float:
        """Seconds (budget time) the IP block still lasts; 0 when there is none."""
        with self._lock:
            if self.blocked_until is None:
                return 0.0
            return max(0.0, self.blocked_until - self.clock.now())

    # -- calibration -------------------------------------------------------------------------

    def calibration_due(self) -> bool:
        """True when ``/v2/system/request_rate`` should be read again (claims the turn)."""
        with self._lock:
            now = self.clock.now()
            if now < self._next_calibration:
                return False
            # one caller calibrates; the others go on while it does (after the first look)
            self._next_calibration = now + self.api_seconds(self.calibrate_every)
            self._first_look = self.last_calibration is None
            return True

    def calibration_over(self) -> None:
        """The calibration call ended, read or not: nobody waits for it any longer."""
        with self._lock:
            self._first_look = False

    def calibrate_when_due(self, look: Callable[[], Calibration | None]) -> Calibration | None:
        """Run the calibration hook ``look`` if a look is due (one caller; others go on).

        Whatever ``look`` does, raises or not, the other lanes stop waiting for it after.
        """
        if not self.calibration_due():
            return None
        try:
            return look()
        finally:
            self.calibration_over()

    def calibrate(
        self,
        account_count: int,
        *,
        ours: int,
        account_limit: int | None = None,
        cutoff_ratio: float | None = None,
        window: float | None = None,
    ) -> Calibration:
        """Fit the window and the limit to what the account has left under its cut-off line.

        ``account_count`` is every client's requests in Datto's window, ``ours`` our own at
        the time it was counted. ``account_limit``, ``cutoff_ratio`` and ``window`` are the
        account's own figures when the API gave them; each one it did not give stays as set
        (the settings are only the fallback). Others' use is projected one calibration ahead
        (if it grew since the last look, it may grow as much again), and a safety margin
        stays free for requests in flight and for clocks that do not tick alike.
        """
        with self._lock:
            if window and math.isfinite(window) and window > 0:
                # slots already out now leave by the new window; the next look, timed in the
                # old window's seconds, comes no later than the new one says
                self.window = self.reported_window = float(window)
                after = self.clock.now() + self.api_seconds(self.calibrate_every)
                self._next_calibration = min(self._next_calibration, after)
            acct = account_limit or self.account_limit
            ratio = min(cutoff_ratio or self.cutoff_ratio, 1.0)
            others = max(0, account_count - ours)
            growth = max(0, others - self._prev_others) if self._prev_others is not None else 0
            self._prev_others = others
            margin = max(2, math.ceil(0.02 * acct))
            self._headroom = math.floor(acct * ratio) - others - growth - margin
            if self._calm:  # no 429 since the last look: give back some of the pace
                self._penalty = min(1.0, self._penalty + RECOVERY_STEP)
            self._calm = True
            self._apply()
            self.last_calibration = Calibration(
                account_count, acct, ratio, ours, others, self.limit, self.window
            )
            return self.last_calibration

    def _apply(self) -> None:
        room = self.share if self._headroom is None else min(self.share, self._headroom)
        self.limit = max(1, math.floor(room * self._penalty))

    def set_limit(self, limit: int) -> None:
        """Change the share (the most this tool may use per window)."""
        with self._lock:
            self.share = max(1, int(limit))
            self._apply()

    # -- inspection and hand-over between processes -------------------------------------------

    def used(self) -> int:
        """Slots in use: requests out now, or answered within the last window."""
        with self._lock:
            return self._trim(self.clock.now())

    def rate(self) -> float:
        """Requests per second of budget time this budget allows now."""
        return self.limit / self.window

    def eta(self, requests: int) -> float:
        """Budget seconds that ``requests`` more requests need at least, from now."""
        with self._lock:
            now = self.clock.now()
            free = max(0, self.limit - self._trim(now))
            paused = max(0.0, self._paused_until - now)  # a 429's pause comes first
        return paused + max(0, requests - free) * self.window / self.limit

    def window_ages(self) -> list[float]:
        """Ages (budget seconds) of the slots in the window, for the next process."""
        with self._lock:
            now = self.clock.now()
            self._trim(now)
            return sorted(now - e for e in self._ends)

    def seed(self, ages: list[float]) -> None:
        """Count a previous process's recent requests (given by age) in this window."""
        with self._lock:
            now = self.clock.now()
            for age in ages:
                if 0 <= age < self.window:
                    heapq.heappush(self._ends, now - age)


__all__ = [
    "API_WINDOW",
    "LANES",
    "Calibration",
    "Calibrator",
    "Lane",
    "RateBudget",
    "Reader",
    "WaitHook",
]
