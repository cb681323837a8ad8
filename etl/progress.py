"""Progress collectors: rich bars on a TTY, nothing otherwise (the run logs a line each)."""

from __future__ import annotations

import sys
import threading
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from etl.resources.base import NoProgress
from etl.resources.base import Progress as ProgressProtocol


class RichProgress:
    """One bar per resource; totals (in requests) may arrive late and grow."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
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


def make_progress(enabled: bool | None = None) -> ProgressProtocol:
    """Bars when stderr is a terminal (or when asked), else a silent collector."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    return RichProgress() if enabled else NoProgress()
