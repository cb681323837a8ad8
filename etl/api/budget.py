"""The rate budget: a sliding window of request times, shared by every thread of a process.

Datto counts 600 requests per rolling 60 s for the whole account; this budget keeps our own
share below ``limit`` per ``window`` seconds. ``acquire()`` blocks until a slot is free. The
clock is injected so tests can drive time; the simulator runs on a scaled clock of its own.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol


class Clock(Protocol):
    """Monotonic time and sleeping, injectable for tests."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass
class RateBudget:
    """At most ``limit`` request starts in any ``window`` seconds; thread-safe."""

    limit: int = 300
    window: float = 60.0
    clock: Clock = field(default_factory=SystemClock)
    _starts: deque[float] = field(default_factory=deque, init=False, repr=False)
    _paused_until: float = field(default=0.0, init=False)
    _last_429: float | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    total: int = field(default=0, init=False)

    def _trim(self, now: float) -> None:
        while self._starts and self._starts[0] <= now - self.window:
            self._starts.popleft()

    def acquire(self, priority: str = "normal") -> float:
        """Block until one more request fits; return the seconds waited.

        ``priority`` ("high", "normal", "low") is accepted for the scheduler's lanes.
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock.now()
                self._trim(now)
                wait = max(0.0, self._paused_until - now)
                if not wait and len(self._starts) < max(1, self.limit):
                    self._starts.append(now)
                    self.total += 1
                    return waited
                if not wait:
                    wait = self._starts[0] + self.window - now
            wait = max(wait, 0.001)
            self.clock.sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (after a 429)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock.now() + seconds)

    def on_rate_limited(self, wait: float) -> None:
        """A 429 came back: pause for ``wait`` seconds and go on at 80 % of the pace."""
        with self._lock:
            now = self.clock.now()
            self._last_429 = now
            self._paused_until = max(self._paused_until, now + wait)
            self.limit = max(1, int(self.limit * 0.8))

    def recently_limited(self) -> bool:
        """True when a 429 came back within the last window (so a 403 means an IP block)."""
        with self._lock:
            return self._last_429 is not None and self.clock.now() - self._last_429 < 2 * max(
                self.window, 60.0
            )

    def set_limit(self, limit: int) -> None:
        """Change the share (calibration against the account's other users)."""
        with self._lock:
            self.limit = max(1, int(limit))

    def used(self) -> int:
        """Requests started in the current window."""
        with self._lock:
            self._trim(self.clock.now())
            return len(self._starts)
