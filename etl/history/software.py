"""``device_software_history``: when each (name, version) appeared on and left each device.

:func:`observe` runs in the software resource's batch transaction, with the lists it is
saving: per device, titles the stored history has open but the new audit lacks get
``removed_at`` = that audit's ``last_audit_date``; titles it lists that are not open start a
row with ``first_seen_at`` = the same date (when the device has no audit date: the run's
``started_at``). An upgrade is one version leaving and another arriving. The same audit
saved twice (a crash between batches, a rerun) finds everything in place and writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, or_, select, update

from etl.db.load import chunks
from etl.db.schema import utcnow
from etl.history import clean, enabled
from etl.history.tables import device_software_history
from etl.resources.base import RunContext

PART = 500
Title = tuple[str, str]


def observe(
    ctx: RunContext,
    conn: Connection,
    software: Sequence[dict[str, Any]],
    audits: Sequence[dict[str, Any]],
) -> int:
    """Record what the new lists imply. ``audits`` holds one row per device whose list is
    saved (``device_uid``, ``audited_at``), ``software`` their titles (``device_uid``,
    ``name``, ``version``). Returns history rows written."""
    if not enabled(ctx) or not audits:
        return 0
    when: dict[str, datetime] = {
        str(a["device_uid"]): a.get("audited_at") or ctx.started_at for a in audits
    }
    titles: dict[str, set[Title]] = {uid: set() for uid in when}
    for row in software:
        titles[str(row["device_uid"])].add((clean(row["name"]), clean(row["version"])))
    t = device_software_history
    installed: dict[str, dict[Title, datetime]] = defaultdict(dict)  # open rows
    closed: set[tuple[str, Title, datetime]] = set()  # closed rows begun at a date we write
    dates = sorted(set(when.values()))
    for part in chunks(sorted(when), PART):
        query = select(t.c.device_uid, t.c.name, t.c.version, t.c.first_seen_at, t.c.removed_at)
        query = query.where(
            t.c.account_uid == ctx.account_uid,
            t.c.device_uid.in_(part),
            or_(t.c.removed_at.is_(None), t.c.first_seen_at.in_(dates)),
        )
        for uid, name, version, first, removed in conn.execute(query):
            if removed is None:
                installed[uid][(name, version)] = first
            else:
                closed.add((uid, (name, version), first))
    added: list[dict[str, Any]] = []
    reopened: list[dict[str, Any]] = []
    removed_rows: list[dict[str, Any]] = []
    for uid, listed in titles.items():
        at, have = when[uid], installed.get(uid, {})
        for (name, version), first in have.items():
            if (name, version) not in listed:
                key = {"b_uid": uid, "b_name": name, "b_version": version, "b_first": first}
                removed_rows.append({**key, "b_at": max(at, first)})
        for name, version in listed - set(have):
            if (uid, (name, version), at) in closed:  # left and came back at this same audit
                reopened.append({"b_uid": uid, "b_name": name, "b_version": version, "b_first": at})
            else:
                added.append(
                    {"device_uid": uid, "name": name, "version": version, "first_seen_at": at}
                )
    _set_removed(conn, ctx, t, removed_rows, bindparam("b_at"))
    _set_removed(conn, ctx, t, reopened, None)
    if added:
        conn.execute(t.insert(), ctx.stamp(added))
    return len(added) + len(reopened) + len(removed_rows)


def _set_removed(
    conn: Connection, ctx: RunContext, t: Table, keys: list[dict[str, Any]], value: Any
) -> None:
    """``removed_at = value`` on the rows named by ``keys`` (executemany)."""
    if not keys:
        return
    stmt = (
        update(t)
        .where(
            t.c.account_uid == ctx.account_uid,
            t.c.device_uid == bindparam("b_uid"),
            t.c.name == bindparam("b_name"),
            t.c.version == bindparam("b_version"),
            t.c.first_seen_at == bindparam("b_first"),
        )
        .values(removed_at=value, synced_at=utcnow())
    )
    conn.execute(stmt, keys)
