"""A clock for tests that would otherwise sleep: time moves only when someone sleeps."""

from __future__ import annotations

import threading


class StepClock:
    """An injected :class:`~etl.api.clock.Clock` (not a mock): sleeping advances it at once."""

    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        if event.is_set():
            return True
        self.sleep(seconds)
        return event.is_set()
