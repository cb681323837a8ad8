"""Time for the API room: a monotonic clock that sleeps, injectable for tests.

The budget and the session take a :class:`Clock`; tests hand in one whose time moves only when
someone sleeps. :func:`pause` is how they sleep: on the clock, unless a stop event is set,
which ends the sleep at once with :class:`~etl.errors.StopRequested`.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from etl.errors import StopRequested


class Clock(Protocol):
    """Monotonic time and sleeping, injectable for tests."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Sleep up to ``seconds``, less once ``event`` is set; True when it is set."""
        ...


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(0.0, seconds))


def pause(clock: Clock, seconds: float, stop: threading.Event | None = None) -> None:
    """Sleep ``seconds`` on ``clock``; a set ``stop`` ends the sleep with StopRequested."""
    if stop is None:
        clock.sleep(seconds)
    elif clock.wait(stop, seconds):
        raise StopRequested("stop requested")


__all__ = ["Clock", "SystemClock", "pause"]
