"""``device_daily``: the posture of every live device on each UTC day a devices sync ran.

:func:`observe` runs in each devices page's transaction: for every live device of the page
it reads the stored row of the run's UTC day and writes only a new or different one, so the
day's last sync wins and a second sync of the same day that sees no change writes nothing.
``observed_at`` is the sync these values come from: the day's first that saw them.
:func:`prune` applies ``[history] device_daily_days``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select

from etl.db.load import chunks, upsert
from etl.history import clean, enabled
from etl.history.tables import device_daily
from etl.resources.base import RunContext

POSTURE = (
    "site_uid",
    "online",
    "last_seen",
    "patch_status",
    "patches_installed",
    "patches_approved_pending",
    "patches_not_approved",
    "antivirus_status",
    "reboot_required",
    "last_audit_date",
)
PART = 500


def day_of(ctx: RunContext) -> date:
    """The UTC day a run belongs to."""
    return ctx.started_at.astimezone(UTC).date()


def posture(row: dict[str, Any]) -> tuple[Any, ...]:
    """A devices row's posture values, as stored."""
    t = device_daily
    return tuple(clean(row.get(c), getattr(t.c[c].type, "length", None)) for c in POSTURE)


def observe(ctx: RunContext, conn: Connection, rows: Iterable[dict[str, Any]]) -> int:
    """Write the day's row of each live device in ``rows`` (devices rows) that is new or
    differs from the stored one; return rows written."""
    if not enabled(ctx):
        return 0
    live = {str(r["uid"]): posture(r) for r in rows if r.get("removed_at") is None}
    if not live:
        return 0
    t, day = device_daily, day_of(ctx)
    stored: dict[str, tuple[Any, ...]] = {}
    for part in chunks(sorted(live), PART):
        query = select(t.c.device_uid, *(t.c[c] for c in POSTURE)).where(
            t.c.account_uid == ctx.account_uid, t.c.day == day, t.c.device_uid.in_(part)
        )
        stored.update((uid, tuple(values)) for uid, *values in conn.execute(query))
    key = {"day": day, "observed_at": ctx.started_at}
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for uid, values in live.items():
        if stored.get(uid) != values:
            row = {"device_uid": uid, **key, **dict(zip(POSTURE, values, strict=True))}
            (changed if uid in stored else new).append(row)
    if new:  # the day's first sync: plain inserts (the run lock keeps other writers out)
        conn.execute(t.insert(), ctx.stamp(new))
    return len(new) + (upsert(conn, t, ctx.stamp(changed)) if changed else 0)


def prune(ctx: RunContext, conn: Connection) -> int:
    """Delete the account's days older than ``[history] device_daily_days`` (None: keep)."""
    keep = ctx.settings.history.device_daily_days
    if not enabled(ctx) or keep is None:
        return 0
    first = day_of(ctx) - timedelta(days=keep - 1)
    t = device_daily
    stmt = delete(t).where(t.c.account_uid == ctx.account_uid, t.c.day < first)
    return conn.execute(stmt).rowcount
