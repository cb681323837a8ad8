"""Removal confirmation for sites and devices.

A sweep that did not show a stored row proves nothing: pages shift while they are read, and
the account-wide device list has been seen to miss devices. So each stored, not yet removed
row that the sweep missed is asked for by itself (``GET /v2/site/{uid}``,
``GET /v2/device/{uid}``): a 404 confirms the removal and sets ``removed_at``; an answer
means the sweep skipped it and the row is refreshed from that answer; any other failure
leaves the row as it was until a later run can tell.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, select, update

from etl.db.load import chunks, upsert
from etl.db.schema import utcnow
from etl.errors import NotFoundError
from etl.resources.base import RunContext

log = logging.getLogger(__name__)


def confirm_removed(
    ctx: RunContext,
    conn: Connection,
    table: Table,
    seen: set[str],
    path: str,
    to_row: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, int]:
    """Ask for every live row of ``table`` the sweep missed; mark the confirmed ones removed.

    ``path`` is a template with ``{uid}``. Returns counts for the run's details.
    """
    live = conn.execute(
        select(table.c.uid).where(
            table.c.account_uid == ctx.account_uid, table.c.removed_at.is_(None)
        )
    ).scalars()
    paths = {path.format(uid=uid): uid for uid in live if uid not in seen}
    gone: list[str] = []
    present: list[dict[str, Any]] = []
    unsure = 0
    for requested, body in ctx.client.get_many(list(paths)):
        uid = paths[requested]
        if isinstance(body, NotFoundError):
            gone.append(uid)
        elif isinstance(body, dict) and str(body.get("uid")) == uid:
            present.append(to_row(body))  # the sweep skipped it: it is still there
        else:
            unsure += 1
            log.warning("%s %s: removal not confirmed this run: %s", table.name, uid, body)
    changed = upsert(conn, table, ctx.stamp(present))
    for part in chunks(gone, 5000):
        changed += conn.execute(
            update(table)
            .where(table.c.uid.in_(part), table.c.account_uid == ctx.account_uid)
            .values(removed_at=ctx.started_at, synced_at=utcnow())
        ).rowcount
    if gone:
        log.info("%s: %d confirmed removed", table.name, len(gone))
    return {
        "missing_from_sweep": len(paths),
        "confirmed_removed": len(gone),
        "unconfirmed": unsure,
        "changed": changed,
    }
