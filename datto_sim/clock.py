"""The simulator's clock: real time sped up by ``scale`` and moved on by ``advance``.

Rate-limit windows, token lifetimes and data timestamps all run on it, so a test can make
60 simulated seconds pass in 0.6 real ones, or jump 30 days ahead at once.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class SimClock:
    """Simulated epoch time in seconds."""

    def __init__(self, scale: float = 1.0, start: float | None = None) -> None:
        self.scale = scale
        self._real0 = time.monotonic()
        self._sim0 = time.time() if start is None else start
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Simulated seconds since the epoch."""
        with self._lock:
            return self._sim0 + (time.monotonic() - self._real0) * self.scale + self._offset

    def now_ms(self) -> int:
        """Simulated epoch milliseconds (Datto's time shape)."""
        return int(self.now() * 1000)

    def now_dt(self) -> datetime:
        """Simulated now as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), UTC)

    def advance(self, seconds: float) -> None:
        """Jump ahead by ``seconds`` of simulated time."""
        with self._lock:
            self._offset += seconds

    def real_seconds(self, sim_seconds: float) -> float:
        """How long ``sim_seconds`` of simulated time last in real time."""
        return sim_seconds / self.scale

    def sleep(self, sim_seconds: float) -> None:
        """Sleep for ``sim_seconds`` of simulated time."""
        if sim_seconds > 0:
            time.sleep(self.real_seconds(sim_seconds))
