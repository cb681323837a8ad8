"""Jobs: ``GET /v2/job/{uid}`` and ``/components`` → ``jobs``, ``job_components``,
``job_component_variables``, for the job uids the activity log names (:mod:`job_log`).

A job is asked once, with its components (they are fixed when the job is made); asked
again only while it is ``active``, and then only when the log brought news of it since
(a device ran it) or ``sync.job_recheck_hours`` passed: a ``completed`` job never changes.
A job Datto no longer knows (404) is stored with ``not_found`` and not asked again.

Job variables are the values a job passed to its components' input variables; a value
whose variable name says it may be a secret (password, token, key, …) is not stored
(``value`` NULL, ``value_withheld`` true): secrets never go into the database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Boolean, Column, Connection, Integer, String, Text, func, select

from etl.db.load import replace_sets, upsert
from etl.db.schema import UTCDateTime, utcnow
from etl.errors import APIError, MalformedResponseError, NotFoundError
from etl.resources.base import RunContext, register
from etl.resources.common import Misses, fetch_lists
from etl.resources.convert import Field, Spec, always_none, numbered
from etl.resources.job_log import RECHECK, FromJobLog, job_targets, scan, unseen

SECRET = re.compile(r"pass|pwd|secret|token|credential|api.?key|private.?key|auth", re.I)


def withheld(item: dict[str, Any]) -> bool:
    """True when a variable's name says its value may be a secret."""
    return bool(SECRET.search(str(item.get("name") or "")))


def shown_value(item: dict[str, Any]) -> Any:
    """A variable's value, or None when it may be a secret (:func:`withheld`)."""
    return None if withheld(item) else item.get("value")


JOB = Spec(
    Field("uid", String(64), column="job_uid", key=True),
    Field("id", BigInteger),
    Field("name", Text),
    Field("status", String(32), doc="active or completed (NULL: not found)"),
    Field("dateCreated", UTCDateTime, column="created_at", doc="dateCreated"),
    Field(
        lambda item: False, Boolean, column="not_found", doc="Datto answered 404: not asked again"
    ),
    Field(always_none, UTCDateTime, column="checked_at", doc="when the ETL last asked for it"),
)
COMPONENT = Spec(
    Field("uid", String(64), column="component_uid"),
    Field("name", Text, column="component_name"),
)
VARIABLE = Spec(
    Field("name", Text),
    Field(shown_value, Text, column="value", doc="NULL when withheld"),
    Field(withheld, Boolean, column="value_withheld", doc="the name says it may be a secret"),
)
jobs = JOB.table("jobs", "Jobs the activity log names (no endpoint lists jobs).")
job_components = COMPONENT.table(
    "job_components",
    "The components each job runs, in order.",
    Column("job_uid", String(64), primary_key=True),
    Column("position", Integer, primary_key=True, info={"doc": "place in the job's list"}),
)
job_component_variables = VARIABLE.table(
    "job_component_variables",
    "The variable values each job passed to its components (secrets withheld).",
    Column("job_uid", String(64), primary_key=True),
    Column("component_position", Integer, primary_key=True),
    Column("position", Integer, primary_key=True, info={"doc": "place in the component's list"}),
)


class DueJob(NamedTuple):
    """A job to ask for; ``new``: never stored, so its components are asked too."""

    uid: str
    new: bool


def due_jobs(conn: Connection, account_uid: str, recheck_hours: float) -> list[DueJob]:
    """Jobs named by the log and not stored, and active jobs with news or due a recheck."""
    t, j = job_targets.c, jobs.c
    named = select(t.job_uid, func.max(t.noted_at).label("noted")).where(
        t.account_uid == account_uid
    )
    news = {r.job_uid: r.noted for r in conn.execute(named.group_by(t.job_uid))}
    stored = {
        r.job_uid: r
        for r in conn.execute(
            select(j.job_uid, j.status, j.checked_at).where(j.account_uid == account_uid)
        )
    }
    stale = utcnow() - timedelta(hours=recheck_hours)
    out = [DueJob(uid, True) for uid in sorted(news) if uid not in stored]
    for uid, row in sorted(stored.items()):
        if (row.status or "").lower() != "active":
            continue
        noted = news.get(uid)
        if row.checked_at is None or row.checked_at <= stale or (noted and noted > row.checked_at):
            out.append(DueJob(uid, False))
    return out


def component_rows(uid: str, items: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """A job's components → (``job_components``, ``job_component_variables``) rows."""
    comps, variables = [], []
    for item, key in numbered(items, {"job_uid": uid}):
        comps.append({**key, **COMPONENT.row(item)})
        owner = {"job_uid": uid, "component_position": key["position"]}
        variables += [{**k, **VARIABLE.row(v)} for v, k in numbered(item.get("variables"), owner)]
    return comps, variables


@register
class Jobs(FromJobLog[DueJob]):
    """Jobs found in the activity log: each asked once, again only while active."""

    name = "jobs"
    depends_on = ("activity_logs", "sites")  # sites: a log entry's site id → its uid
    tables = (jobs, job_components, job_component_variables)
    what = "jobs"
    cost = "two per new job (the job, its components), one per active job with news"

    def due(self, conn: Connection, account_uid: str, recheck_hours: float) -> list[DueJob]:
        return due_jobs(conn, account_uid, recheck_hours)

    def requests_needed(self, conn: Connection, account_uid: str, recheck: float = RECHECK) -> int:
        """Two per job the log named that is not stored, one per active job due."""
        due = due_jobs(conn, account_uid, recheck)
        new = {job for job, _ in unseen(conn, account_uid, scan(conn, account_uid))}
        new -= {d.uid for d in due}
        return sum(2 if d.new else 1 for d in due) + 2 * len(new)

    def fetch(self, ctx: RunContext, batch: Sequence[DueJob], misses: Misses) -> None:
        """Ask for a batch of jobs (and the new ones' components); save them together."""
        wanted = {f"/v2/job/{job.uid}": job for job in batch}
        found: dict[str, dict[str, Any]] = {}
        now = utcnow()
        for path, body in ctx.client.get_many(list(wanted)):
            if ctx.stop.is_set():
                break  # nothing more is sent; what came back is saved
            job = wanted[path]
            if isinstance(body, NotFoundError):
                found[job.uid] = {**JOB.row({"uid": job.uid}), "not_found": True}
            elif isinstance(body, APIError) or not isinstance(body, dict):
                misses.add(
                    job.uid,
                    body if isinstance(body, APIError) else MalformedResponseError("not a job"),
                )
            else:
                found[job.uid] = {**JOB.row(body), "job_uid": job.uid}
            if job.uid in found:
                found[job.uid]["checked_at"] = now
        # a job Datto does not know has no components to ask for
        new = [
            job.uid
            for job in batch
            if job.new and not found.get(job.uid, {}).get("not_found", True)
        ]
        comps: list[Any] = []
        variables: list[Any] = []
        # stopped: no component is asked, and the new jobs wait for the next run
        paths = {} if ctx.stop.is_set() else {f"/v2/job/{uid}/components": uid for uid in new}
        unanswered = set(new)
        for path, items in fetch_lists(ctx.client, list(paths), "jobComponents"):
            if ctx.stop.is_set():
                break
            uid = paths[path]
            unanswered.discard(uid)
            if isinstance(items, APIError) and not isinstance(items, NotFoundError):
                misses.add(uid, items)  # asked again next run, job and all
                del found[uid]
            elif not isinstance(items, APIError):
                c, v = component_rows(uid, items)
                comps, variables = comps + c, variables + v
        for uid in unanswered:  # stopped before its components came: asked again next run
            found.pop(uid, None)
        ctx.result.pages += len(found) + len(paths)
        ctx.result.rows_seen += len(found) + len(comps)
        done = [uid for uid in new if uid in found]
        with ctx.transaction() as tx:
            # components before the job row: a stored job always has its components
            for table, rows in ((job_components, comps), (job_component_variables, variables)):
                mine = [r for r in rows if r["job_uid"] in found]
                tx.written += replace_sets(
                    tx.conn, table, "job_uid", done, ctx.stamp(mine), account_uid=ctx.account_uid
                )
            tx.written += upsert(tx.conn, jobs, ctx.stamp(found.values()))
