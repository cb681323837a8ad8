"""Every time shape Datto sends, turned into an aware UTC datetime (or None)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

DOTNET_MIN_MS = -62135596800000  # .NET DateTime.MinValue, Datto's "no date"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_number(value: float, unit_ms: bool) -> datetime | None:
    if not math.isfinite(value) or value == 0 or value <= DOTNET_MIN_MS:
        return None
    try:
        return (
            _EPOCH + timedelta(milliseconds=value) if unit_ms else _EPOCH + timedelta(seconds=value)
        )
    except OverflowError:
        return None


def to_utc(value: object, *, unit: str = "ms") -> datetime | None:
    """Convert epoch ms (or seconds with ``unit="s"``), ISO strings and numeric strings to UTC.

    ``0``, ``None``, ``""`` and .NET's MinValue mean "no date" and give None; an ISO string
    without an offset is taken as UTC; anything unparseable gives None rather than a guess.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_number(float(value), unit == "ms")
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return _from_number(float(text), unit == "ms")
    except ValueError:
        pass
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.year <= 1:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_date(value: object) -> date | None:
    """A calendar date from ``yyyy-mm-dd`` or epoch ms (``warrantyDate``)."""
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    moment = to_utc(value)
    return moment.date() if moment else None


def to_epoch_ms(moment: datetime) -> int:
    """Aware datetime → epoch milliseconds (for cursors and the simulator)."""
    return round(moment.timestamp() * 1000)
