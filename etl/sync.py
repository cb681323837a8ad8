"""Run resources in dependency order and report what each did.

:func:`run_sync` upgrades the database, opens one API session, learns the account uid, then
runs each resource in its own transaction, recording a ``sync_runs`` row for each. One
resource failing does not stop the others; credentials errors and IP blocks stop them all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from graphlib import TopologicalSorter
from typing import Any

from sqlalchemy import Engine

from etl.api.budget import Lane
from etl.api.client import DattoClient
from etl.api.session import DattoSession
from etl.config import Settings
from etl.db.engine import make_engine
from etl.db.migrate import upgrade
from etl.db.schema import utcnow
from etl.db.state import (
    ABANDONED,
    RunStatus,
    close_running,
    finish_run,
    forget_cursor,
    remember_account_name,
    start_run,
)
from etl.errors import (
    ConfigError,
    CredentialsError,
    DattoETLError,
    IPBlockedError,
    RunLockLostError,
    StopRequested,
    StorageError,
)
from etl.lock import with_account_lock
from etl.log import redact
from etl.resources import REGISTRY, Resource
from etl.resources.account import fetch_account
from etl.resources.base import NoProgress, Progress, ResourceResult, RunContext
from etl.resources.issues import collecting

log = logging.getLogger(__name__)
# credentials, an IP block, a full or read-only disk, a lost run lock: the next resource fails too
ABORTS_ALL = (CredentialsError, IPBlockedError, StorageError, RunLockLostError)


@dataclass
class ResourceReport:
    """One resource's run: outcome, rows, requests and time."""

    resource: str
    status: RunStatus
    rows_written: int = 0
    rows_seen: int = 0
    requests: int = 0
    pages: int = 0
    seconds: float = 0.0
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class SyncReport:
    """A whole sync: one :class:`ResourceReport` per resource, in run order."""

    account_uid: str
    resources: list[ResourceReport] = field(default_factory=list)
    account: str = "default"  # its name in the config
    seconds: float = 0.0
    requests: int = 0

    @property
    def ok(self) -> bool:
        """True when every resource ended ``ok``."""
        return all(r.status == RunStatus.OK for r in self.resources)

    @property
    def stopped(self) -> bool:
        """True when a signal stopped the run."""
        return any(r.status == RunStatus.STOPPED for r in self.resources)


def dependencies(names: list[str]) -> dict[str, list[str]]:
    """What each of ``names`` depends on, among ``names`` only."""
    return {n: [d for d in REGISTRY[n].depends_on if d in names] for n in names}


def resolve_order(names: list[str] | None) -> list[str]:
    """Requested resources (all when empty) in dependency order; unknown names → ConfigError.

    A cycle among ``depends_on`` is a bug in the resource classes, not in the settings: it
    raises :class:`graphlib.CycleError` as is.
    """
    wanted = list(names or REGISTRY)
    unknown = [n for n in wanted if n not in REGISTRY]
    if unknown:
        raise ConfigError(
            [f"resource {n!r}: unknown; choose from {', '.join(sorted(REGISTRY))}" for n in unknown]
        )
    return list(TopologicalSorter(dependencies(wanted)).static_order())


def fetch_account_uid(client: DattoClient) -> str:
    """The uid of the account the credentials belong to (``GET /v2/account``)."""
    return str(fetch_account(client)["uid"])


def _run(
    resource: Resource, ctx: RunContext, name: str
) -> tuple[RunStatus, str | None, BaseException | None]:
    """Run ``resource``: (status, one-line error, the exception that ended it)."""
    try:
        resource.run(ctx)
    except (StopRequested, KeyboardInterrupt) as exc:  # interrupted: recorded, then raised
        return RunStatus.STOPPED, "stopped by signal", exc
    except DattoETLError as exc:
        return RunStatus.FAILED, str(exc).splitlines()[0], exc
    except Exception as exc:  # a bug must not lose the other resources' runs
        # One line for the operator; the traceback (a bug to report) at DEBUG only.
        log.error("resource %s crashed: %s: %s", name, type(exc).__name__, exc)
        log.debug("traceback of the crash of %s", name, exc_info=True)
        return RunStatus.FAILED, f"{type(exc).__name__}: {exc}".splitlines()[0], exc
    return RunStatus.OK, None, None


def run_resource(
    ctx: RunContext, name: str, session: DattoSession, lane: Lane = Lane.NORMAL
) -> tuple[ResourceReport, BaseException | None]:
    """Run one resource with its own client view (request counter, ``lane``), result and
    sync_runs row.

    The resource fills the result it is handed (``RunContext.result``) as it goes, so a run
    that fails or is stopped reports exactly what it committed until then.
    """
    resource = REGISTRY[name]
    client = DattoClient(session, lane)
    client.counter.name = name  # budget waits and retries are told to progress by name
    result = ResourceResult()
    # this run's own clock, request counter and result
    rctx = replace(ctx, client=client, started_at=ctx.clock(), result=result)
    run_id = start_run(ctx.engine, ctx.account_uid, name)
    started = time.monotonic()
    ctx.progress.start(name)
    ctx.progress.track(name, result)
    # items skipped and times unreadable in this run: counted into details, warned once
    with collecting() as issues:
        try:
            status, error, failure = _run(resource, rctx, name)
        finally:
            ctx.progress.finish(name)
            for line in session.faults.drain():  # one line per endpoint family, with its count
                log.warning("%s: %s", name, line)
    result.details.update(issues.details())
    issues.warn(name)
    if status == RunStatus.OK:
        # after the run, never before it: once per sync (the daemon: once an hour), on a
        # view of its own, so the resource's own request count stays its own
        ctx.platform.refresh(DattoClient(session, Lane.HIGH))
    result.details.update(ctx.platform.details())
    error = redact(error) if error else None  # it goes to sync_runs and the log
    report = ResourceReport(
        resource=name,
        status=status,
        rows_written=result.rows_written,
        rows_seen=result.rows_seen,
        requests=client.counter.count,
        pages=result.pages,
        seconds=time.monotonic() - started,
        error=error,
        details=result.details,
    )
    finish_run(
        ctx.engine,
        run_id,
        status=status,
        rows_written=report.rows_written,
        rows_seen=report.rows_seen,
        requests_made=report.requests,
        pages_read=report.pages,
        error=error,
        details=result.details or None,
    )
    if isinstance(failure, KeyboardInterrupt):
        raise failure
    log.info(
        "%s %s",
        name,
        status,
        extra={
            "fields": {
                "resource": name,
                "status": status,
                "rows_written": report.rows_written,
                "rows_seen": report.rows_seen,
                "requests": report.requests,
                "seconds": round(report.seconds, 2),
                **({"error": error} if error else {}),
            }
        },
    )
    return report, failure


@with_account_lock  # one run per account at a time, across processes
def run_sync(
    settings: Settings,
    names: list[str] | None = None,
    *,
    engine: Engine | None = None,
    session: DattoSession | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = utcnow,
    account_name: str = "default",
    full_refresh: Sequence[str] = (),
) -> SyncReport:
    """Sync ``names`` (all resources when empty) and return the report.

    ``account_name`` is the account's name in the config (``[[accounts]]``), recorded with
    the account uid Datto answers so that ``status`` can show it. ``full_refresh`` names
    resources whose cursor is forgotten first (their rows stay): they read everything
    again, as on a first run.

    ``session`` is the API session to use (one is opened, with ``stop``, when None); its
    stop event stops the run. ``clock`` is the wall clock each resource run is dated by
    (tests hand in the simulator's, to move days). Raises only for what stops everything:
    bad config, database trouble, credentials, an IP block. Per-resource failures are in the
    report (``report.ok`` is False).
    """
    if session is not None and stop is not None and stop is not session.stop:
        raise ValueError("run_sync: give the stop event to the session")
    order = resolve_order(names or settings.sync.resources or None)
    settings.require_credentials()
    own_engine = engine is None
    engine = engine or make_engine(settings.database.url)
    own_session = session is None
    session = session or DattoSession(settings.datto, settings.budget, stop=stop)
    started = time.monotonic()
    try:
        upgrade(engine)
        first = DattoClient(session)
        account = fetch_account(first)  # the account resource stores this very answer
        account_uid = str(account["uid"])
        # We hold the account's run lock: a row still 'running' belongs to a dead process.
        close_running(engine, account_uid, RunStatus.FAILED, ABANDONED)
        with engine.begin() as conn:
            for name in resolve_order(list(full_refresh)) if full_refresh else ():
                if forget_cursor(conn, account_uid, name):
                    log.info("%s: cursor forgotten; reading everything again", name)
        remember_account_name(engine, account_uid, account_name, session.settings.origin)
        report = SyncReport(
            account_uid=account_uid, requests=first.counter.count, account=account_name
        )
        ctx = RunContext(
            client=first,  # each resource gets its own view (run_resource)
            engine=engine,
            account_uid=account_uid,
            settings=settings,
            stop=session.stop,
            progress=progress or NoProgress(),
            account=account,
            clock=clock,
        )
        asked = ctx.platform.requests
        for name in order:
            if ctx.stop.is_set():
                break
            line, failure = run_resource(ctx, name, session)
            report.resources.append(line)
            report.requests += line.requests
            if isinstance(failure, ABORTS_ALL):
                raise failure
        report.seconds = time.monotonic() - started
        report.requests += ctx.platform.requests - asked  # the platform status, if asked
        return report
    finally:
        if own_session:
            session.close()
        if own_engine:
            engine.dispose()
