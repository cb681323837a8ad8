"""Progress collectors: one live display on a terminal, plain log lines otherwise.

Resources report progress in requests (``total`` = requests they will need, when known) and
hand over their :class:`~etl.resources.base.ResourceResult` (rows). The session tells the
collector when a resource waits for the rate budget and when it retries
(:class:`~etl.api.transport.Watcher`): that is said on the resource's line, with a countdown,
instead of a bar that seems stuck.

The ETA comes from the requests still needed and the rate budget: what the window has free
goes now, the rest at the budget's pace, after any pause a 429 imposed; when the API answers
slower than the budget allows, the observed pace wins. It is computed again at each refresh,
so it moves while a resource waits.

On a terminal, :class:`LiveProgress` draws one ``rich.live.Live`` display on a console that
logging shares while it runs (:func:`etl.log.log_through`): log lines print above the
display, never through it, and the display is drawn once.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from rich.console import Console, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from etl.api.budget import RateBudget
from etl.log import log_through
from etl.resources.base import NoProgress, ResourceResult
from etl.resources.base import Progress as ProgressProtocol

log = logging.getLogger(__name__)
LOG_EVERY = 10.0  # seconds between two plain progress lines of one resource
BAR_WIDTH = 24  # characters: the rest of the line says what the bar cannot


def eta_seconds(
    remaining: float, budget: RateBudget | None, speed: float | None = None
) -> float | None:
    """Seconds ``remaining`` requests need: the budget's floor, or the observed pace if slower."""
    if remaining <= 0:
        return 0.0
    floor = budget.eta(int(remaining)) if budget is not None else None
    observed = remaining / speed if speed else None
    candidates = [s for s in (floor, observed) if s is not None]
    return max(candidates) if candidates else None


def clock_text(seconds: float | None) -> str:
    """``1:02:03`` / ``2:03``, or ``-:--`` when unknown."""
    if seconds is None:
        return "-:--"
    s = int(seconds + 0.5)
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class Line:
    """What one resource is doing, as the display shows it."""

    started: float
    done: int = 0
    total: int | None = None
    result: ResourceResult | None = None
    wait_until: float | None = None  # waiting for the budget until then (monotonic)
    retry: tuple[int, int, float] | None = None  # attempt, of, until (monotonic)
    ended: float | None = None

    def speed(self, now: float) -> float | None:
        """Requests per second so far."""
        return self.done / (now - self.started) if self.done and now > self.started else None

    def state(self, now: float) -> str:
        """``waiting for budget (12 s)``, ``retrying (2/5)``, or ``""``."""
        if self.ended is not None:
            return ""
        if self.wait_until is not None and self.wait_until > now:
            return f"waiting for budget ({self.wait_until - now:.0f} s)"
        if self.retry is not None and self.retry[2] > now - 1.0:
            return f"retrying ({self.retry[0]}/{self.retry[1]})"
        return ""

    def rows(self) -> str:
        """``1,200 rows (35 written)`` from the run's result, once there is one."""
        if self.result is None:
            return ""
        return f"{self.result.rows_seen:,} rows ({self.result.rows_written:,} written)"


class Collector:
    """The bookkeeping both collectors share: a :class:`Line` per resource, thread-safe."""

    def __init__(self, budget: RateBudget | None = None) -> None:
        self.budget = budget
        self.lines: dict[str, Line] = {}
        self.lock = threading.Lock()

    def line(self, resource: str) -> Line:
        """The resource's line (made on first use); call with the lock held."""
        if resource not in self.lines:
            self.lines[resource] = Line(started=time.monotonic())
        return self.lines[resource]

    def start(self, resource: str, total: int | None = None) -> None:
        with self.lock:
            line = self.line(resource)
            line.total = total if total is not None else line.total

    def track(self, resource: str, result: ResourceResult) -> None:
        with self.lock:
            self.line(resource).result = result

    def advance(self, resource: str, n: int = 1, total: int | None = None) -> None:
        with self.lock:
            line = self.line(resource)
            line.done += n
            if total is not None:
                line.total = total
            line.retry = None if n else line.retry

    def finish(self, resource: str) -> None:
        with self.lock:
            line = self.line(resource)
            line.ended = time.monotonic()
            line.wait_until = None

    def waiting(self, resource: str, seconds: float) -> None:
        with self.lock:
            line = self.line(resource)
            line.wait_until = time.monotonic() + seconds if seconds > 0 else None

    def retrying(self, resource: str, attempt: int, of: int, seconds: float) -> None:
        with self.lock:
            self.line(resource).retry = (attempt, of, time.monotonic() + seconds)

    def eta(self, line: Line, now: float) -> float | None:
        """Seconds the resource still needs; at least what its wait still lasts."""
        if line.total is None:
            return None
        left = eta_seconds(line.total - line.done, self.budget, line.speed(now))
        if left is not None and line.wait_until is not None:
            left = max(left, line.wait_until - now)
        return left


class LiveProgress(Collector):
    """One live display, a line per resource: bar, requests done/total, rows, what it waits
    for, ETA. Logging goes through the display's console while it runs."""

    def __init__(self, console: Console | None = None, budget: RateBudget | None = None) -> None:
        super().__init__(budget)
        self.console = console or Console(stderr=True)
        self._spinner = Spinner("dots")
        self._live = Live(
            console=self.console,
            get_renderable=self.render,
            refresh_per_second=4,
            transient=False,
            redirect_stdout=False,  # the report goes to stdout after the display
        )
        self._logging: Any = None

    def __enter__(self) -> LiveProgress:
        self._logging = log_through(self.console)
        self._logging.__enter__()
        self._live.start(refresh=True)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._live.stop()
        finally:
            self._logging.__exit__(None, None, None)

    def render(self) -> RenderableType:
        """The display: one row per resource started so far."""
        grid = Table.grid(padding=(0, 1))
        for _ in range(5):
            grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        now = time.monotonic()
        with self.lock:
            lines = list(self.lines.items())
        for name, line in lines:
            ended = line.ended is not None
            mark: RenderableType = Text("✓", style="green") if ended else self._spinner
            done = line.total if ended and line.total is not None else line.done
            total = line.total
            bar = ProgressBar(  # no total yet: a pulse, not a full bar
                total=float(total) if total else (1.0 if ended else None),
                completed=float(done if total else ended),
                width=BAR_WIDTH,
            )
            counts = f"{done}/{total}" if total is not None else f"{done}/?"
            state = line.state(now)
            if ended:
                tail = f"{clock_text((line.ended or now) - line.started)}"
            else:
                eta = self.eta(line, now)
                tail = f"eta {clock_text(eta)}" if total is not None else ""
            grid.add_row(
                mark,
                Text(f"{name:<16}", style="bold"),
                bar,
                Text(f"{counts} requests"),
                Text(line.rows()),
                Text(" ".join(p for p in (state, tail) if p), style="yellow" if state else ""),
            )
        return grid


class LogProgress(Collector):
    """Without a terminal: a plain log line per resource every ``every`` seconds, and one
    when a resource starts waiting for the budget."""

    def __init__(self, every: float = LOG_EVERY, budget: RateBudget | None = None) -> None:
        super().__init__(budget)
        self.every = every
        self._said: dict[str, float] = {}

    def _due(self, resource: str, now: float) -> bool:
        with self.lock:
            if now - self._said.get(resource, self.line(resource).started) < self.every:
                return False
            self._said[resource] = now
            return True

    def advance(self, resource: str, n: int = 1, total: int | None = None) -> None:
        super().advance(resource, n, total)
        now = time.monotonic()
        if not self._due(resource, now):
            return
        with self.lock:
            line = self.line(resource)
            left = self.eta(line, now)
        log.info(
            "%s: %d%s requests, eta %s",
            resource,
            line.done,
            f"/{line.total}" if line.total else "",
            clock_text(left),
            extra={
                "fields": {
                    "resource": resource,
                    "done": line.done,
                    "total": line.total,
                    "eta": left,
                }
            },
        )

    def waiting(self, resource: str, seconds: float) -> None:
        with self.lock:
            was = self.line(resource).wait_until
        super().waiting(resource, seconds)
        if seconds > 0 and was is None and self._due(resource, time.monotonic()):
            log.info("%s: waiting for budget (%.0f s)", resource, seconds)

    def finish(self, resource: str) -> None:
        super().finish(resource)
        with self.lock:
            self._said.pop(resource, None)


def make_progress(
    enabled: bool | None = None, budget: RateBudget | None = None
) -> ProgressProtocol:
    """The live display on a terminal (or when asked), log lines otherwise, nothing when
    turned off.

    ``budget`` is the session's rate budget, for the ETAs.
    """
    if enabled is None:
        return LiveProgress(budget=budget) if sys.stderr.isatty() else LogProgress(budget=budget)
    return LiveProgress(budget=budget) if enabled else NoProgress()
