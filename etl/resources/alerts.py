"""Alerts: ``/v2/account/alerts/open`` and ``/resolved`` → ``alerts``, incrementally.

Both lists come newest first by raise time and have no ``since`` filter (API_FACTS.md), so a
run goes:

1. **Open sweep**: every page of the open list (muted and unmuted). Pages shift while they
   are read: an alert resolved above the reader pulls the list up and skips an item. A
   skipped alert we already hold is harmless; one we do not hold could be raised only after
   the last run, so when a page boundary lies in that new range (and always on the first
   run) the sweep is read again down to it, and a third time if that found anything new.
2. **Resolved walk**, newest first, stopping at the first alert older than the cutoff: the
   newest raise time seen at the top of the lists by the last run, less
   ``sync.alerts_overlap_minutes``. The first run reads the whole history.
3. **Formerly-open alerts**: stored as open, gone from this sweep. They sit deep in the
   resolved list at their raise time, so either the walk goes down to the oldest of them
   or they are fetched one by one (``GET /v2/alert/{uid}``), whichever the estimate says
   takes fewer requests (pages counted from the stored rows at the learned page size).
   Whatever the walk did not confirm is fetched too; a 404 sets ``removed_at``. An alert
   is never marked resolved because a sweep missed it.

Every page is committed with the cursor (:mod:`etl.resources.alert_cursor`): a run killed at
any point resumes without a gap. ``sync_runs.details`` says what the run did and why it
stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from itertools import chain
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text, func, select, update

from etl.api.budget import Lane
from etl.api.client import Page
from etl.api.timestamps import to_epoch_ms, to_utc
from etl.db.load import upsert
from etl.db.schema import JSONDoc, UTCDateTime, utcnow
from etl.db.state import load_cursor, save_cursor
from etl.errors import BadRequestError
from etl.resources.alert_cursor import AlertCursor, Gap, above, covered, merge, trim
from etl.resources.base import Resource, RunContext, register
from etl.resources.convert import Field, Spec, always_none, json_list, json_object, keyed
from etl.resources.removal import ask_each

log = logging.getLogger(__name__)
OPEN = "/v2/account/alerts/open"
RESOLVED = "/v2/account/alerts/resolved"
ONE = "/v2/alert/{uid}"
MAX_SWEEPS = 3
SMALLER_MAX = (100, 50)  # tried when an alert list refuses our ``max`` (live size unknown)

SPEC = Spec(
    Field("alertUid", String(64), key=True),
    Field("alertSourceInfo.deviceUid", String(64), index=True),
    Field("alertSourceInfo.deviceName", Text),
    Field("alertSourceInfo.siteUid", String(64), index=True),
    Field("alertSourceInfo.siteName", Text),
    Field("priority", String(32)),
    Field("diagnostics", Text),
    Field("resolved", Boolean, index=True),
    Field("resolvedBy", Text),
    Field("resolvedOn", UTCDateTime),
    Field("muted", Boolean),
    Field("ticketNumber", Text),
    Field("timestamp", UTCDateTime, index=True, doc="when the alert was raised"),
    Field("alertContext.@class", String(128), column="context_class", doc="alertContext['@class']"),
    Field(
        "alertContext", JSONDoc, column="context", convert=json_object, doc="the whole alertContext"
    ),
    Field("autoresolveMins", Integer),
    Field("alertMonitorInfo.sendsEmails", Boolean),
    Field("alertMonitorInfo.createsTicket", Boolean),
    Field("responseActions", JSONDoc, convert=json_list),
    # answered now, so not gone
    Field(
        always_none,
        UTCDateTime,
        column="removed_at",
        doc="set when an alert held as open answers 404 (its device was deleted)",
    ),
)
alerts = SPEC.table("alerts", "Open and resolved alerts; rows are never deleted.")
to_row = SPEC.row  # an alert item → an ``alerts`` row (times in UTC, the context kept as JSON)
to_rows = SPEC.rows  # alert items → rows, those that cannot be stored left out (and noted)


def raised_ms(row: dict[str, Any]) -> int | None:
    """A row's raise time in epoch ms (None when the API sent none)."""
    return to_epoch_ms(row["timestamp"]) if row["timestamp"] else None


def _ms_iso(ms: int | None) -> str | None:
    moment = to_utc(ms) if ms is not None else None
    return moment.isoformat() if moment else None


class AlertRun:
    """One run of the alerts resource: sweep, walk, confirm; state kept page by page."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.result = ctx.result  # filled as pages commit: a failed run reports what it saved
        self.overlap_ms = round(ctx.settings.sync.alerts_overlap_minutes * 60_000)
        with ctx.engine.connect() as conn:
            self.cursor = AlertCursor.load(load_cursor(conn, ctx.account_uid, Alerts.name))
        self.base = None if self.cursor.ref_ms is None else self.cursor.ref_ms - self.overlap_ms
        self.max_param = self.cursor.max_param or ctx.client.page_size
        self.open_seen: set[str] = set()
        self.open_newest: int | None = None
        self.open0_at = 0.0
        self.db_seconds = 0.0
        self.details: dict[str, Any] = self.result.details
        self.details.update(
            cutoff_base=_ms_iso(self.base),
            resumed_gaps=len(self.cursor.gaps),
            open_pages=0,
            resolved_pages=0,
            alerts_written=0,
            stop_reason="running",
        )

    # -- plumbing --------------------------------------------------------------------------

    def save(self, rows: list[dict[str, Any]], with_cursor: bool = False) -> None:
        """Upsert one page's rows (and the cursor) in one transaction."""
        started = time.perf_counter()
        with self.ctx.transaction() as tx:
            tx.written += upsert(tx.conn, alerts, self.ctx.stamp(rows))
            if with_cursor:
                save_cursor(tx.conn, self.ctx.account_uid, Alerts.name, self.cursor.dump())
        self.db_seconds += time.perf_counter() - started
        self.result.rows_seen += len(rows)
        self.details["alerts_written"] = self.result.rows_written

    def pages(self, path: str, start: int = 0) -> Iterator[Page]:
        """The pages of an alert list from page ``start``, trying a smaller ``max`` on 400."""
        sizes = [self.max_param, *(m for m in SMALLER_MAX if m < self.max_param)]
        for n, size in enumerate(sizes):
            params: dict[str, Any] = {"max": size, **({"page": start} if start else {})}
            it = self.ctx.client.paginate(path, "alerts", params)
            try:
                first = next(it)
            except StopIteration:
                return
            except BadRequestError:
                if n == len(sizes) - 1:
                    raise
                log.info("%s refused max=%d; trying a smaller page size", path, size)
                continue
            self.max_param = self.cursor.max_param = size
            for page in chain([first], it):
                page.items = keyed(page.items, "alertUid", "alerts")
                yield page
            return

    def count(self, page: Page, key: str) -> None:
        """Count a page read (``key``: its detail counter); learn the page size from it."""
        self.result.pages += 1
        self.details[key] += 1
        self.ctx.progress.advance(Alerts.name, 1)
        if page.next_url and page.items:  # a full page: the list's real page size
            self.cursor.page_size = len(page.items)

    # -- 1. open sweep ---------------------------------------------------------------------

    def sweep(self) -> None:
        """Read the open list; read its new-range prefix again while pages may have shifted."""
        for sweep in range(1, MAX_SWEEPS + 1):
            found, risky = 0, False
            for page in self.pages(OPEN):
                rows = to_rows(page.items)
                times = [t for t in map(raised_ms, rows) if t is not None]
                if sweep == 1 and page.number == 0:
                    self.open0_at = time.monotonic()
                    self.open_newest = max(times, default=None)
                self.save(rows)
                self.count(page, "open_pages")
                uids = {r["alert_uid"] for r in rows}
                found += len(uids - self.open_seen)
                self.open_seen |= uids
                self.ctx.checkpoint()
                # An item skipped at this page's end was raised no later than its last item;
                # below the base every open alert is already stored (an earlier run saw it).
                edge = min(times, default=None)
                in_new_range = self.base is None or edge is None or edge >= self.base
                if page.next_url and in_new_range:
                    risky = True
                elif sweep > 1:
                    break
            self.details["open_sweeps"] = sweep
            if not risky or (sweep > 1 and not found):
                return

    # -- 2. resolved walk ------------------------------------------------------------------

    def candidates(self) -> dict[str, int | None]:
        """Alerts stored as open (not gone) that this sweep did not show: uid → raise time."""
        with self.ctx.engine.connect() as conn:
            rows = conn.execute(
                select(alerts.c.alert_uid, alerts.c.timestamp).where(
                    alerts.c.account_uid == self.ctx.account_uid,
                    alerts.c.resolved.is_not(True),
                    alerts.c.removed_at.is_(None),
                )
            ).all()
        return {
            uid: to_epoch_ms(ts) if ts else None for uid, ts in rows if uid not in self.open_seen
        }

    def stored(self, upper: int | None, lower: int | None, *, upper_in: bool = True) -> int:
        """Resolved alerts stored with a raise time from ``lower`` up to ``upper``."""
        query = select(func.count()).select_from(alerts)
        query = query.where(
            alerts.c.account_uid == self.ctx.account_uid, alerts.c.resolved.is_(True)
        )
        if upper is not None:
            top = to_utc(upper)
            query = query.where(alerts.c.timestamp <= top if upper_in else alerts.c.timestamp > top)
        if lower is not None:
            query = query.where(alerts.c.timestamp >= to_utc(lower))
        with self.ctx.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def stored_pages(self, gaps: list[Gap]) -> int:
        """Pages the resolved list needs for ``gaps``, from the rows stored in each range."""
        size = self.cursor.page_size or self.max_param
        # a gap below the top also costs a probe to find where it starts
        return sum(-(-self.stored(u, lo) // size) + (u is not None) for u, lo in gaps)

    def plan(self, open_ones: dict[str, int | None], owed: list[Gap]) -> list[Gap]:
        """Choose how to confirm the formerly-open alerts; return the ranges to walk."""
        outside = {u: t for u, t in open_ones.items() if t is None or not covered(owed, t)}
        placed = [t for t in outside.values() if t is not None]
        if not placed:  # all within the walk's ranges, or not placeable in time: one by one
            self.details["strategy"] = "fetch" if outside else self.default_strategy({})
            return owed
        lowest = min(placed)
        extended = merge([*owed, (None, lowest)])
        walk_cost = self.stored_pages(extended) - self.stored_pages(owed)
        fetch_cost = len(outside)
        choice = "walk" if walk_cost <= fetch_cost else "fetch"
        self.details.update(
            strategy=choice,
            estimate={"walk_extra_pages": walk_cost, "fetch_requests": fetch_cost},
        )
        return extended if choice == "walk" else owed

    def seek(self, upper: int) -> Iterator[Page]:
        """Pages from the first one that starts above ``upper`` (found from stored counts)."""
        size = self.cursor.page_size or self.max_param
        # stored rows raised after ``upper`` ≤ alerts listed before it (more may have come)
        start, step = self.stored(upper, None, upper_in=False) // size, 1
        while True:
            it = self.pages(RESOLVED, start)
            page = next(it, None)
            if page is None:
                return
            # (a probe: raise times only; its items are mapped where they are saved)
            raised = (to_utc(i.get("timestamp")) for i in page.items)
            times = [to_epoch_ms(moment) for moment in raised if moment is not None]
            if start == 0 or (times and times[0] > upper):
                # nothing at or below ``upper`` lies before this page: walk on from here
                yield page
                yield from it
                return
            self.result.pages += 1  # a probe that landed too low: stored rows overcounted
            self.details["probe_pages"] = self.details.get("probe_pages", 0) + 1
            start, step = max(0, start - step), step * 2

    def walk(self, open_ones: dict[str, int | None]) -> None:
        """Read the resolved list over this run's gaps, newest first, committing each page."""
        owed = merge([(None, self.base), *self.cursor.gaps])  # what the cursor must keep
        plan, planned = list(owed), False
        lowers: list[int | None] = []
        while plan:
            start, lower = plan.pop(0)
            pages = self.pages(RESOLVED) if start is None else self.seek(start)
            reason = "end of list"
            for page in pages:
                rows = to_rows(page.items)
                times = [t for t in map(raised_ms, rows) if t is not None]
                floor, ended = min(times, default=None), not (page.next_url and page.items)
                for row in rows:
                    if row["resolved"]:
                        open_ones.pop(row["alert_uid"], None)
                if start is None and page.number == 0:
                    self.learn_ref(times)
                self.count(page, "resolved_pages")
                owed = self.cursor.gaps = trim(owed, start, floor, ended)
                self.save(rows, with_cursor=True)
                self.ctx.checkpoint()
                if not planned and not ended:  # the page size is known now
                    planned = True
                    full = self.plan(open_ones, merge([(start, lower), *plan]))
                    lower, plan = full[0][1], full[1:]
                if ended:
                    plan, reason = [], "end of list"
                    break
                if lower is not None and floor is not None and floor < lower:
                    lowers.append(lower)
                    if plan and above(plan[0][0], floor):
                        lower = plan.pop(0)[1]  # the next gap starts on pages just read
                        continue
                    reason = "cutoff reached"
                    break
            if reason == "end of list":
                lowers.append(None)
            self.details["stop_reason"] = reason
        known = [lower for lower in lowers if lower is not None]  # None: walked to the end
        whole = len(known) < len(lowers)
        self.details["cutoff"] = None if whole else _ms_iso(min(known, default=None))
        self.details.setdefault("strategy", self.default_strategy(open_ones))
        if owed:  # cannot happen when every gap was walked; keep it owed rather than lose it
            log.warning("alerts: gaps still owed after the walk: %s", owed)

    def default_strategy(self, left: dict[str, int | None]) -> str:
        """How the formerly-open alerts were confirmed when no choice had to be made."""
        return "fetch" if left else "walk" if self.details["formerly_open"] else "none"

    def learn_ref(self, times: list[int]) -> None:
        """After the first resolved page: the newest raise time this run saw at the top."""
        newest = max(times, default=None)
        # Only trust the resolved page's newest if it came soon after the open list's first
        # page: alerts raised between the two reads must stay above the next cutoff.
        soon = time.monotonic() - self.open0_at <= self.overlap_ms / 2000
        seen = [t for t in (self.cursor.ref_ms, self.open_newest) if t is not None]
        if soon or not seen:  # (with nothing else known, a full walk every run is worse)
            seen += [newest] if newest is not None else []
        self.cursor.ref_ms = max(seen, default=None)

    # -- 3. one by one ---------------------------------------------------------------------

    def fetch(self, open_ones: dict[str, int | None]) -> None:
        """Ask for every formerly-open alert the walk did not confirm; 404 → ``removed_at``."""
        found = ask_each(self.ctx, ONE, open_ones, "alertUid", "alert")
        self.save(to_rows(found.items))
        if found.gone:
            now = utcnow()
            with self.ctx.transaction() as tx:
                tx.written += tx.conn.execute(
                    update(alerts)
                    .where(
                        alerts.c.account_uid == self.ctx.account_uid,
                        alerts.c.alert_uid.in_(found.gone),
                        alerts.c.resolved.is_not(True),
                    )
                    .values(removed_at=now, synced_at=now)
                ).rowcount
        self.details.update(fetched=len(open_ones), gone=len(found.gone), unconfirmed=found.unsure)

    def run(self) -> None:
        """The whole run; the cursor is final only once every gap is walked."""
        self.sweep()
        open_ones = self.candidates()
        self.details["formerly_open"] = len(open_ones)
        self.walk(open_ones)
        self.fetch(open_ones)
        self.save([], with_cursor=True)
        self.details.update(
            page_size=self.cursor.page_size,
            ref=_ms_iso(self.cursor.ref_ms),
            db_seconds=round(self.db_seconds, 3),
        )


@register
class Alerts(Resource):
    """Open and resolved alerts, incrementally (see the module docstring)."""

    name = "alerts"
    tables = (alerts,)
    cadence = "every 5m"
    lane = Lane.HIGH
    cost = (
        "the open list (read again while its pages may shift), the resolved list down to the "
        "cutoff, and one `GET` per formerly-open alert when cheaper than walking to it"
    )

    def run(self, ctx: RunContext) -> None:
        try:
            AlertRun(ctx).run()
        except BaseException as exc:  # what was committed until now is in ctx.result
            ctx.result.details["stop_reason"] = type(exc).__name__
            raise
