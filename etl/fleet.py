"""``datto-etl run`` for every account, and several daemons sharing the accounts.

A :class:`Fleet` runs one :class:`~etl.scheduler.Daemon` per account it holds, each in its own
thread with its own engine, session, budget, run lock and schedule; at most
``schedule.parallel_accounts`` accounts run resources at once (:class:`AccountSlots`).

Scale-out needs nothing but the database. An account is run by whoever holds its run lock
(on PostgreSQL an advisory lock, which the server drops with its session when a daemon
dies). Every ``schedule.takeover_seconds`` each daemon tries, without waiting, the lock of
each account nobody runs, so a dead daemon's accounts move to a live one within that bound.
To split the accounts rather than let the first daemon take them all, each daemon holds a
member lock too (:class:`Members`): it takes accounts while it holds fewer than its fair
share (accounts ÷ live daemons, rounded up) and hands back one surplus account per round
when a daemon joins. On SQLite (one host) the file locks do the same without members.

One account failing stops only its own daemon thread: refused credentials are tried again
after a backoff (up to an hour), a lost lock at the next round. With a single account and no
``[[accounts]]``, a fatal error still ends the process with its exit code, as before.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from etl.accounts import Account, describe_error, select_accounts
from etl.config import Settings
from etl.db.engine import make_engine
from etl.db.migrate import upgrade
from etl.errors import DattoETLError, RunLockedError
from etl.scheduler import STOP_GRACE_SECONDS, AccountSlots, Daemon

log = logging.getLogger(__name__)
MEMBER_CLASS = 0x45544C  # the first advisory lock key of daemon memberships ("ETL")
MAX_MEMBERS = 256
SETTLE_SECONDS = 2.0  # a new daemon counts the others this long after joining, then takes
RETRY_CAP_SECONDS = 3600.0  # an account with refused credentials is tried again at most hourly


class Members:
    """This daemon's membership among the daemons of one PostgreSQL database.

    A session advisory lock ``(MEMBER_CLASS, n)`` for the first free ``n``; the live daemons
    are the granted locks of that class. On SQLite there is one member: this process.
    """

    def __init__(self, url: str) -> None:
        self.conn: Connection | None = None
        if url.startswith(("postgres://", "postgresql")):
            self.engine = make_engine(url)
            self.conn = self.engine.connect()
            for n in range(MAX_MEMBERS):
                if self.conn.execute(
                    text("SELECT pg_try_advisory_lock(:a, :b)"), {"a": MEMBER_CLASS, "b": n}
                ).scalar():
                    break
            self.conn.commit()

    def count(self) -> int:
        """Live daemons on this database (1 when it cannot be told)."""
        if self.conn is None:
            return 1
        try:
            live = self.conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid::bigint = :a AND objsubid = 2"
                ),
                {"a": MEMBER_CLASS},
            ).scalar_one()
            self.conn.commit()
        except SQLAlchemyError as exc:
            log.warning("cannot count the daemons on the database: %s", str(exc).splitlines()[0])
            return 1
        return max(1, int(live))

    def close(self) -> None:
        """Leave (the server drops the lock with the session)."""
        if self.conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self.conn.close()
            self.engine.dispose()


@dataclass
class Held:
    """An account this process runs: its daemon and thread."""

    account: Account
    daemon: Daemon
    thread: threading.Thread
    outcome: list[BaseException]  # what ended the daemon's run, if anything did
    started: float = field(default_factory=time.monotonic)


class Fleet:
    """Every configured account (or ``account``) scheduled; :meth:`run` blocks until stopped."""

    def __init__(
        self,
        settings: Settings,
        names: list[str] | None = None,
        *,
        account: str | None = None,
        stop: threading.Event | None = None,
        hard_exit: bool = False,
    ) -> None:
        self.settings = settings
        self.names = names
        self.accounts = select_accounts(settings, account)
        for one in self.accounts:
            one.settings.require_credentials()
        self.single = len(self.accounts) == 1 and not settings.accounts
        self.stop = stop or threading.Event()
        self.hurry = threading.Event()
        self.hard_exit = hard_exit
        self.slots = AccountSlots(settings.schedule.parallel_accounts)
        self.held: dict[str, Held] = {}
        self.retry_at: dict[str, float] = {}  # account → monotonic time of its next try
        self.failures: dict[str, int] = {}
        self.elsewhere: set[str] = set()  # accounts another process was running at last look
        self.fatal: BaseException | None = None
        self.poll = settings.schedule.takeover_seconds / max(1.0, settings.schedule.time_scale)

    def run(self) -> None:
        """Take, run and hand back accounts until stopped; raises a single account's fatal
        error (credentials, database) as the one-account daemon did."""
        engine = make_engine(self.settings.database.url)
        try:
            upgrade(engine)  # once, before the accounts' daemons start
        finally:
            engine.dispose()
        members = Members(self.settings.database.url)
        if members.conn is not None:  # daemons started together see each other before taking
            self.stop.wait(min(self.poll, SETTLE_SECONDS))
        try:
            log.info("daemon for %d account(s), checking every %g s", len(self.accounts), self.poll)
            while not self.stop.is_set():
                self._reap()
                if self.fatal is not None:
                    break
                self._balance(members.count())
                self.stop.wait(self.poll)
        finally:
            self.stop.set()
            self._drain()
            members.close()
        if self.fatal is not None:
            raise self.fatal

    def share(self, members: int) -> int:
        """How many accounts this daemon should run: its fair share, rounded up."""
        return math.ceil(len(self.accounts) / members)

    def _balance(self, members: int) -> None:
        share = self.share(members)
        if len(self.held) > share:  # a daemon joined: hand one account back per round
            name, last = max(self.held.items(), key=lambda kv: kv[1].started)
            log.info("handing account %s back: %d daemons share the accounts", name, members)
            last.daemon.stop.set()
            last.thread.join(STOP_GRACE_SECONDS + 2)
            self.held.pop(name, None)
            self.retry_at[name] = time.monotonic() + 2 * self.poll  # let another take it
            return
        for account in self.accounts:
            if len(self.held) >= share or self.stop.is_set():
                return
            if account.name in self.held or self.retry_at.get(account.name, 0) > time.monotonic():
                continue
            self._try_start(account)

    def _try_start(self, account: Account) -> None:
        daemon = Daemon(
            account.settings,
            self.names,
            engine=make_engine(self.settings.database.url),  # its commits answer to its lock
            account_name=account.name,
            lock_wait=0,
            slots=self.slots,
        )
        daemon.hurry = self.hurry
        taken = threading.Event()
        outcome: list[BaseException] = []

        def serve() -> None:
            try:
                daemon.run(on_locked=taken.set)
            except BaseException as exc:  # reported by _reap, never lost
                outcome.append(exc)
            finally:
                taken.set()
                daemon.engine.dispose()

        thread = threading.Thread(target=serve, name=f"account-{account.name}", daemon=True)
        thread.start()
        taken.wait()
        if outcome and isinstance(outcome[0], RunLockedError):
            if account.name not in self.elsewhere:  # said once, not every round
                self.elsewhere.add(account.name)
                log.info("account %s is run elsewhere: %s", account.name, outcome[0])
            return
        self.elsewhere.discard(account.name)
        self.held[account.name] = Held(account, daemon, thread, outcome)
        if not outcome:
            log.info("running account %s", account.name)

    def _reap(self) -> None:
        """Accounts whose daemon ended: why, and when to try again."""
        for name, held in list(self.held.items()):
            if held.thread.is_alive():
                continue
            del self.held[name]
            error = held.outcome[0] if held.outcome else None
            if error is None or self.stop.is_set():
                continue
            if self.single:
                self.fatal = error
                return
            if not isinstance(error, DattoETLError):
                log.error("account %s crashed: %s: %s", name, type(error).__name__, error)
            else:
                log.error("account %s: %s", name, describe_error(held.account, error))
            count = self.failures[name] = self.failures.get(name, 0) + 1
            delay = min(RETRY_CAP_SECONDS, self.poll * 2**count)
            self.retry_at[name] = time.monotonic() + delay

    def _drain(self) -> None:
        for held in self.held.values():
            held.daemon.stop.set()
        deadline = time.monotonic() + STOP_GRACE_SECONDS + 2
        for held in self.held.values():
            held.thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [n for n, h in self.held.items() if h.thread.is_alive()]
        if stuck and self.hard_exit:
            log.warning("stopped without waiting for account(s) %s", ", ".join(stuck))
            logging.shutdown()
            os._exit(1 if self.fatal else 0)


__all__ = ["Fleet", "Members"]
