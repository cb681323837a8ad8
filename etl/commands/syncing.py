"""``datto-etl sync``'s machinery: one account with the live display, several at once, JSON.

The command itself is in :mod:`etl.cli`; this module keeps it short.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from etl.config import Settings

if TYPE_CHECKING:
    from etl.accounts import Account
    from etl.sync import SyncReport

STOP_GRACE = 1.0  # seconds a sync has after Ctrl-C to stop by itself before it is interrupted


def report_json(report: SyncReport) -> dict[str, object]:
    """The sync report as plain data (``sync --json``)."""
    import dataclasses

    return {"ok": report.ok, "stopped": report.stopped, **dataclasses.asdict(report)}


def sync_many(
    settings: Settings,
    chosen: list[Account],
    names: list[str] | None,
    engine: Engine,
    full_refresh: list[str] | None = None,
) -> int:
    """Sync several accounts at once (no progress bars); a report or an error line each.

    Returns the exit code covering them all (:func:`etl.accounts.combined_exit_code`).
    """
    from etl.accounts import combined_exit_code, describe_error, sync_accounts
    from etl.cli import err, out, print_report, table_counts
    from etl.db.engine import make_engine
    from etl.stop import stop_on_signals

    def sync_one(account: Account) -> SyncReport:
        # an engine per account: on PostgreSQL its commits answer to that account's lock
        own = make_engine(settings.database.url)
        try:
            return sync_with_progress(
                account.settings,
                names,
                own,
                False,
                stop=stop,
                account_name=account.name,
                full_refresh=full_refresh,
            )
        finally:
            own.dispose()

    stop = threading.Event()
    with stop_on_signals(stop):
        outcomes = sync_accounts(
            chosen, sync_one, parallel=settings.schedule.parallel_accounts, stop=stop
        )
    for outcome in outcomes:
        if outcome.report is not None:
            print_report(outcome.report, title=f"sync of {outcome.account}")
    for account, outcome in zip(chosen, outcomes, strict=True):
        problem = describe_error(account, outcome.error) if outcome.error else None
        if outcome.report is None and problem is None:
            problem = "not started: stopped by signal"
        if problem:
            err.print(f"account {outcome.account}: error: {problem}", markup=False)
        elif outcome.exit_code:
            err.print(f"account {outcome.account}: a resource failed", markup=False)
    out.print("rows per table: " + ", ".join(f"{k}={v}" for k, v in table_counts(engine).items()))
    return combined_exit_code(outcomes)


def sync_with_progress(
    settings: Settings,
    names: list[str] | None,
    engine: Engine,
    show: bool | None,
    *,
    stop: threading.Event | None = None,
    account_name: str = "default",
    full_refresh: list[str] | None = None,
) -> SyncReport:
    """``run_sync`` with progress shown against the session's budget; SIGINT/SIGTERM stop it.

    The first signal sets the session's stop event (budget waits and backoff end at once, the
    run in hand is recorded ``stopped``); a second one interrupts.
    """
    from etl.api.session import DattoSession
    from etl.lock import account_lock
    from etl.progress import make_progress
    from etl.stop import stop_on_signals
    from etl.sync import run_sync

    settings.require_credentials()  # before any waiting for the lock
    stop = stop or threading.Event()
    # The lock before the session (run_sync passes through it): the budget then starts from
    # the window, and any IP block, that the previous run left behind.
    with (
        account_lock(settings, engine=engine),
        DattoSession(settings.datto, settings.budget, stop=stop) as session,
        stop_on_signals(stop, grace=STOP_GRACE),
    ):
        collector = make_progress(show, budget=session.budget)
        session.watch(collector)  # budget waits and retries show on the resource's line
        shown = collector if isinstance(collector, contextlib.AbstractContextManager) else None
        with shown or contextlib.nullcontext():
            return run_sync(
                settings,
                names,
                engine=engine,
                session=session,
                progress=collector,
                account_name=account_name,
                full_refresh=full_refresh or (),
            )
