"""What the budget remembers beyond one process: IP blocks and the last window of requests.

One small JSON file per account (origin + a hash of the API key, never the key itself) in the
state directory, beside the run lock of :mod:`etl.lock`: a new process counts the requests
the previous run made in the last window against its own budget, so two runs in a row stay
within one budget, and paces by the window size the API last reported before its own first
look at ``request_rate``. Inside a process every client of an account shares one
:class:`~etl.api.budget.RateBudget` (:func:`budget_for`).

An IP block is not the account's: Datto blocks the calling IP at the platform's edge, so it
is remembered per API origin (``origin-<host>.json``, :func:`block_origin`). Every account on
that origin waits, in this process at once and in the next ones from the file, while
accounts on other platforms go on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from etl.api.budget import RateBudget
from etl.config import BudgetSettings, DattoSettings

log = logging.getLogger(__name__)
_budgets: dict[tuple[str, float], RateBudget] = {}
_budgets_lock = threading.Lock()
# origin → the budgets of this process calling it (every account on that platform)
_by_origin: dict[str, list[RateBudget]] = {}  # kept as long as _budgets keeps them


def state_dir(budget: BudgetSettings) -> Path:
    """``budget.state_dir``, else ``$XDG_STATE_HOME/datto-etl``, else ``~/.local/state/...``."""
    if budget.state_dir:
        return Path(budget.state_dir).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "datto-etl"


def account_key(datto: DattoSettings) -> str:
    """A file-name-safe key for one account: the origin and a hash of the API key."""
    key = datto.api_key.get_secret_value() if datto.api_key else ""
    digest = hashlib.sha256(f"{datto.origin}\n{key}".encode()).hexdigest()[:16]
    return f"{_host(datto.origin)}-{digest}"


def _host(origin: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in origin.split("://")[-1])


class AccountMemory:
    """The state file of one account; unreadable or foreign content counts as empty."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def of(cls, datto: DattoSettings, budget: BudgetSettings) -> AccountMemory:
        """The memory of the account ``datto`` points at."""
        return cls(state_dir(budget) / f"{account_key(datto)}.json")

    @classmethod
    def of_origin(cls, datto: DattoSettings, budget: BudgetSettings) -> AccountMemory:
        """The memory of the API origin ``datto`` points at (IP blocks: every account on it)."""
        return cls(state_dir(budget) / f"origin-{_host(datto.origin)}.json")

    def read(self) -> dict[str, Any]:
        """The stored state ({} when there is none or it cannot be read)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, **changes: Any) -> None:
        data = {**self.read(), **changes}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # names accounts
            # write beside, then rename: a reader never sees half a file
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".state-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.path)
        except OSError as exc:  # memory is a courtesy; never fail a run for it
            log.warning("cannot write %s: %s", self.path, exc)
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)

    def blocked_until(self) -> float | None:
        """Epoch seconds until which Datto blocks this IP, if a block is still on."""
        until = self.read().get("blocked_until")
        return float(until) if isinstance(until, int | float) and until > time.time() else None

    def record_block(self, until: float, message: str) -> None:
        """Remember an IP block lasting until ``until`` (epoch seconds)."""
        self._write(blocked_until=until, blocked_at=time.time(), block_message=message)

    def window(self) -> list[float]:
        """Epoch times of the last run's requests still in recent memory."""
        times = self.read().get("window")
        if not isinstance(times, list):
            return []
        return [float(t) for t in times if isinstance(t, int | float)]

    def window_seconds(self) -> float | None:
        """The rolling window the API last reported for this account (seconds), if known."""
        value = self.read().get("window_seconds")
        if isinstance(value, int | float) and 0 < value < 86_400:
            return float(value)
        return None

    def save_window(self, times: list[float], seconds: float | None = None) -> None:
        """Remember our requests of the current window (epoch seconds) and its size."""
        size = {} if seconds is None else {"window_seconds": seconds}
        self._write(window=[round(t, 3) for t in times], pid=os.getpid(), **size)


def budget_for(datto: DattoSettings, settings: BudgetSettings) -> RateBudget:
    """The process-wide budget of this account, seeded from the account's memory once.

    Every client of one account in this process shares it, so a daemon that opens a client
    per job still keeps one window; the settings in force are re-applied on every call.
    """
    key = (f"{state_dir(settings)}/{account_key(datto)}", settings.window_seconds)
    with _budgets_lock:
        budget = _budgets.get(key)
        fresh = budget is None
        if budget is None:
            budget = _budgets[key] = RateBudget(window=settings.window_seconds)
            _by_origin.setdefault(datto.origin, []).append(budget)
    budget.low_share = settings.low_priority_share
    budget.account_limit = settings.account_limit
    budget.cutoff_ratio = settings.cutoff_ratio
    budget.calibrate_every = settings.calibrate_every_seconds
    budget.set_limit(settings.requests_per_minute)
    memory = AccountMemory.of(datto, settings)
    if fresh:
        window = memory.window_seconds()
        if window is not None:  # the account's own, as the API last reported it
            budget.window = window
        now = time.time()
        budget.seed([now - t for t in memory.window()])
    blocks = [memory.blocked_until(), AccountMemory.of_origin(datto, settings).blocked_until()]
    until = max((u for u in blocks if u is not None), default=None)
    if until is not None:  # another process met an IP block that still lasts
        budget.block(until - time.time())
    return budget


def block_origin(datto: DattoSettings, settings: BudgetSettings, until: float, message: str) -> int:
    """Datto blocked our IP on ``datto``'s origin until ``until`` (epoch seconds): remember it
    for the processes to come and block every budget of this process on that origin.

    Returns how many budgets (accounts) of this process it stopped.
    """
    AccountMemory.of_origin(datto, settings).record_block(until, message)
    with _budgets_lock:
        budgets = list(_by_origin.get(datto.origin, ()))
    for budget in budgets:
        budget.block(until - time.time())
    return len(budgets)


def remember_window(datto: DattoSettings, settings: BudgetSettings, budget: RateBudget) -> None:
    """Write this budget's current window to the account's memory (for the next process)."""
    now = time.time()
    AccountMemory.of(datto, settings).save_window(
        [now - age for age in budget.window_ages()], budget.reported_window
    )


__all__ = [
    "AccountMemory",
    "account_key",
    "block_origin",
    "budget_for",
    "remember_window",
    "state_dir",
]
