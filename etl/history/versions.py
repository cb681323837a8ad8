"""``device_history`` and ``site_history``: a version per change of tracked attributes.

:func:`observe` takes the rows a page (or a removal check) is writing, reads the open version
of each of their uids, and only where the tracked values differ closes it (``valid_to`` =
this run's ``started_at``) and opens the next (``valid_from`` = the same instant): versions
chain without gap or overlap. A row whose ``removed_at`` is set closes its version at that
time; a uid without an open version (first sight, or back after a removal) opens one.
:func:`close` closes the versions of rows confirmed removed. A run that sees a uid twice
(pages shift, relists) amends the version it opened rather than stacking a zero-length one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, or_, select, update

from etl.db.load import chunks
from etl.db.schema import utcnow
from etl.history import clean, enabled
from etl.history.tables import device_history, site_history
from etl.resources.base import RunContext

PART = 500  # uids per statement: far below every dialect's bind-parameter limit


@dataclass(frozen=True)
class Versioned:
    """A history table: its key column and the tracked columns (named as in the source)."""

    table: Table
    key: str
    columns: tuple[str, ...]

    def values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        """The tracked values of a source row, as they will be stored."""
        return tuple(
            clean(row.get(c), getattr(self.table.c[c].type, "length", None)) for c in self.columns
        )


DEVICES = Versioned(
    device_history,
    "device_uid",
    (
        "site_uid",
        "hostname",
        "device_class",
        "device_type_category",
        "operating_system",
        "antivirus_product",
        "warranty_date",
    ),
)
SITES = Versioned(site_history, "site_uid", ("name", "on_demand", "autotask_company_id"))


@dataclass
class Version:
    """A stored version: when it began, its values, and whether it is still open."""

    valid_from: datetime
    values: tuple[Any, ...]
    open: bool


def _stored(
    conn: Connection, ctx: RunContext, what: Versioned, uids: Sequence[str]
) -> tuple[dict[str, Version], set[str]]:
    """The open version of each uid, and the uids with a closed version begun this run."""
    t, now = what.table, ctx.started_at
    current: dict[str, Version] = {}
    began_now: set[str] = set()
    for part in chunks(uids, PART):
        query = select(t.c[what.key], t.c.valid_from, t.c.valid_to, *(t.c[c] for c in what.columns))
        query = query.where(
            t.c.account_uid == ctx.account_uid,
            t.c[what.key].in_(part),
            or_(t.c.valid_to.is_(None), t.c.valid_from == now),
        )
        for uid, valid_from, valid_to, *values in conn.execute(query):
            if valid_to is None:
                current[uid] = Version(valid_from, tuple(values), True)
            else:
                began_now.add(uid)
    return current, began_now


def _key(ctx: RunContext, uid: str, valid_from: datetime) -> dict[str, Any]:
    return {"b_account": ctx.account_uid, "b_uid": uid, "b_from": valid_from}


def _where(what: Versioned) -> list[Any]:
    t = what.table
    return [
        t.c.account_uid == bindparam("b_account"),
        t.c[what.key] == bindparam("b_uid"),
        t.c.valid_from == bindparam("b_from"),
    ]


def observe(
    ctx: RunContext, conn: Connection, what: Versioned, rows: Iterable[dict[str, Any]]
) -> int:
    """Record the versions ``rows`` (source rows: ``uid``, the tracked columns, ``removed_at``)
    imply, in ``conn``'s transaction; return history rows written (0 when nothing changed)."""
    if not enabled(ctx):
        return 0
    latest = {str(row["uid"]): row for row in rows}  # a repeated item: the later copy wins
    if not latest:
        return 0
    now = ctx.started_at
    current, began_now = _stored(conn, ctx, what, sorted(latest))
    opened: list[dict[str, Any]] = []  # new versions
    amended: list[dict[str, Any]] = []  # versions begun this run: values (and reopened)
    closed: list[dict[str, Any]] = []
    for uid, row in latest.items():
        version = current.get(uid)
        if row.get("removed_at") is not None:  # removed: close the version, open none
            if version is not None:
                ends = max(row["removed_at"], version.valid_from)
                closed.append({**_key(ctx, uid, version.valid_from), "b_to": ends})
            continue
        values = what.values(row)
        if version is not None and version.values == values:
            continue
        named = dict(zip(what.columns, values, strict=True))
        if version is not None and version.valid_from >= now:
            amended.append({**_key(ctx, uid, version.valid_from), **named})
            continue
        if version is not None:
            closed.append({**_key(ctx, uid, version.valid_from), "b_to": now})
        if uid in began_now:  # closed earlier in this same run: open it again
            amended.append({**_key(ctx, uid, now), **named})
        else:
            opened.append({what.key: uid, "valid_from": now, "valid_to": None, **named})
    t = what.table
    # Close before opening: both in this transaction, so readers never see two open versions.
    if closed:
        ends = update(t).where(*_where(what)).values(valid_to=bindparam("b_to"), synced_at=utcnow())
        conn.execute(ends, closed)
    if amended:
        sets: dict[str, Any] = {c: bindparam(c) for c in what.columns}
        stmt = update(t).where(*_where(what)).values(valid_to=None, synced_at=utcnow(), **sets)
        conn.execute(stmt, amended)
    if opened:
        conn.execute(t.insert(), ctx.stamp(opened))
    return len(opened) + len(amended) + len(closed)


def close(ctx: RunContext, conn: Connection, what: Versioned, uids: Sequence[str]) -> int:
    """Close the open versions of ``uids``, confirmed removed at this run's ``started_at``."""
    if not enabled(ctx):
        return 0
    t, closed = what.table, 0
    for part in chunks(sorted(uids), PART):
        stmt = (
            update(t)
            .where(
                t.c.account_uid == ctx.account_uid,
                t.c[what.key].in_(part),
                t.c.valid_to.is_(None),
            )
            .values(valid_to=ctx.started_at, synced_at=utcnow())
        )
        closed += conn.execute(stmt).rowcount
    return closed
