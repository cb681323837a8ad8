"""Removal confirmation for sites and devices.

A sweep that did not show a stored row proves nothing: pages shift while they are read, and
the account-wide device list has been seen to miss devices. So each stored, not yet removed
row that the sweep missed is asked for by itself (``GET /v2/site/{uid}``,
``GET /v2/device/{uid}``): a 404 confirms the removal and sets ``removed_at``; an answer
means the sweep skipped it and the row is refreshed from that answer; any other failure
leaves the row as it was until a later run can tell. :func:`ask_each` is that one-by-one
asking, shared with the alerts resource's confirmation of formerly-open alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select, update

from etl.db.load import chunks
from etl.db.schema import utcnow
from etl.errors import NotFoundError
from etl.resources.base import RunContext, Transaction

log = logging.getLogger(__name__)


@dataclass
class Answers:
    """What asking for records one by one found."""

    items: list[dict[str, Any]] = field(default_factory=list)  # still there: their answers
    gone: list[str] = field(default_factory=list)  # answered 404
    unsure: int = 0  # any other failure: left as they were until a later run can tell


def ask_each(
    ctx: RunContext,
    template: str,
    uids: Iterable[str],
    uid_key: str,
    what: str,
) -> Answers:
    """``GET template.format(uid=…)`` for each uid, in parallel under the budget.

    A 404 counts as gone; an answer whose ``uid_key`` is the uid asked for is kept.
    """
    paths = {template.format(uid=uid): uid for uid in uids}
    found = Answers()
    for requested, body in ctx.client.get_many(list(paths)):
        uid = paths[requested]
        if isinstance(body, NotFoundError):
            found.gone.append(uid)
        elif isinstance(body, dict) and str(body.get(uid_key)) == uid:
            found.items.append(body)
        else:
            found.unsure += 1
            log.warning("%s %s: not confirmed this run: %s", what, uid, body)
    return found


def confirm_removed(
    ctx: RunContext,
    table: Table,
    seen: set[str],
    path: str,
    save: Callable[[Transaction, list[dict[str, Any]]], None],
    gone: Callable[[Transaction, list[str]], None] | None = None,
) -> dict[str, int]:
    """Ask for every live row of ``table`` the sweep missed; mark the confirmed ones removed.

    ``path`` is a template with ``{uid}``; ``save`` maps and writes, in the transaction it is
    given, the answers of the rows still there (the resource's own ``rows`` and ``save``);
    ``gone`` records, in the same transaction, what the removals imply (history closed).
    The questions go out first, the writes follow in one transaction. Returns counts for the
    run's details.
    """
    with ctx.engine.connect() as conn:
        live = conn.execute(
            select(table.c.uid).where(
                table.c.account_uid == ctx.account_uid, table.c.removed_at.is_(None)
            )
        ).scalars()
        missed = [uid for uid in live if uid not in seen]
    found = ask_each(ctx, path, missed, "uid", table.name)
    with ctx.transaction() as tx:
        save(tx, found.items)  # the sweep skipped them: still there
        for part in chunks(found.gone, 5000):
            tx.written += tx.conn.execute(
                update(table)
                .where(table.c.uid.in_(part), table.c.account_uid == ctx.account_uid)
                .values(removed_at=ctx.started_at, synced_at=utcnow())
            ).rowcount
        if gone is not None and found.gone:
            gone(tx, found.gone)
    if found.gone:
        log.info("%s: %d confirmed removed", table.name, len(found.gone))
    return {
        "missing_from_sweep": len(missed),
        "confirmed_removed": len(found.gone),
        "unconfirmed": found.unsure,
    }
