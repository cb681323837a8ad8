"""Progress collectors: rich bars on a TTY, plain log lines otherwise.

Resources report progress in requests (``total`` = requests they will need, when known). The
ETA comes from the requests still needed and the rate budget: what the window has free goes
now, the rest at the budget's pace; when the API answers slower than the budget allows,
the observed pace wins. The budget is handed to the collector by whoever opened the API
session (the CLI), so the ETA follows the budget of the account being synced.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from etl.api.budget import RateBudget
from etl.resources.base import NoProgress
from etl.resources.base import Progress as ProgressProtocol

log = logging.getLogger(__name__)
LOG_EVERY = 10.0  # seconds between two plain progress lines of one resource


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


class BudgetETAColumn(ProgressColumn):
    """``eta 3:20`` from the requests still needed and the rate budget (if given)."""

    def __init__(self, budget: RateBudget | None = None) -> None:
        super().__init__()
        self.budget = budget

    def render(self, task: Task) -> Text:
        if task.total is None or task.finished:
            return Text("")
        eta = eta_seconds(task.total - task.completed, self.budget, task.speed)
        return Text(f"eta {clock_text(eta)}", style="progress.remaining")


class RichProgress:
    """One bar per resource; totals (in requests) may arrive late and grow.

    ``budget`` is the rate budget the ETAs are computed from (none: the observed pace only).
    """

    def __init__(self, console: Console | None = None, budget: RateBudget | None = None) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            BudgetETAColumn(budget),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, resource: str, total: int | None = None) -> None:
        with self._lock:
            if resource not in self._tasks:
                self._tasks[resource] = self._progress.add_task(resource, total=total)

    def advance(self, resource: str, n: int = 1, total: int | None = None) -> None:
        self.start(resource)
        with self._lock:
            task = self._tasks[resource]
            if total is not None:
                self._progress.update(task, total=total)
            self._progress.advance(task, n)

    def finish(self, resource: str) -> None:
        with self._lock:
            task = self._tasks.get(resource)
            if task is not None:
                done = self._progress.tasks[task].completed
                self._progress.update(task, total=max(done, 1), completed=max(done, 1))


class LogProgress:
    """Without a terminal: a plain log line per resource every ``every`` seconds.

    ``budget`` is the rate budget the ETAs are computed from (none: the observed pace only).
    """

    def __init__(self, every: float = LOG_EVERY, budget: RateBudget | None = None) -> None:
        self.every = every
        self.budget = budget
        self._state: dict[str, list[Any]] = {}  # resource → [done, total, started, last line]
        self._lock = threading.Lock()

    def start(self, resource: str, total: int | None = None) -> None:
        with self._lock:
            now = time.monotonic()
            self._state.setdefault(resource, [0, total, now, now])

    def advance(self, resource: str, n: int = 1, total: int | None = None) -> None:
        self.start(resource)
        with self._lock:
            state = self._state[resource]
            state[0] += n
            if total is not None:
                state[1] = total
            done, total, started, last = state
            now = time.monotonic()
            if now - last < self.every:
                return
            state[3] = now
        speed = done / (now - started) if now > started else None
        left = eta_seconds(total - done, self.budget, speed) if total else None
        log.info(
            "%s: %d%s requests, eta %s",
            resource,
            done,
            f"/{total}" if total else "",
            clock_text(left),
            extra={"fields": {"resource": resource, "done": done, "total": total, "eta": left}},
        )

    def finish(self, resource: str) -> None:
        with self._lock:
            self._state.pop(resource, None)


def make_progress(
    enabled: bool | None = None, budget: RateBudget | None = None
) -> ProgressProtocol:
    """Bars on a terminal (or when asked), log lines otherwise, nothing when turned off.

    ``budget`` is the session's rate budget, for the ETAs.
    """
    if enabled is None:
        return RichProgress(budget=budget) if sys.stderr.isatty() else LogProgress(budget=budget)
    return RichProgress(budget=budget) if enabled else NoProgress()
