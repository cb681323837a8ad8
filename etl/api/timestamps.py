"""Every time shape Datto sends, turned into an aware UTC datetime (or None).

Two readers of each kind: :func:`read_utc` / :func:`read_date` are strict (a non-null value
that cannot be read raises :class:`UnreadableTime`, so the mapping can count it instead of
storing a silent NULL); :func:`to_utc` / :func:`to_date` are lenient (None instead), for
cursors and values of our own making.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Literal

DOTNET_MIN_MS = -62135596800000  # .NET DateTime.MinValue, Datto's "no date"
#: ``unit="auto"``: an epoch number at or above this is milliseconds. Seconds that large
#: would be after the year 5138, milliseconds below it before March 1973 (API_FACTS.md:
#: which unit an account sends for activity dates is unknown).
MS_FROM = 1e11
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Unit = Literal["ms", "s", "auto"]


class UnreadableTime(ValueError):
    """A non-null time value that no known shape reads (``"yesterday"``, 10**30 ms)."""


def _from_number(value: float, unit: Unit) -> datetime | None:
    if not math.isfinite(value):
        raise UnreadableTime(f"{value!r} is not a finite epoch number")
    if value == 0 or value <= DOTNET_MIN_MS:
        return None
    in_ms = unit == "ms" or (unit == "auto" and abs(value) >= MS_FROM)
    try:
        return _EPOCH + (timedelta(milliseconds=value) if in_ms else timedelta(seconds=value))
    except OverflowError:
        raise UnreadableTime(
            f"{value!r} is out of range as epoch {'ms' if in_ms else 's'}"
        ) from None


def read_utc(value: object, *, unit: Unit = "ms") -> datetime | None:
    """Epoch ms (``unit="s"``: seconds; ``"auto"``: either, by magnitude), ISO strings and
    numeric strings → aware UTC datetime.

    ``0``, ``None``, blank strings and .NET's MinValue (as a number or ``0001-01-01``) mean
    "no date" and give None; an ISO string without an offset is taken as UTC. Any other
    value that cannot be read raises :class:`UnreadableTime` rather than giving a guess.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_number(float(value), unit)
    if not isinstance(value, str):
        raise UnreadableTime(f"a {type(value).__name__} is not a time")
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return _from_number(number, unit)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise UnreadableTime(f"{value[:40]!r} is neither an epoch number nor ISO 8601") from None
    if parsed.year <= 1:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_utc(value: object, *, unit: Unit = "ms") -> datetime | None:
    """:func:`read_utc`, with None for a value it cannot read."""
    try:
        return read_utc(value, unit=unit)
    except UnreadableTime:
        return None


def read_date(value: object) -> date | None:
    """A calendar date from ``yyyy-mm-dd`` or epoch ms (``warrantyDate``); strict like
    :func:`read_utc`."""
    if isinstance(value, str) and len(value.strip()) == 10 and value.strip()[4:5] == "-":
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise UnreadableTime(f"{value!r} is not a calendar date") from None
    moment = read_utc(value)
    return moment.date() if moment else None


def to_date(value: object) -> date | None:
    """:func:`read_date`, with None for a value it cannot read."""
    try:
        return read_date(value)
    except UnreadableTime:
        return None


def to_epoch_ms(moment: datetime) -> int:
    """Aware datetime → epoch milliseconds (for cursors and the simulator)."""
    return round(moment.timestamp() * 1000)
