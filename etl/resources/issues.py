"""What a resource run could not take as sent: skipped items and unreadable times.

One bad item (a lone surrogate in a name, an id of 10**30, a list where a name belongs, a
10 kB uid) must not fail its whole resource on every run, and a time the API sent but no
shape reads must not become a silent NULL. The mapping (:mod:`etl.resources.convert`)
notes both here; :func:`collecting` gives each resource run its own :class:`Issues` (a
context variable, so the scheduler's threads keep theirs apart and the mapping functions
stay free of a run argument); the sync writes :meth:`Issues.details` into
``sync_runs.details`` and logs :meth:`Issues.warn`'s lines, one per kind per run.

Examples name the table, the item's key (shortened), the column and why; never an item's
other values, which may be private. An unreadable time's example shows the value itself
(a time string, shortened), since that is what to report upstream.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
EXAMPLES = 5  # per kind and run: enough to find the items, small in sync_runs.details
SHOWN = 40  # characters of a key or value shown in an example


def shown(value: Any) -> str:
    """``value`` printable and short: surrogates escaped, cut to :data:`SHOWN` characters."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


@dataclass
class Issues:
    """Counts and a few examples of one run's skipped items and unreadable times."""

    skipped: Counter[str] = field(default_factory=Counter)  # "table.column: why" → items
    unreadable: Counter[str] = field(default_factory=Counter)  # "table.column" → values
    skipped_examples: list[dict[str, str]] = field(default_factory=list)
    unreadable_examples: list[dict[str, str]] = field(default_factory=list)
    # items met again in one run (a list read twice, an alert open and resolved) count once
    _noted: set[tuple[str, str]] = field(default_factory=set)

    def _again(self, what: str, key: Any) -> bool:
        if key is None:
            return False
        ident = (what, str(key))
        if ident in self._noted:
            return True
        self._noted.add(ident)
        return False

    def skip(self, table: str, column: str | None, why: str, key: Any = None) -> None:
        """One item left out: its ``column`` (None: the item as a whole) cannot be stored."""
        where = f"{table}.{column}" if column else table
        if self._again(f"{where}: {why}", key):
            return
        self.skipped[f"{where}: {why}"] += 1
        if len(self.skipped_examples) < EXAMPLES:
            example = {"table": table, "column": column or "", "why": why}
            self.skipped_examples.append(
                {**example, "key": shown(key)} if key is not None else example
            )

    def unreadable_time(self, table: str, column: str, value: Any, key: Any = None) -> None:
        """One non-null time no shape reads; stored as NULL."""
        if self._again(f"{table}.{column}", key):
            return
        self.unreadable[f"{table}.{column}"] += 1
        if len(self.unreadable_examples) < EXAMPLES:
            example = {"table": table, "column": column, "value": shown(value)}
            self.unreadable_examples.append(
                {**example, "key": shown(key)} if key is not None else example
            )

    def skipped_items(self) -> int:
        """Items skipped so far in this run."""
        return sum(self.skipped.values())

    def details(self) -> dict[str, Any]:
        """What goes into ``sync_runs.details`` (nothing when all went in as sent)."""
        out: dict[str, Any] = {}
        if self.skipped:
            out["skipped_items"] = {
                "count": sum(self.skipped.values()),
                "why": dict(self.skipped.most_common()),
                "examples": self.skipped_examples,
            }
        if self.unreadable:
            out["unreadable_times"] = {
                "count": sum(self.unreadable.values()),
                "columns": dict(self.unreadable.most_common()),
                "examples": self.unreadable_examples,
            }
        return out

    def warn(self, resource: str) -> None:
        """One warning per kind for the run (none when all went in as sent)."""
        if self.skipped:
            log.warning(
                "%s: skipped %d item(s) that cannot be stored (%s); the rest is saved; "
                "see sync_runs.details.skipped_items",
                resource,
                sum(self.skipped.values()),
                _summary(self.skipped),
            )
        if self.unreadable:
            log.warning(
                "%s: %d time value(s) could not be read and were stored as NULL (%s); "
                "see sync_runs.details.unreadable_times",
                resource,
                sum(self.unreadable.values()),
                _summary(self.unreadable),
            )


def _summary(counts: Counter[str]) -> str:
    top = [f"{what}: {n}" for what, n in counts.most_common(3)]
    more = len(counts) - len(top)
    return "; ".join(top) + (f"; {more} more" if more > 0 else "")


_CURRENT: ContextVar[Issues | None] = ContextVar("etl_run_issues", default=None)


@contextmanager
def collecting() -> Iterator[Issues]:
    """Note this context's skipped items and unreadable times in a fresh :class:`Issues`."""
    issues = Issues()
    token = _CURRENT.set(issues)
    try:
        yield issues
    finally:
        _CURRENT.reset(token)


def current() -> Issues:
    """The run's :class:`Issues`; outside a run, a throwaway one (a test mapping by hand)."""
    return _CURRENT.get() or Issues()
