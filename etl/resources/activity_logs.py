"""Activity logs: ``GET /v2/activity-logs`` → ``activity_logs``, incremental by time.

The API pages with ``searchAfter`` links (``nextPageUrl``), has no "since this entry" filter
a client may set by hand, and its ``from`` takes whole seconds. So each run asks for
``from`` = the second of the newest entry stored (the first run: now minus
``sync.activity_logs_history_days``, by default 180: Datto's whole retention), ``order=asc``,
and follows ``nextPageUrl`` until an empty page. Entries of that boundary second that were
already stored are dropped before the upsert (their ids travel in the cursor), so no entry
is written twice and an entry that arrived in that same second later is not lost. Rows are
never deleted: past Datto's retention the table is the only archive of the activity.

Paging stops on an empty page; when the first page already holds every match (its
``totalCount``), its next link, which leads to an empty page, is not followed: an
incremental run with little new activity costs one request.

Each page is saved in its own transaction together with the cursor it advances, so a run
that is stopped or fails keeps what it saved and the next run resumes from there.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Boolean, String, Text

from etl.api.timestamps import read_utc, to_utc
from etl.db.load import upsert
from etl.db.schema import JSONDoc, UTCDateTime, utcnow
from etl.db.state import load_cursor, save_cursor
from etl.resources.base import Resource, RunContext, register
from etl.resources.convert import Field, Spec, keyed

log = logging.getLogger(__name__)


def parse_details(value: Any) -> Any:
    """``details`` is a JSON string; keep its document (or the raw text if it is not JSON)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


SPEC = Spec(
    Field("id", String(64), key=True),
    Field("entity", String(32)),
    Field("category", String(64)),
    Field("action", String(128)),
    Field(
        "date",
        UTCDateTime,
        # seen as epoch s, documented as epoch ms: which one an account sends is unknown
        convert=lambda value: read_utc(value, unit="auto"),
        index=True,
        doc="when it happened (API: epoch s or ms, told apart by magnitude)",
    ),
    Field("site.id", BigInteger, column="site_id", index=True),
    Field("site.name", Text, column="site_name"),
    Field("deviceId", BigInteger, index=True),
    Field("hostname", Text),
    Field("user.id", BigInteger, column="user_id"),
    Field("user.userName", Text, column="user_name", doc="user.userName"),
    Field("user.firstName", Text, column="user_first_name"),
    Field("user.lastName", Text, column="user_last_name"),
    Field("details", JSONDoc, convert=parse_details, doc="the details string parsed as JSON"),
    Field("hasStdOut", Boolean),
    Field("hasStdErr", Boolean),
)
activity_logs = SPEC.table(
    "activity_logs", "Who did what, when (activity logs); rows are never deleted."
)
to_row = SPEC.row  # an activity item → an ``activity_logs`` row (``date`` epoch s or ms)
to_rows = SPEC.rows  # activity items → rows, those that cannot be stored left out (and noted)


def api_time(moment: datetime) -> str:
    """The ``from``/``until`` format: ``yyyy-MM-ddTHH:mm:ssZ`` (whole seconds, UTC)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Cursor:
    """The newest second stored and the ids stored within it."""

    def __init__(self, second: datetime, ids: set[str]) -> None:
        self.second = second
        self.ids = ids

    @classmethod
    def load(cls, saved: dict[str, Any] | None, default: datetime) -> Cursor:
        """From ``sync_state`` (or ``default`` before the first run)."""
        second = to_utc((saved or {}).get("second"))
        if second is None:
            return cls(default.replace(microsecond=0), set())
        return cls(second, set((saved or {}).get("ids") or []))

    def is_new(self, row: dict[str, Any]) -> bool:
        """False for an entry this cursor already covers."""
        moment = row["date"]
        if moment is None:
            return row["id"] not in self.ids
        return moment >= self.second and not (
            moment < self.second + timedelta(seconds=1) and row["id"] in self.ids
        )

    def advance(self, rows: list[dict[str, Any]]) -> None:
        """Move to the newest second among ``rows`` (rows of one page, oldest first)."""
        for row in rows:
            moment = row["date"]
            if moment is None:
                continue
            second = moment.replace(microsecond=0)
            if second > self.second:
                self.second, self.ids = second, set()
            if second == self.second:
                self.ids.add(row["id"])

    def dump(self) -> dict[str, Any]:
        """The JSON saved in ``sync_state``."""
        return {"second": self.second.isoformat(), "ids": sorted(self.ids)}


@register
class ActivityLogs(Resource):
    """Activity since the cursor, ascending, one transaction per page."""

    name = "activity_logs"
    tables = (activity_logs,)
    path = "/v2/activity-logs"
    cadence = "every 10m"
    cost = (
        "the pages since the newest entry stored (first run: "
        "`sync.activity_logs_history_days`); one request when little happened"
    )

    def run(self, ctx: RunContext) -> None:
        result = ctx.result
        with ctx.engine.connect() as conn:
            saved = load_cursor(conn, ctx.account_uid, self.name)
        history = timedelta(days=ctx.settings.sync.activity_logs_history_days)
        start = Cursor.load(saved, utcnow() - history)
        # Entries are judged against where this run started, not against the advancing
        # cursor: if the API ever ignored order=asc, a newer page first would not hide the rest.
        cursor = Cursor(start.second, set(start.ids))
        params = {"from": api_time(start.second), "order": "asc", "size": ctx.client.page_size}
        result.details["from"] = params["from"]
        for page in ctx.client.paginate(self.path, "activities", params):
            ctx.checkpoint()
            rows = to_rows(keyed(page.items, "id", self.name))
            fresh = [row for row in rows if start.is_new(row)]
            if fresh:
                cursor.advance(fresh)
                with ctx.transaction() as tx:
                    tx.written += upsert(tx.conn, activity_logs, ctx.stamp(fresh))
                    save_cursor(tx.conn, ctx.account_uid, self.name, cursor.dump())
            result.rows_seen += len(fresh)
            result.pages += 1
            ctx.progress.advance(self.name, 1)
            total = page.total_count
            if page.number == 0 and total is not None and len(page.items) >= total:
                break  # everything fit on the first page: its next link leads to nothing
        result.details["cursor"] = cursor.second.isoformat()
