"""Cadences: how often ``datto-etl run`` syncs each resource, and in which budget lane.

``[schedule] name = "every 5m"`` (s, m, h, d, combinable: ``"every 1h30m"``) or a five-field
cron line in local time (``"15 3 * * *"``). Defaults and lanes follow cost and live on each
resource class (``Resource.cadence``, ``Resource.lane``; hourly and normal unless it says),
so a new resource gets a job without a line here.
``time_scale`` divides the ``every`` intervals, so tests can run minutes as seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from etl.api.budget import Lane
from etl.config import Settings
from etl.errors import ConfigError
from etl.resources import REGISTRY


def lane(name: str) -> Lane:
    """The budget lane of resource ``name`` (its class says; ``normal`` by default)."""
    return REGISTRY[name].lane


_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)", re.I)


@dataclass(frozen=True)
class Cadence:
    """How often a resource runs: an interval in seconds (already scaled) or a cron line."""

    text: str
    interval: float | None = None
    cron: str | None = None

    def trigger(self, start: datetime) -> BaseTrigger:
        """The APScheduler trigger; intervals count from ``start``."""
        if self.interval is not None:
            return IntervalTrigger(seconds=self.interval, start_date=start, timezone=UTC)
        return CronTrigger.from_crontab(str(self.cron))

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment``."""
        if self.interval is not None:
            return moment + timedelta(seconds=self.interval)
        fire = CronTrigger.from_crontab(str(self.cron)).get_next_fire_time(
            None, moment + timedelta(microseconds=1)
        )
        assert fire is not None  # a valid crontab always fires again
        return fire.astimezone(UTC)

    def period(self, now: datetime) -> float:
        """Seconds between two runs (for a cron line: between its next two fires)."""
        if self.interval is not None:
            return self.interval
        first = self.next_after(now)
        return (self.next_after(first) - first).total_seconds()


def parse_cadence(text: object, time_scale: float = 1.0) -> Cadence:
    """``"every 5m"`` / ``"every 1h30m"`` / a five-field cron line → :class:`Cadence`."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{text!r} is not a cadence")
    spec = " ".join(text.split())
    if spec.lower().startswith("every "):
        rest = spec[6:]
        parts = _PART.findall(rest)
        if not parts or "".join(f"{n}{u}" for n, u in parts) != rest.replace(" ", ""):
            raise ValueError(f"{text!r} is not an interval like 'every 15m' or 'every 1h30m'")
        seconds = 0.0
        for number, unit in parts:
            if unit.lower() not in _UNITS:
                raise ValueError(f"{text!r}: unknown unit {unit!r} (use s, m, h or d)")
            seconds += float(number) * _UNITS[unit.lower()]
        if seconds <= 0 or not math.isfinite(seconds):
            raise ValueError(f"{text!r} must be longer than zero and finite")
        return Cadence(spec, interval=seconds / time_scale)
    if len(spec.split()) != 5:
        raise ValueError(f"{text!r} is neither 'every <n><s|m|h|d>' nor a 5-field cron line")
    try:
        CronTrigger.from_crontab(spec)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid cron line: {exc}") from None
    return Cadence(spec, cron=spec)


def schedule(settings: Settings, names: list[str]) -> dict[str, Cadence]:
    """The cadence of each resource in ``names``; every problem of ``[schedule]`` at once."""
    configured: Mapping[str, Any] = settings.schedule.model_extra or {}
    problems = [
        f"schedule.{key}: no such resource; choose from {', '.join(sorted(REGISTRY))}"
        for key in configured
        if key not in REGISTRY
    ]
    out: dict[str, Cadence] = {}
    for name in names:
        text = configured.get(name, REGISTRY[name].cadence)
        try:
            out[name] = parse_cadence(text, settings.schedule.time_scale)
        except ValueError as exc:
            problems.append(
                f'schedule.{name}: {exc}; write e.g. {name} = "every 15m" or "15 3 * * *"'
            )
    if problems:
        raise ConfigError(problems)
    return out
