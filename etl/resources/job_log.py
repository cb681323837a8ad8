"""Which (job, device) pairs the activity log names: ``job_targets``, the jobs' to-do list.

No endpoint lists jobs (API_FACTS.md, Jobs): their uids are found in activity entries with
entity ``DEVICE`` and category ``job`` (actions ``create``, ``deployment``), whose
``details`` carry ``job.uid`` and ``device.uid``. :func:`discover` reads the entries the
activity-logs resource stored since the last look (no request at all) and keeps one
``job_targets`` row per pair: the newest entry naming it, when the ETL noted that news
(``noted_at``), when its result was last asked (``checked_at``) and its ``state``:

* ``due``: its result may still change; asked again when news arrived since it was last
  asked, when its job was seen ``completed`` since, or after ``sync.job_recheck_hours``;
* ``final``: Success, Warning, Failure, Expired or Retired: never asked again;
* ``not_targeted``: Datto answered 404 (the job did not run there): never asked again.

Both job resources call :func:`discover` first, each in its own transaction with the shared
cursor (``sync_state`` resource ``job_targets``); running it twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Column, Connection, String, func, select

from etl.api.timestamps import to_utc
from etl.config import SyncSettings
from etl.db.load import chunks, upsert
from etl.db.schema import UTCDateTime, account_table, utcnow
from etl.db.state import iso, load_cursor, save_cursor
from etl.resources.activity_logs import activity_logs
from etl.resources.base import Resource, RunContext
from etl.resources.common import BATCH, Misses
from etl.resources.convert import pick
from etl.resources.devices import devices
from etl.resources.sites import sites

T = TypeVar("T")
#: ``sync.job_recheck_hours`` by default (for callers without settings: the cost planner)
RECHECK: float = SyncSettings.model_fields["job_recheck_hours"].default
CURSOR = "job_targets"  # the sync_state entry both job resources advance
DUE, FINAL, NOT_TARGETED = "due", "final", "not_targeted"
#: jobDeploymentStatus values after which a result never changes (any case).
FINAL_STATUSES = frozenset({"success", "warning", "failure", "expired", "retired"})

job_targets = account_table(
    "job_targets",
    Column("job_uid", String(64), primary_key=True),
    Column("device_uid", String(64), primary_key=True),
    Column("site_uid", String(64), info={"doc": "the device's site in the log entry"}),
    Column("entry_id", String(64), info={"doc": "the newest activity entry naming the pair"}),
    Column("noted_at", UTCDateTime(), info={"doc": "when the ETL stored that entry's news"}),
    Column("checked_at", UTCDateTime(), info={"doc": "when its result was last asked"}),
    Column(
        "state",
        String(16),
        nullable=False,
        info={"doc": "due (may change), final, or not_targeted (404: never asked again)"},
    ),
    doc="The (job, device) pairs the activity log names, and whether their result is final "
    "(bookkeeping of the job resources).",
)


def uid_in(details: Any, what: str) -> str | None:
    """``job.uid`` / ``device.uid`` of an entry's details, dotted (as seen) or nested."""
    value = details.get(f"{what}.uid") if isinstance(details, dict) else None
    value = value or pick(details, what, "uid")
    return str(value) if value not in (None, "") else None


@dataclass
class Scan:
    """What the log says since the cursor: per pair, its newest entry and site."""

    pairs: dict[tuple[str, str], tuple[str, str | None]] = field(default_factory=dict)
    newest: datetime | None = None


def scan(conn: Connection, account_uid: str) -> Scan:
    """The job entries stored since the cursor (read only; no request)."""
    saved = load_cursor(conn, account_uid, CURSOR) or {}
    since = to_utc(saved.get("date"))
    t = activity_logs.c
    query = (
        select(t.id, t.date, t.site_id, t.details)
        .where(
            t.account_uid == account_uid,
            func.upper(t.entity) == "DEVICE",
            func.lower(t.category) == "job",
        )
        .order_by(t.date, t.id)
    )
    if since is not None:  # the boundary second again: its entries change nothing twice
        query = query.where(t.date >= since)
    found = Scan(newest=since)
    site_ids: dict[tuple[str, str], Any] = {}
    for row in conn.execute(query):
        job, device = uid_in(row.details, "job"), uid_in(row.details, "device")
        if row.date is not None and (found.newest is None or row.date > found.newest):
            found.newest = row.date
        if job and device:
            found.pairs[(job, device)] = (str(row.id), None)
            site_ids[(job, device)] = row.site_id
    sites_by_id = _site_uids(conn, account_uid, site_ids.values())
    moved = _device_sites(conn, account_uid, {d for _, d in found.pairs})
    for pair, (entry, _) in found.pairs.items():
        found.pairs[pair] = (entry, sites_by_id.get(site_ids[pair]) or moved.get(pair[1]))
    return found


def _site_uids(conn: Connection, account_uid: str, ids: Iterable[Any]) -> dict[Any, str]:
    wanted = sorted({i for i in ids if i is not None})
    out: dict[Any, str] = {}
    for part in chunks(wanted, 1000):
        query = select(sites.c.id, sites.c.uid).where(
            sites.c.account_uid == account_uid, sites.c.id.in_(part)
        )
        out.update({row.id: row.uid for row in conn.execute(query)})
    return out


def _device_sites(conn: Connection, account_uid: str, uids: set[str]) -> dict[str, str]:
    """The stored site of devices whose entry named no site we know."""
    out: dict[str, str] = {}
    for part in chunks(sorted(uids), 1000):
        query = select(devices.c.uid, devices.c.site_uid).where(
            devices.c.account_uid == account_uid, devices.c.uid.in_(part)
        )
        out.update({row.uid: row.site_uid for row in conn.execute(query) if row.site_uid})
    return out


def stored_targets(
    conn: Connection, account_uid: str, jobs: Iterable[str]
) -> dict[tuple[str, str], Any]:
    """The stored ``job_targets`` rows of ``jobs``, by pair."""
    out: dict[tuple[str, str], Any] = {}
    for part in chunks(sorted(set(jobs)), 1000):
        query = select(job_targets).where(
            job_targets.c.account_uid == account_uid, job_targets.c.job_uid.in_(part)
        )
        out.update({(r.job_uid, r.device_uid): r for r in conn.execute(query)})
    return out


def unseen(conn: Connection, account_uid: str, found: Scan) -> set[tuple[str, str]]:
    """Pairs of ``found`` not stored yet."""
    stored = stored_targets(conn, account_uid, {job for job, _ in found.pairs})
    return set(found.pairs) - set(stored)


def discover(ctx: RunContext, conn: Connection) -> int:
    """Note the pairs the log named since the last look, in the caller's transaction.

    A new pair is ``due``; a known pair named by a newer entry gets ``noted_at`` = now (its
    result or job may have moved). Returns how many pairs were new.
    """
    found = scan(conn, ctx.account_uid)
    stored = stored_targets(conn, ctx.account_uid, {job for job, _ in found.pairs})
    now = utcnow()
    new, news = [], []
    for (job, device), (entry, site) in found.pairs.items():
        old = stored.get((job, device))
        row = {"job_uid": job, "device_uid": device, "entry_id": entry, "noted_at": now}
        if old is None:
            new.append({**row, "site_uid": site, "checked_at": None, "state": DUE})
        elif old.entry_id != entry:
            news.append({**row, "site_uid": old.site_uid or site, "state": old.state})
    upsert(conn, job_targets, ctx.stamp(new))
    upsert(conn, job_targets, ctx.stamp(news))
    if found.newest is not None:
        save_cursor(conn, ctx.account_uid, CURSOR, {"date": iso(found.newest)})
    return len(new)


class FromJobLog(Resource, Generic[T]):
    """A job resource: :func:`discover` first, then what :meth:`due` lists, in batches of
    :attr:`batch`, each fetched and saved in its own transaction by :meth:`fetch`.

    Failures for a passing reason are counted and fail the run at its end, after the rest
    was saved; a stop is honoured between batches, and after the last one.
    """

    batch: ClassVar[int] = BATCH
    what: ClassVar[str]

    def due(self, conn: Connection, account_uid: str, recheck_hours: float) -> list[T]:
        """What to ask for this run."""
        raise NotImplementedError

    def fetch(self, ctx: RunContext, batch: Sequence[T], misses: Misses) -> None:
        """Ask for one batch and save it (the run's details count what it did)."""
        raise NotImplementedError

    def run(self, ctx: RunContext) -> None:
        details = ctx.result.details
        with ctx.transaction() as tx:
            details["pairs_found"] = discover(ctx, tx.conn)
        with ctx.engine.connect() as conn:
            due = self.due(conn, ctx.account_uid, ctx.settings.sync.job_recheck_hours)
        details["due"] = len(due)
        ctx.progress.advance(self.name, 0, total=len(due))
        misses = Misses(self.what)
        for batch in chunks(due, self.batch):
            ctx.checkpoint()
            self.fetch(ctx, batch, misses)
            ctx.progress.advance(self.name, len(batch))
        details["failed"] = misses.count
        ctx.checkpoint()  # stopped during the last batch: what was read is saved; say so
        misses.check(len(due))
