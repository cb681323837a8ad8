"""The daemon: ``datto-etl run`` keeps every resource fresh on its own cadence.

One APScheduler 3 job per resource of :data:`etl.resources.REGISTRY` (in-memory job store, so
nothing is pickled), each running :func:`etl.sync.run_resource` exactly as ``datto-etl sync``
does, all through ONE :class:`~etl.api.session.DattoSession`: every job spends the one rate
budget, in a priority lane that follows its cost (open alerts high, audits and software low).

- Cadences and lanes: :mod:`etl.cadence` (``[schedule]`` of the config, defaults by cost).
- No overlap: ``max_instances=1`` with coalescing; a fire skipped because the previous run was
  still going becomes one run right after it; a missed fire (machine asleep) runs once.
- Dependencies: resources related by ``depends_on`` never run at the same time, and a
  dependency waiting to run goes before its dependents (:class:`DependencyGate`).
- Signals: SIGTERM/SIGINT set the stop event (:mod:`etl.stop`) that ``RunContext.checkpoint()``
  checks between pages and that also ends the session's sleeps (budget waits, backoff), so
  the page in hand commits or rolls back whole, the run is recorded ``stopped``, and the
  process exits 0.
- Start: the schema is upgraded; ``running`` rows of a killed process are closed as failed
  (abandoned); a resource whose last run was ok waits until it is due again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta

from apscheduler.events import (
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from etl.api.budget import Lane
from etl.api.client import DattoClient
from etl.api.session import DattoSession
from etl.cadence import lane, schedule
from etl.config import Settings
from etl.db.engine import make_engine
from etl.db.migrate import upgrade
from etl.db.schema import utcnow
from etl.db.state import ABANDONED, close_running, remember_account_name
from etl.errors import CredentialsError, RunLockLostError, StopRequested
from etl.lock import account_lock
from etl.resources.base import RunContext
from etl.status import latest_runs
from etl.stop import stop_on_signals
from etl.sync import dependencies, fetch_account_uid, resolve_order, run_resource

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 8.0  # after a signal, how long running jobs get to reach a checkpoint


class DependencyGate:
    """Keeps related resources apart: a run waits while itself, a dependency or a dependent
    runs, and while one of its dependencies is queued (so sites go before devices).

    A run counts as queued from its submission (:meth:`expect`, called in the scheduler
    thread in fire-time order) until it starts, so a dependent submitted a moment later
    cannot slip in before its dependency's worker thread gets going.
    """

    def __init__(self, depends_on: Mapping[str, tuple[str, ...] | list[str]]) -> None:
        self.deps = {name: set(deps) for name, deps in depends_on.items()}
        self.related = {name: {name, *deps} for name, deps in self.deps.items()}
        for name, deps in self.deps.items():
            for dep in deps:
                self.related.setdefault(dep, {dep}).add(name)
        self._cond = threading.Condition()
        self._running: set[str] = set()
        self._expected: Counter[str] = Counter()  # submitted, thread not in hold() yet
        self._waiting: Counter[str] = Counter()  # in hold(), waiting for its turn

    def _queued(self, name: str) -> bool:
        return self._expected[name] > 0 or self._waiting[name] > 0

    def _blocked(self, name: str) -> bool:
        return bool(self.related.get(name, {name}) & self._running) or any(
            self._queued(dep) for dep in self.deps.get(name, ())
        )

    def expect(self, name: str) -> None:
        """A run of ``name`` was submitted and will call :meth:`hold` soon."""
        with self._cond:
            self._expected[name] += 1

    @contextlib.contextmanager
    def hold(self, name: str, stop: threading.Event) -> Iterator[bool]:
        """Wait for the turn of ``name``; yields False (without running) if ``stop`` is set."""
        with self._cond:
            self._expected[name] -= 1  # may dip below 0 until expect() catches up: harmless
            self._waiting[name] += 1
            try:
                while self._blocked(name) and not stop.is_set():
                    self._cond.wait(0.2)  # polled: a signal handler cannot notify safely
            finally:
                self._waiting[name] -= 1
                self._cond.notify_all()
            go = not stop.is_set()
            if go:
                self._running.add(name)
        try:
            yield go
        finally:
            if go:
                with self._cond:
                    self._running.discard(name)
                    self._cond.notify_all()

    def wait_idle(self, timeout: float, hurry: threading.Event) -> bool:
        """Wait until nothing runs or is queued; False after ``timeout`` or once ``hurry``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._running or any(self._queued(n) for n in self.related):
                if time.monotonic() > deadline or hurry.is_set():
                    return False
                self._cond.wait(0.1)
        return True


class AccountSlots:
    """At most ``size`` accounts run resources at once (``schedule.parallel_accounts``);
    an account already running takes more runs without waiting."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._cond = threading.Condition()
        self._active: Counter[str] = Counter()

    @contextlib.contextmanager
    def hold(self, account: str, stop: threading.Event) -> Iterator[bool]:
        """Wait for a slot for ``account``; yields False (without a slot) once ``stop`` is set."""
        with self._cond:
            while (
                account not in self._active and len(self._active) >= self.size and not stop.is_set()
            ):
                self._cond.wait(0.2)  # polled, as in DependencyGate.hold
            go = not stop.is_set()
            if go:
                self._active[account] += 1
        try:
            yield go
        finally:
            if go:
                with self._cond:
                    self._active[account] -= 1
                    if self._active[account] <= 0:
                        del self._active[account]
                    self._cond.notify_all()


class Daemon:
    """The scheduler of one account; :meth:`run` blocks until ``stop`` is set."""

    def __init__(
        self,
        settings: Settings,
        names: list[str] | None = None,
        *,
        engine: Engine | None = None,
        stop: threading.Event | None = None,
        hard_exit: bool = False,
        account_name: str = "default",
        lock_wait: float | None = None,
        slots: AccountSlots | None = None,
    ) -> None:
        self.account_name = account_name
        self.lock_wait = lock_wait  # None: sync.lock_wait_seconds
        self.slots = slots or AccountSlots(1)
        self.order = resolve_order(names or settings.sync.resources or None)
        self.cadences = schedule(settings, self.order)
        settings.require_credentials()
        self.settings = settings
        self.stop = stop or threading.Event()
        self.hurry = threading.Event()
        self.hard_exit = hard_exit
        self.engine = engine or make_engine(settings.database.url)
        self.gate = DependencyGate(dependencies(self.order))
        self.owed: set[str] = set()
        self.fatal: BaseException | None = None
        self.scheduler: BackgroundScheduler | None = None

    def run(self, on_locked: Callable[[], None] | None = None) -> None:
        """Serve until stopped; raises only what stops everything (credentials, database).

        ``on_locked`` is called once the account's run lock is ours.
        """
        upgrade(self.engine)
        # the daemon's stop event is the session's: a signal ends its budget waits and backoff
        session = DattoSession(self.settings.datto, self.settings.budget, stop=self.stop)
        try:
            # held for the daemon's whole lifetime; taken before any call, so a daemon that
            # finds the account taken (another host runs it) spends none of its budget
            with account_lock(self.settings, engine=self.engine, wait=self.lock_wait):
                if on_locked is not None:
                    on_locked()
                account_uid = fetch_account_uid(DattoClient(session, Lane.HIGH))
                remember_account_name(
                    self.engine, account_uid, self.account_name, self.settings.datto.origin
                )
                abandoned = close_running(self.engine, account_uid, "failed", ABANDONED)
                if abandoned:
                    log.warning("closed %d run(s) left 'running' by a dead process", abandoned)
                self._serve(session, account_uid)
        except StopRequested:
            pass  # a signal during start-up (e.g. while retrying /v2/account): a clean stop
        finally:
            session.close()
        if self.fatal is not None:
            raise self.fatal

    def _serve(self, session: DattoSession, account_uid: str) -> None:
        ctx = RunContext(
            client=DattoClient(session),  # each run gets its own view (run_resource)
            engine=self.engine,
            account_uid=account_uid,
            settings=self.settings,
            stop=self.stop,
        )
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(2 * len(self.order) + 1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.add_listener(self._executed, EVENT_JOB_EXECUTED)
        self.scheduler.add_listener(lambda e: self.gate.expect(e.job_id), EVENT_JOB_SUBMITTED)
        now = utcnow()
        with self.engine.connect() as conn:
            for position, name in enumerate(self.order):
                cadence, priority = self.cadences[name], Lane(lane(name))
                latest, _ = latest_runs(conn, account_uid, name)
                due = now  # never run, or the last run did not end ok: run at once
                if latest is not None and latest.status == "ok":
                    due = max(now, cadence.next_after(latest.started_at))
                # runs due together are submitted in dependency order (1 ms apart)
                due += timedelta(milliseconds=position)
                self.scheduler.add_job(
                    self._job,
                    cadence.trigger(due),
                    args=(ctx, name, session, priority),
                    id=name,
                    name=name,
                    next_run_time=due,  # explicit: a start a moment ago must not skip a turn
                )
                log.info(
                    "scheduled %s %s",
                    name,
                    cadence.text,
                    extra={"fields": {"resource": name, "cadence": cadence.text, "lane": priority}},
                )
        self.scheduler.start()
        log.info("scheduler running for account %s (%d jobs)", account_uid, len(self.order))
        try:
            while not self.stop.wait(0.5):
                pass
        finally:
            self.scheduler.shutdown(wait=False)
            self._drain(account_uid)

    def _job(self, ctx: RunContext, name: str, session: DattoSession, priority: Lane) -> None:
        try:
            # hold() also settles the gate's count of this submission when stopping
            with (
                self.gate.hold(name, self.stop) as go,
                self.slots.hold(self.account_name, self.stop) as turn,
            ):
                if not (go and turn):
                    return
                _, failure = run_resource(ctx, name, session, priority)
        except Exception as exc:  # the database went away: say so; the next run tries again
            first = f"{type(exc).__name__}: {exc}".splitlines()[0]
            log.error("%s: run could not be recorded: %s", name, first)
            return
        # no later run can succeed (or may run: another host has the lock): stop the daemon
        if isinstance(failure, CredentialsError | RunLockLostError):
            self.fatal = failure
            self.stop.set()

    def _skipped(self, event: JobEvent) -> None:
        self.owed.add(event.job_id)  # the run in progress made this fire skip: owe one run

    def _executed(self, event: JobEvent) -> None:
        # Dispatched after APScheduler counted the run finished, so the job can fire again.
        if event.job_id in self.owed and self.scheduler and not self.stop.is_set():
            self.owed.discard(event.job_id)
            with contextlib.suppress(JobLookupError):  # shut down meanwhile
                self.scheduler.modify_job(event.job_id, next_run_time=datetime.now(UTC))

    def _drain(self, account_uid: str) -> None:
        """Let running jobs reach a checkpoint; give up after :data:`STOP_GRACE_SECONDS`."""
        if self.gate.wait_idle(STOP_GRACE_SECONDS, self.hurry):
            log.info("stopped")
            return
        # A request stuck in the network: its transaction dies with the process (nothing
        # half-written); record the run as stopped and leave without joining its thread.
        closed = close_running(
            self.engine, account_uid, "stopped", "stopped: no checkpoint reached after the signal"
        )
        log.warning("stopped without waiting for %d run(s) still in a request", closed)
        if self.fatal is not None:
            log.error("%s", str(self.fatal).splitlines()[0])
        if self.hard_exit:
            logging.shutdown()
            os._exit(1 if self.fatal else 0)


def run_daemon(
    settings: Settings, names: list[str] | None = None, account: str | None = None
) -> None:
    """``datto-etl run``: schedule every resource of every account (or of ``account``) until
    SIGTERM/SIGINT; exit 0 on a signal (:class:`etl.fleet.Fleet`)."""
    from etl.fleet import Fleet

    fleet = Fleet(settings, names, account=account, hard_exit=True)
    with stop_on_signals(fleet.stop, fleet.hurry):
        fleet.run()
