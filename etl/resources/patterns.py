"""Two shapes most resources take, so each resource module only maps fields.

* :class:`SnapshotResource`: small account-wide lists (users, variables, components,
  filters) kept as a snapshot of the account's configuration.
* :class:`PerSiteResource`: one request (or one paged list) per live site, whose rows
  replace that site's rows (site variables, site settings, network interfaces).
* :class:`PerDeviceResource`: one request (or paged list) per device whose audit moved
  (audits, software), skipping for good what answers 404/400 until the audit moves again.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from sqlalchemy import Connection, Table, select

from etl.db.load import chunks, key_of, replace_sets, upsert
from etl.db.state import iso, load_cursor, save_cursor
from etl.errors import APIError, BadRequestError, NotFoundError
from etl.resources.base import Resource, ResourceResult, RunContext
from etl.resources.common import BATCH, Misses, fetch_answers
from etl.resources.devices import devices
from etl.resources.sites import sites

log = logging.getLogger(__name__)
Rows = dict[Table, list[dict[str, Any]]]


class SnapshotResource(Resource):
    """Account-wide lists at :attr:`paths`, kept as a snapshot.

    Rows are upserted; when every list was read completely (as many distinct rows as its
    ``totalCount``; without one, a single page), stored rows of this account that the read
    did not show are deleted: these lists describe configuration, not history.
    """

    paths: ClassVar[tuple[str, ...]]
    items_key: ClassVar[str]

    def rows(self, items: list[dict[str, Any]]) -> Rows:
        """API items → rows for each table of :attr:`tables`."""
        raise NotImplementedError

    def read(self, ctx: RunContext, path: str, result: ResourceResult) -> tuple[list, bool]:
        """Every item of one list, and whether the read was provably complete."""
        items: list[dict[str, Any]] = []
        expected: int | None = None
        filled = 0
        for page in ctx.client.paginate(path, self.items_key):
            ctx.checkpoint()
            items += page.items
            result.pages += 1
            filled += bool(page.items)
            if page.number == 0:
                expected = page.total_count
            ctx.progress.advance(self.name, 1)
        main = self.tables[0]
        distinct = {tuple(r[k] for k in key_of(main)) for r in self.rows(items)[main]}
        # Without totalCount only a one-page list is surely complete (no page could shift).
        return items, (len(distinct) >= expected if expected is not None else filled <= 1)

    def run(self, ctx: RunContext) -> ResourceResult:
        result = ResourceResult()
        items: list[dict[str, Any]] = []
        complete = True
        for path in self.paths:
            found, whole = self.read(ctx, path, result)
            items += found
            complete = complete and whole
        rows = self.rows(items)
        with ctx.engine.begin() as conn:
            for table in self.tables:
                stamped = ctx.stamp(rows[table])
                if complete:
                    owner = [ctx.account_uid]
                    result.rows_written += replace_sets(conn, table, "account_uid", owner, stamped)
                else:
                    result.rows_written += upsert(conn, table, stamped)
        if not complete:
            log.warning("%s: a list came back short; nothing deleted this time", self.name)
        result.rows_seen = len(items)
        result.details["complete"] = complete
        return result


def live_sites(conn: Connection, account_uid: str) -> list[str]:
    """Uids of the account's sites not confirmed removed."""
    return list(
        conn.execute(
            select(sites.c.uid)
            .where(sites.c.account_uid == account_uid, sites.c.removed_at.is_(None))
            .order_by(sites.c.uid)
        ).scalars()
    )


class PerSiteResource(Resource):
    """One document or paged list per live site; its rows replace the site's rows.

    Set :attr:`path` (with ``{uid}``) and :attr:`items_key` (``None`` for one document).
    Every table of :attr:`tables` needs a ``site_uid`` column. A site answering 404 has just
    been deleted (the sites resource confirms that) and is skipped.
    """

    depends_on = ("sites",)
    path: ClassVar[str]
    items_key: ClassVar[str | None] = None

    def rows(self, site_uid: str, body: Any) -> Rows:
        """One site's answer (its items, or its document) → rows per table."""
        raise NotImplementedError

    def run(self, ctx: RunContext) -> ResourceResult:
        result = ResourceResult()
        with ctx.engine.connect() as conn:
            uids = live_sites(conn, ctx.account_uid)
        ctx.progress.advance(self.name, 0, total=len(uids))
        misses = Misses(self.name)
        for batch in chunks(uids, BATCH):
            ctx.checkpoint()
            wanted = {self.path.format(uid=uid): uid for uid in batch}
            rows: Rows = {table: [] for table in self.tables}
            done: list[str] = []
            for path, body in fetch_answers(ctx.client, list(wanted), self.items_key):
                uid = wanted[path]
                if isinstance(body, NotFoundError):
                    log.info("%s: site %s is gone; skipped", self.name, uid)
                elif isinstance(body, APIError):
                    misses.add(uid, body)
                else:
                    for table, found in self.rows(uid, body).items():
                        rows[table] += found
                    done.append(uid)
            with ctx.engine.begin() as conn:
                for table in self.tables:
                    result.rows_written += replace_sets(
                        conn, table, "site_uid", done, ctx.stamp(rows[table])
                    )
            result.rows_seen += sum(len(found) for found in rows.values())
            result.pages += len(done)
            ctx.progress.advance(self.name, len(batch))
        misses.check(len(uids))
        return result


Due = tuple[str, str, Any]  # (device uid, device class, its last_audit_date)


def due_devices(
    conn: Connection,
    account_uid: str,
    state: Table,
    classes: tuple[str, ...],
    skipped: dict[str, str | None],
) -> list[Due]:
    """Live devices of ``classes`` whose entry in ``state`` is missing or stale.

    ``state`` has ``device_uid`` and ``audited_at`` (the ``last_audit_date`` it was taken
    at); a device without an entry is due once. ``skipped`` maps uids whose last fetch was
    refused for good (404/400) to the audit date it was for: they wait until that moves.
    """
    stored = state.alias("stored")
    query = (
        select(devices.c.uid, devices.c.device_class, devices.c.last_audit_date)
        .select_from(devices.outerjoin(stored, stored.c.device_uid == devices.c.uid))
        .where(
            devices.c.account_uid == account_uid,
            devices.c.removed_at.is_(None),
            devices.c.device_class.in_(classes),
            stored.c.device_uid.is_(None)
            | stored.c.audited_at.is_distinct_from(devices.c.last_audit_date),
        )
        .order_by(devices.c.uid)
    )
    return [
        (uid, cls, when)
        for uid, cls, when in conn.execute(query)
        if uid not in skipped or skipped[uid] != iso(when)
    ]


class PerDeviceResource(Resource):
    """Per-device documents, fetched only for devices whose ``last_audit_date`` moved.

    :attr:`state` records the audit date each device was last fetched at; a 404 or 400
    (device gone, wrong class) is remembered in the cursor and not asked again until the
    device's audit date moves; other failures are asked again next run. Batches of
    :data:`BATCH` devices are saved each in one transaction with the cursor.
    """

    depends_on = ("devices",)
    state: ClassVar[Table]
    classes: ClassVar[tuple[str, ...]]
    what: ClassVar[str]  # for messages: "device audits"
    items_key: ClassVar[str | None] = None  # a paged list per device, or one document

    def path(self, uid: str, cls: str) -> str:
        """The request for one device."""
        raise NotImplementedError

    def save(self, ctx: RunContext, conn: Connection, fetched: list[tuple[Due, Any]]) -> int:
        """Write a batch of ``(device, answer)``; return rows changed."""
        raise NotImplementedError

    def run(self, ctx: RunContext) -> ResourceResult:
        result = ResourceResult()
        with ctx.engine.connect() as conn:
            cursor = load_cursor(conn, ctx.account_uid, self.name) or {}
            skipped: dict[str, str | None] = dict(cursor.get("skipped") or {})
            due = due_devices(conn, ctx.account_uid, self.state, self.classes, skipped)
        ctx.progress.advance(self.name, 0, total=len(due))
        misses = Misses(self.what)
        for batch in chunks(due, BATCH):
            ctx.checkpoint()
            wanted = {self.path(uid, cls): (uid, cls, when) for uid, cls, when in batch}
            fetched: list[tuple[Due, Any]] = []
            for path, body in fetch_answers(ctx.client, list(wanted), self.items_key):
                device = wanted[path]
                if isinstance(body, NotFoundError | BadRequestError):
                    log.info("%s of %s skipped until its audit moves: %s", self.what, path, body)
                    skipped[device[0]] = iso(device[2])
                elif isinstance(body, APIError):
                    misses.add(device[0], body)
                else:
                    skipped.pop(device[0], None)
                    fetched.append((device, body))
            with ctx.engine.begin() as conn:
                result.rows_written += self.save(ctx, conn, fetched)
                save_cursor(conn, ctx.account_uid, self.name, {"skipped": skipped})
            result.rows_seen += len(fetched)
            result.pages += len(batch)
            ctx.progress.advance(self.name, len(batch))
        result.details.update(
            due=len(due), fetched=result.rows_seen, skipped=len(skipped), failed=misses.count
        )
        misses.check(len(due))
        return result
