"""The shapes resources take, so that a resource module only says where, what and how to map.

* :class:`ListResource`: one paged list into one table, each page in its own transaction
  (with the history it implies: ``track``), then (optionally) more reading into it and
  removal confirmation (sites, devices; ``untrack``).
* :class:`SnapshotResource`: small account-wide lists kept as a snapshot of the account's
  configuration (users, variables, components, filters).
* :class:`PerSiteResource`: one answer per live site, whose rows replace that site's rows
  (site variables, site settings, network interfaces).
* :class:`PerDeviceResource`: one answer per device whose audit moved (audits, software),
  skipping for good what answers 404/400 until the audit moves again.

One hook vocabulary, the same name meaning the same thing in every shape:

================  ==========================================================================
``path``          what to GET; per-owner shapes: a template filled from the owner's fields
``items_key``     the key of the list in an answer (None: the answer is one document)
``params(ctx)``   query filters (re-applied to every next page)
``rows``          ``rows(body, owner) -> Rows``: one answer → rows per table, pure. ``body``
                  is a page's items (list, snapshot; ``owner`` None) or one owner's answer
``save``          ``save(ctx, conn, rows, owners) -> int``: write in the caller's transaction;
                  each table's rows of ``owners`` replaced as a set, or upserted when None
``owners``        ``owners(ctx, conn)``: per-site/per-device, whom to ask; the concrete
                  module gives it (live sites, devices due), the shape knows no tables
``after_sweep``   list: more reading once the sweep is done (devices: sites that came short)
``track``         ``track(ctx, conn, rows) -> int``: the history of rows just saved, in their
                  transaction; list: ``untrack(ctx, conn, uids)``, that of confirmed removals
================  ==========================================================================
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar

from sqlalchemy import Connection, Table

from etl.api.paging import Page
from etl.db.load import chunks, key_of, replace_sets, upsert
from etl.db.state import iso, load_cursor, save_cursor
from etl.errors import APIError, BadRequestError, NotFoundError
from etl.resources.base import Resource, RunContext, Transaction
from etl.resources.common import BATCH, Misses, fetch_answers
from etl.resources.convert import BadItem, Spec, keyed
from etl.resources.issues import current
from etl.resources.removal import confirm_removed

log = logging.getLogger(__name__)
Rows = dict[Table, list[dict[str, Any]]]


class Shape(Resource):
    """What every shape shares: :meth:`rows` to map, :meth:`save` to write."""

    #: The column naming a row's owner in every table: the set :meth:`save` replaces.
    owner_key: ClassVar[str] = "account_uid"

    def rows(self, body: Any, owner: Any) -> Rows:
        """One answer → rows per table (without ``account_uid``/``synced_at``)."""
        raise NotImplementedError

    def save(
        self, ctx: RunContext, conn: Connection, rows: Rows, owners: Sequence[str] | None
    ) -> int:
        """Write ``rows``: each table's rows of ``owners`` replaced as a set, or, when
        ``owners`` is None, upserted. Returns rows inserted, updated or deleted."""
        written = 0
        for table in self.tables:
            stamped = ctx.stamp(rows.get(table, ()))
            if owners is None:
                written += upsert(conn, table, stamped)
            else:
                written += replace_sets(
                    conn, table, self.owner_key, owners, stamped, account_uid=ctx.account_uid
                )
        return written

    def track(self, ctx: RunContext, conn: Connection, rows: Rows) -> int:
        """Record the history of ``rows`` just saved, in their transaction
        (:mod:`etl.history`); return history rows written. Default: no history kept."""
        return 0


# -- list ----------------------------------------------------------------------------------


@dataclass
class Sweep:
    """What a list's pages showed: its items' keys, and a count per ``tally_by`` value."""

    seen: set[str] = field(default_factory=set)
    tally: Counter[str] = field(default_factory=Counter)


class ListResource(Shape):
    """A paged list saved into ``tables[0]``, each page in its own transaction.

    Rows come from :attr:`spec` by default. Pages are upserts of what Datto shows now, so a
    sweep that stops half-way keeps what it committed and loses nothing; no transaction
    stays open across a request, so other writers of the database never wait on Datto.
    After the sweep, :meth:`after_sweep` may read more; then, when :attr:`one_path` is set,
    every stored row the sweep did not show is asked for by itself and gets ``removed_at``
    only on a 404 (:mod:`etl.resources.removal`): a sweep that misses a row proves nothing.
    """

    path: ClassVar[str]
    items_key: ClassVar[str]
    item_key: ClassVar[str] = "uid"  # the API's id of an item; items without it are skipped
    spec: ClassVar[Spec]
    one_path: ClassVar[str | None] = None  # "/v2/site/{uid}": confirm removals there
    tally_by: ClassVar[str | None] = None  # an item field the sweep counts items by

    def params(self, ctx: RunContext) -> dict[str, Any] | None:
        """Query filters to send (and re-apply to every next page)."""
        return None

    def rows(self, body: list[dict[str, Any]], owner: Any = None) -> Rows:
        return {self.tables[0]: self.spec.rows(body)}

    def after_sweep(self, ctx: RunContext, sweep: Sweep) -> None:
        """Called once the list is read (e.g. to :meth:`read` more)."""

    def untrack(self, ctx: RunContext, conn: Connection, uids: list[str]) -> int:
        """History of the rows just confirmed removed, in that transaction. Default: none."""
        return 0

    def write(self, ctx: RunContext, tx: Transaction, items: list[dict[str, Any]]) -> None:
        """Map and save ``items``, and their history, in the transaction ``tx``."""
        rows = self.rows(items)
        tx.written += self.save(ctx, tx.conn, rows, None)
        tx.history += self.track(ctx, tx.conn, rows)

    def read(
        self, ctx: RunContext, sweep: Sweep, path: str, params: dict[str, Any] | None = None
    ) -> None:
        """Read and save every page of the list at ``path``, noting items in ``sweep``."""
        for page in ctx.client.paginate(path, self.items_key, params):
            ctx.checkpoint()
            items = keyed(page.items, self.item_key, self.name)
            for item in items:
                sweep.seen.add(str(item[self.item_key]))
                if self.tally_by:
                    sweep.tally[str(item.get(self.tally_by))] += 1
            with ctx.transaction() as tx:
                self.write(ctx, tx, items)
            ctx.result.rows_seen += len(items)
            ctx.result.pages += 1
            ctx.progress.advance(self.name, 1, total=pages_of(page, ctx.client.page_size))

    def run(self, ctx: RunContext) -> None:
        sweep = Sweep()
        self.read(ctx, sweep, self.path, self.params(ctx))
        self.after_sweep(ctx, sweep)
        if self.one_path:

            def save(tx: Transaction, items: list[dict[str, Any]]) -> None:
                self.write(ctx, tx, items)

            def gone(tx: Transaction, uids: list[str]) -> None:
                tx.history += self.untrack(ctx, tx.conn, uids)

            found = confirm_removed(ctx, self.tables[0], sweep.seen, self.one_path, save, gone)
            ctx.result.details.update(found)


def pages_of(page: Page, size: int) -> int | None:
    """Pages the list will take, from the first page's ``totalCount`` (for progress)."""
    if page.number != 0 or not page.total_count:
        return None
    return max(1, -(-page.total_count // max(1, len(page.items) if page.next_url else size)))


# -- snapshot ------------------------------------------------------------------------------


class SnapshotResource(Shape):
    """Account-wide lists at :attr:`paths`, kept as a snapshot.

    Rows are upserted; when every list was read completely (as many distinct rows as its
    ``totalCount``; without one, a single page), stored rows of this account that the read
    did not show are deleted: these lists describe configuration, not history.
    """

    paths: ClassVar[tuple[str, ...]]
    items_key: ClassVar[str]
    #: The item field counted against ``totalCount`` when items and main-table rows are not
    #: one to one (a site with several network ids, or none); None: the main table's key.
    count_key: ClassVar[str | None] = None

    def read(self, ctx: RunContext, path: str, rows: Rows) -> bool:
        """Every page of one list into ``rows``; whether the read was provably complete."""
        main = self.tables[0]
        skipped_before = current().skipped_items()
        keys: set[Any] = set()
        expected: int | None = None
        filled = 0
        for page in ctx.client.paginate(path, self.items_key):
            ctx.checkpoint()
            found = self.rows(page.items, None)
            for table, new in found.items():
                rows[table] += new
            if self.count_key:
                named = {i.get(self.count_key) for i in page.items if isinstance(i, dict)}
                keys |= named - {None}
            else:
                # rows are not stamped yet: their key in the account is the key less account_uid
                key = [k for k in key_of(main) if k != "account_uid"]
                keys |= {tuple(r[k] for k in key) for r in found.get(main, ())}
            ctx.result.rows_seen += len(page.items)
            ctx.result.pages += 1
            filled += bool(page.items)
            if page.number == 0:
                expected = page.total_count
            ctx.progress.advance(self.name, 1)
        # Without totalCount only a one-page list is surely complete (no page could shift).
        # Skipped items were listed too: they count towards the total.
        listed = len(keys) + current().skipped_items() - skipped_before
        return listed >= expected if expected is not None else filled <= 1

    def run(self, ctx: RunContext) -> None:
        rows: Rows = {table: [] for table in self.tables}
        complete = all([self.read(ctx, path, rows) for path in self.paths])  # read every list
        # A skipped item's stored row is its last good state: a snapshot with a hole in it
        # deletes nothing (never delete what the API still lists).
        skipped = current().skipped_items() > 0
        with ctx.transaction() as tx:
            owners = [ctx.account_uid] if complete and not skipped else None
            tx.written += self.save(ctx, tx.conn, rows, owners)
        if not complete:
            log.warning("%s: a list came back short; nothing deleted this time", self.name)
        elif skipped:
            log.info("%s: items were skipped; nothing deleted this time", self.name)
        ctx.result.details["complete"] = complete


# -- per owner -----------------------------------------------------------------------------


class Owner(Protocol):
    """Whom a per-owner resource asks about: a NamedTuple whose fields fill ``path``."""

    @property
    def uid(self) -> str: ...

    def _asdict(self) -> dict[str, Any]: ...


class Site(NamedTuple):
    """A live site (per-site resources)."""

    uid: str


class Due(NamedTuple):
    """A device whose audit moved since it was last fetched (per-device resources)."""

    uid: str
    device_class: str
    last_audit_date: datetime | None


OwnerT = TypeVar("OwnerT", bound=Owner)


class Skips(Generic[OwnerT]):
    """Owners refused for good this run (:attr:`refusals`): logged and passed over.

    This one forgets them: a site answering 404 has just been deleted, and the sites
    resource confirms that. :class:`AuditSkips` remembers them.
    """

    refusals: ClassVar[tuple[type[APIError], ...]] = (NotFoundError,)

    def __init__(self, what: str) -> None:
        self.what = what

    def add(self, owner: OwnerT, error: APIError) -> None:
        """One owner refused for good."""
        log.info("%s: %s is gone; skipped (%s)", self.what, owner.uid, error)

    def clear(self, owner: OwnerT) -> None:
        """One owner answered."""

    def save(self, ctx: RunContext, conn: Connection, resource: str) -> None:
        """Keep what must be remembered, in the batch's transaction."""


class AuditSkips(Skips[Due]):
    """Devices refused for good (404: gone, 400: wrong class), kept in the cursor with the
    audit date they were refused at and not asked again until that date moves."""

    refusals = (NotFoundError, BadRequestError)

    def __init__(self, what: str, cursor: dict[str, Any] | None) -> None:
        super().__init__(what)
        self.skipped: dict[str, str | None] = dict((cursor or {}).get("skipped") or {})

    def due(self, device: Due) -> bool:
        """False for a device refused at its current audit date."""
        return device.uid not in self.skipped or self.skipped[device.uid] != iso(
            device.last_audit_date
        )

    def add(self, owner: Due, error: APIError) -> None:
        log.info("%s of %s skipped until its audit moves: %s", self.what, owner.uid, error)
        self.skipped[owner.uid] = iso(owner.last_audit_date)

    def clear(self, owner: Due) -> None:
        self.skipped.pop(owner.uid, None)

    def save(self, ctx: RunContext, conn: Connection, resource: str) -> None:
        save_cursor(conn, ctx.account_uid, resource, {"skipped": self.skipped})


class PerOwnerResource(Shape, Generic[OwnerT]):
    """One answer per owner, asked in parallel batches of :data:`BATCH`, each batch saved
    in one transaction: progress survives a stop or a crash.

    An owner whose fetch fails for a passing reason (retries used up) is counted and the run
    fails at its end (:class:`~etl.errors.IncompleteRunError`), after the rest was saved.
    """

    path: ClassVar[str]
    items_key: ClassVar[str | None] = None  # a paged list per owner, or one document
    what: ClassVar[str] = ""  # for messages ("device audits"); the name when empty

    def owners(self, ctx: RunContext, conn: Connection) -> Sequence[OwnerT]:
        """Whom to ask (the concrete module knows: live sites, devices due)."""
        raise NotImplementedError

    def rows(self, body: Any, owner: OwnerT) -> Rows:
        raise NotImplementedError

    def fetch_each(
        self, ctx: RunContext, owners: Sequence[OwnerT], skips: Skips[OwnerT]
    ) -> tuple[int, Misses]:
        """Ask for every owner, save each batch with ``skips``; return (fetched, misses)."""
        ctx.progress.advance(self.name, 0, total=len(owners))
        misses = Misses(self.what or self.name)
        fetched = 0
        for batch in chunks(owners, BATCH):
            ctx.checkpoint()
            wanted = {self.path.format(**owner._asdict()): owner for owner in batch}
            rows: Rows = {table: [] for table in self.tables}
            done: list[str] = []
            for path, body in fetch_answers(ctx.client, list(wanted), self.items_key):
                owner = wanted[path]
                if isinstance(body, skips.refusals):
                    skips.add(owner, body)
                elif isinstance(body, APIError):
                    misses.add(owner.uid, body)
                else:
                    skips.clear(owner)
                    try:
                        mapped = self.rows(body, owner)
                    except BadItem as bad:  # its stored rows stay as they were; asked again
                        current().skip(bad.table, bad.column, bad.why, bad.key)
                        continue
                    for table, found in mapped.items():
                        rows[table] += found
                    done.append(owner.uid)
            with ctx.transaction() as tx:
                tx.written += self.save(ctx, tx.conn, rows, done)
                tx.history += self.track(ctx, tx.conn, rows)
                skips.save(ctx, tx.conn, self.name)
            ctx.result.rows_seen += sum(len(found) for found in rows.values())
            ctx.result.pages += len(done)
            fetched += len(done)
            ctx.progress.advance(self.name, len(batch))
        return fetched, misses


class PerSiteResource(PerOwnerResource[Site]):
    """One document or paged list per live site; its rows replace the site's rows.

    Every table of :attr:`tables` needs a ``site_uid`` column. A site answering 404 has just
    been deleted (the sites resource confirms that) and is skipped.
    """

    depends_on = ("sites",)
    owner_key = "site_uid"

    def run(self, ctx: RunContext) -> None:
        with ctx.engine.connect() as conn:
            sites = self.owners(ctx, conn)
        _, misses = self.fetch_each(ctx, sites, Skips(self.name))
        misses.check(len(sites))


class PerDeviceResource(PerOwnerResource[Due]):
    """Per-device answers, fetched only for devices whose ``last_audit_date`` moved.

    :meth:`owners` gives the devices whose stored entry is missing or stale; a 404 or 400
    (device gone, wrong class) is remembered in the cursor and not asked again until the
    device's audit date moves (:class:`AuditSkips`); other failures are asked again next
    run. Every table needs a ``device_uid`` column.
    """

    depends_on = ("devices",)
    owner_key = "device_uid"

    def run(self, ctx: RunContext) -> None:
        with ctx.engine.connect() as conn:
            cursor = load_cursor(conn, ctx.account_uid, self.name)
            skips = AuditSkips(self.what or self.name, cursor)
            due = [device for device in self.owners(ctx, conn) if skips.due(device)]
        fetched, misses = self.fetch_each(ctx, due, skips)
        ctx.result.details.update(
            due=len(due), fetched=fetched, skipped=len(skips.skipped), failed=misses.count
        )
        misses.check(len(due))
