"""Job results: ``GET /v2/job/{job}/results/{device}`` (+ ``/stdout``, ``/stderr``) →
``job_results``, ``job_result_components``.

One request per (job, device) pair the activity log names (:mod:`job_log`) until its result
is final; then one more for stdout and one for stderr, only when a component's flag says
there is output. A final result is never asked again; a 404 means the job did not target
the device: noted in ``job_targets`` and never asked again. A pair still pending is asked
again only when there is news: a newer log entry about it, its job seen ``completed``
since, or ``sync.job_recheck_hours`` passed (expired and retired results leave no entry).

Output is stored as text, at most ``sync.job_output_max_chars`` characters per component
and stream; longer output is cut and ends with a marker saying so. Each batch of pairs is
saved in one transaction with their ``job_targets`` state: a crash loses nothing already
asked and duplicates nothing. Runs in the low-priority lane: results are bulk that may wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Boolean, Column, Connection, Integer, String, Text, and_, delete, select

from etl.api.budget import Lane
from etl.db.load import upsert
from etl.db.schema import UTCDateTime, utcnow
from etl.errors import APIError, MalformedResponseError, NotFoundError
from etl.resources.base import RunContext, register
from etl.resources.common import Misses
from etl.resources.convert import Field, Spec, always_none, numbered
from etl.resources.job_log import (
    DUE,
    FINAL,
    FINAL_STATUSES,
    NOT_TARGETED,
    RECHECK,
    FromJobLog,
    job_targets,
    scan,
    unseen,
)
from etl.resources.jobs import jobs

#: (route, API flag, flag column, text column) of each output stream
STREAMS = (
    ("stdout", "hasStdOut", "has_std_out", "std_out"),
    ("stderr", "hasStdErr", "has_std_err", "std_err"),
)

RESULT = Spec(
    Field("ranOn", UTCDateTime, doc="NULL until it ran"),
    Field("jobDeploymentStatus", String(32), doc="as Datto spells it (its case varies)"),
)
COMPONENT = Spec(
    Field("componentUid", String(64)),
    Field("componentName", Text),
    Field("componentStatus", String(32)),
    Field("numberOfWarnings", Integer),
    Field("hasStdOut", Boolean),
    Field("hasStdErr", Boolean),
    Field(always_none, Text, column="std_out", doc="text; NULL when has_std_out is false"),
    Field(always_none, Text, column="std_err", doc="text; NULL when has_std_err is false"),
)
job_results = RESULT.table(
    "job_results",
    "Each job's result on each device the activity log names it ran on.",
    Column("job_uid", String(64), primary_key=True),
    Column("device_uid", String(64), primary_key=True),
    Column("site_uid", String(64), info={"doc": "the device's site when the job ran"}),
)
job_result_components = COMPONENT.table(
    "job_result_components",
    "What each component of a job did on a device, with its output (cut past "
    "`sync.job_output_max_chars`).",
    Column("job_uid", String(64), primary_key=True),
    Column("device_uid", String(64), primary_key=True),
    Column("position", Integer, primary_key=True, info={"doc": "place in componentResults"}),
)


def is_final(status: Any) -> bool:
    """True for Success, Warning, Failure, Expired, Retired (any case)."""
    return isinstance(status, str) and status.lower() in FINAL_STATUSES


def cut(text: Any, limit: int) -> str | None:
    """Output as stored: at most ``limit`` characters, then a marker saying how much was cut."""
    if text is None:
        return None
    text = str(text)
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[datto-etl: output cut at {limit} of {len(text)} characters]"


class Pair(NamedTuple):
    """A (job, device) pair whose result is asked."""

    job_uid: str
    device_uid: str
    site_uid: str | None

    @property
    def path(self) -> str:
        """The result's path."""
        return f"/v2/job/{self.job_uid}/results/{self.device_uid}"


def due_pairs(conn: Connection, account_uid: str, recheck_hours: float) -> list[Pair]:
    """Pairs never asked, or still pending with news (log entry, job completed) or stale."""
    t, j = job_targets.c, jobs.c
    query = (
        select(
            t.job_uid,
            t.device_uid,
            t.site_uid,
            t.noted_at,
            t.checked_at,
            j.status,
            j.checked_at.label("job_checked"),
        )
        .outerjoin(jobs, and_(j.account_uid == t.account_uid, j.job_uid == t.job_uid))
        .where(t.account_uid == account_uid, t.state == DUE)
        .order_by(t.job_uid, t.device_uid)
    )
    stale = utcnow() - timedelta(hours=recheck_hours)

    def due(r: Any) -> bool:
        asked: datetime | None = r.checked_at
        if asked is None or asked <= stale:
            return True
        completed = (r.status or "").lower() == "completed"
        return bool((r.noted_at and r.noted_at > asked) or (completed and r.job_checked > asked))

    return [Pair(r.job_uid, r.device_uid, r.site_uid) for r in conn.execute(query) if due(r)]


def with_output(rows: list[dict[str, Any]], outputs: dict[str, Any], limit: int) -> None:
    """Put each stream's text on the component rows whose flag is set (in list order)."""
    for stream, _, flag, column in STREAMS:
        texts: dict[str, list[Any]] = {}
        answer = outputs.get(stream)
        for item in answer if isinstance(answer, list) else []:
            if isinstance(item, dict):
                texts.setdefault(str(item.get("componentUid")), []).append(item.get("stdData"))
        for row in rows:
            if row[flag]:
                found = texts.get(str(row["component_uid"])) or [None]
                row[column] = cut(found.pop(0), limit)


@register
class JobResults(FromJobLog[Pair]):
    """Each named (job, device) result until final, with its flagged output."""

    name = "job_results"
    # a job seen completed makes its results due; sites turn a log entry's site id into a uid
    depends_on = ("activity_logs", "sites", "jobs")
    tables = (job_results, job_result_components, job_targets)
    lane = Lane.LOW
    batch = 50  # pairs per transaction: up to 150 requests, a stop or crash loses little
    what = "job results"
    cost = (
        "one per new or unsettled (job, device) pair with news, plus one per flagged "
        "stdout/stderr once final; nothing when no job ran"
    )

    def requests_needed(self, conn: Connection, account_uid: str, recheck: float = RECHECK) -> int:
        """One per pair due (known ahead); flagged output adds one or two once final."""
        new = unseen(conn, account_uid, scan(conn, account_uid))
        return len(due_pairs(conn, account_uid, recheck)) + len(new)

    def due(self, conn: Connection, account_uid: str, recheck_hours: float) -> list[Pair]:
        return due_pairs(conn, account_uid, recheck_hours)

    def fetch(self, ctx: RunContext, batch: Sequence[Pair], misses: Misses) -> None:
        """Ask for a batch of results, then the flagged output of the final ones; save all."""
        wanted = {pair.path: pair for pair in batch}
        answers: dict[Pair, dict[str, Any]] = {}
        states: dict[Pair, str] = {}
        for path, body in ctx.client.get_many(list(wanted)):
            if ctx.stop.is_set():
                break  # nothing more is sent; what came back is saved below
            pair = wanted[path]
            if isinstance(body, NotFoundError):
                states[pair] = NOT_TARGETED
            elif isinstance(body, dict):
                answers[pair] = body
                states[pair] = FINAL if is_final(body.get("jobDeploymentStatus")) else DUE
            else:
                misses.add(
                    path,
                    body if isinstance(body, APIError) else MalformedResponseError("not a result"),
                )
        outputs = self.outputs(ctx, answers, states, misses)
        limit = ctx.settings.sync.job_output_max_chars
        results, parts = [], []
        for pair, body in answers.items():
            if pair not in states:
                continue  # its output could not be read: all asked again next run
            results.append({**pair._asdict(), **RESULT.row(body)})
            key = {"job_uid": pair.job_uid, "device_uid": pair.device_uid}
            rows = [
                {**k, **COMPONENT.row(c)} for c, k in numbered(body.get("componentResults"), key)
            ]
            with_output(rows, outputs.get(pair, {}), limit)
            parts.append((pair, rows))
        now = utcnow()
        targets = [
            {"job_uid": p.job_uid, "device_uid": p.device_uid, "state": s, "checked_at": now}
            for p, s in states.items()
        ]
        with ctx.transaction() as tx:
            tx.written += upsert(tx.conn, job_results, ctx.stamp(results))
            for pair, rows in parts:  # the list may have shrunk since a pending answer
                tx.conn.execute(
                    delete(job_result_components).where(
                        job_result_components.c.account_uid == ctx.account_uid,
                        job_result_components.c.job_uid == pair.job_uid,
                        job_result_components.c.device_uid == pair.device_uid,
                        job_result_components.c.position >= len(rows),
                    )
                )
            tx.written += upsert(
                tx.conn, job_result_components, ctx.stamp(r for _, rows in parts for r in rows)
            )
            upsert(tx.conn, job_targets, ctx.stamp(targets))
        tally = ctx.result.details
        for state in states.values():
            counted = "pending" if state == DUE else state
            tally[counted] = tally.get(counted, 0) + 1
        tally["output"] = tally.get("output", 0) + sum(len(o) for o in outputs.values())
        ctx.result.pages += len(answers)
        ctx.result.rows_seen += len(results)

    def outputs(
        self,
        ctx: RunContext,
        answers: dict[Pair, dict[str, Any]],
        states: dict[Pair, str],
        misses: Misses,
    ) -> dict[Pair, dict[str, Any]]:
        """stdout/stderr of the final answers whose components flag them; a pair whose
        output fails is dropped from ``states`` (asked again next run)."""
        wanted: dict[str, tuple[Pair, str]] = {}
        for pair, body in answers.items():
            if states.get(pair) != FINAL:
                continue
            found = [c for c in body.get("componentResults") or [] if isinstance(c, dict)]
            for stream, flag, _, _ in STREAMS:
                if any(c.get(flag) for c in found):
                    wanted[f"{pair.path}/{stream}"] = (pair, stream)
        out: dict[Pair, dict[str, Any]] = {}
        answered: set[str] = set()
        for path, text in ctx.client.get_many(list(wanted)):
            if ctx.stop.is_set():
                break  # nothing more is sent
            answered.add(path)
            pair, stream = wanted[path]
            if isinstance(text, NotFoundError):
                continue  # no output after all: the flagged rows keep NULL
            if isinstance(text, APIError):
                misses.add(path, text)
                states.pop(pair, None)
            else:
                out.setdefault(pair, {})[stream] = text
        for path, (pair, _) in wanted.items():
            if path not in answered:  # stopped before its output came: asked again next run
                states.pop(pair, None)
        ctx.result.pages += len(out)
        return out
