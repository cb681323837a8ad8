"""What a report shows, as plain values: tiles, charts, tables and notes (no HTML here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table

DEFAULT_DAYS = 90


@dataclass(frozen=True)
class Scope:
    """The period (UTC days, both ends included) and, for a customer's page, one site."""

    since: date
    until: date
    site_uid: str | None = None
    site_name: str | None = None

    @classmethod
    def default(cls, since: date | None = None, until: date | None = None, **site: Any) -> Scope:
        """``until`` defaults to today (UTC), ``since`` to 90 days up to ``until``."""
        until = until or datetime.now(UTC).date()
        return cls(since or until - timedelta(days=DEFAULT_DAYS - 1), until, **site)

    def days(self) -> list[date]:
        """Every day of the period, oldest first."""
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]

    def of_site(self, table: Table) -> list[Any]:
        """Filter on the site for a site's page (nothing for the whole account)."""
        return [table.c.site_uid == self.site_uid] if self.site_uid else []

    def within(self, table: Table) -> list[Any]:
        """The site filter and the period on a table with a ``day`` column."""
        return [*self.of_site(table), table.c.day.between(self.since, self.until)]


@dataclass(frozen=True)
class Tile:
    """One KPI: a big figure, a line under it, and a tone for its colour."""

    label: str
    value: str
    detail: str = ""
    tone: str = "neutral"  # good | warn | bad | neutral


@dataclass(frozen=True)
class Series:
    """One line or bar series: x values (days or categories) and y values (None: a gap)."""

    name: str
    x: list[str]
    y: list[float | int | None]


@dataclass(frozen=True)
class Chart:
    """A chart to draw: ``kind`` line, bar or stacked."""

    key: str
    title: str
    kind: str
    series: list[Series]
    y_title: str = ""
    caption: str = ""


@dataclass
class Listing:
    """A table: headers, rows of display strings, and how many rows were left out."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    more: int = 0
    empty: str = "none"
    #: per row, a CSS class per cell ("" for none): marks the figures that need attention
    marks: list[list[str]] = field(default_factory=list)
    #: per column, whether it holds figures (right-aligned)
    numeric: list[bool] = field(default_factory=list)


@dataclass
class Report:
    """Everything a report page shows."""

    title: str
    scope: Scope
    generated_at: datetime
    as_of: datetime | None
    accounts: list[str]
    tiles: list[Tile] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    listings: list[Listing] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def pct(part: int | float | None, whole: int | float | None) -> float | None:
    """``100 * part / whole`` with one decimal, None when there is nothing to divide by."""
    if not whole:
        return None
    return round(100.0 * (part or 0) / whole, 1)


def show_pct(value: float | None) -> str:
    """A percentage for display (an em dash when there is none)."""
    return "—" if value is None else f"{value:.1f} %"


def tone_for(value: float | None, good: float, warn: float) -> str:
    """good at or above ``good``, warn at or above ``warn``, else bad (neutral: no value)."""
    if value is None:
        return "neutral"
    return "good" if value >= good else "warn" if value >= warn else "bad"
