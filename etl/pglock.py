"""The PostgreSQL part of the run lock: a session advisory lock, checked before each commit.

A session advisory lock lives as long as its connection, and that connection can end while
the run goes on: the server restarts, an idle-session timeout or ``pg_terminate_backend``
ends it, a failover moves the database. A second host would then take the lock and run
alongside. So while the lock is held, every commit on an engine of the same database is
preceded by a check (an Engine ``commit`` event): the lock's session is alive and holds the
lock (``pg_locks`` for its own backend pid). A lost lock is taken again on a new session
when it is free (with a warning); when another session has it, the commit is refused with
:class:`~etl.errors.RunLockLostError` (the transaction rolls back), and so is every later
commit of the run except its bookkeeping (``sync_runs``), so the run is recorded failed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import URL, Connection, Engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from etl.db.state import RUN_RECORD
from etl.errors import DatabaseError, RunLockLostError

if TYPE_CHECKING:
    from etl.lock import Holder, Wait

log = logging.getLogger(__name__)
POLL = 0.2  # seconds between tries of a held lock
TAKE = text("SELECT pg_try_advisory_lock(:a, :b)")
# oids in pg_locks are the unsigned bit patterns of the two int4 keys; objsubid 2 marks the
# two-key form of the advisory lock
HOLDS = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND classid::bigint = :ua AND objid::bigint = :ub "
    "AND objsubid = 2)"
)
HOLDER = text(
    "SELECT a.pid, a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
    "AND l.classid::bigint = :ua AND l.objid::bigint = :ub AND l.objsubid = 2"
)


def pg_keys(key: str) -> tuple[int, int]:
    """The two signed int4 keys of an account's advisory lock (classid/objid in pg_locks)."""
    digest = hashlib.sha256(key.encode()).digest()
    return (
        int.from_bytes(digest[:4], "big", signed=True),
        int.from_bytes(digest[4:8], "big", signed=True),
    )


def _server(url: URL) -> tuple[str, int, str]:
    return (url.host or "", url.port or 5432, url.database or "")


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip().splitlines()[0]


class PgLock:
    """An account's advisory lock on one PostgreSQL database, and its guard."""

    def __init__(
        self, url: str, key: str, holder: Holder, what: str, guarded: Engine | None = None
    ) -> None:
        from etl.db.engine import make_engine

        self.engine: Engine = make_engine(url)
        # the run's engine: only its commits are checked (None: every engine of the database,
        # for a run that opens engines of its own)
        self.guarded = guarded
        with _guards_lock:
            _lock_engines.add(self.engine)
        self.server = _server(self.engine.url)
        self.what = what
        self.name = f"datto-etl pid={holder.pid} host={holder.host}"[:63]
        k1, k2 = pg_keys(key)
        self.keys = {"a": k1, "b": k2}
        self.unsigned = {"ua": k1 & 0xFFFFFFFF, "ub": k2 & 0xFFFFFFFF}
        self.conn: Connection | None = None
        self.mutex = threading.Lock()  # one check at a time: the session is shared
        self.lost: RunLockLostError | None = None
        self.released = False  # the holder let go: a check in flight must not take it again

    def _connect(self) -> Connection:
        conn = self.engine.connect()
        # the holder's name, so a waiting run can say who holds the lock
        conn.execute(text("SELECT set_config('application_name', :n, false)"), {"n": self.name})
        conn.commit()
        self.conn = conn
        return conn

    def _try(self, conn: Connection) -> bool:
        got = bool(conn.execute(TAKE, self.keys).scalar())
        conn.commit()  # end the transaction; the session lock stays
        return got

    def holder(self, conn: Connection) -> Holder | None:
        """Who holds the lock, from pg_locks and the holder's application_name."""
        from etl.lock import Holder

        row = conn.execute(HOLDER, self.unsigned).first()
        conn.commit()
        if row is None:
            return None
        pid, name, addr, since = row
        words = str(name).split()
        pid = next((int(w[4:]) for w in words if w.startswith("pid=") and w[4:].isdigit()), pid)
        host = next((w[5:] for w in words if w.startswith("host=")), str(addr or "?"))
        return Holder(pid, host, f"{since:%Y-%m-%d %H:%M:%S %Z}", "datto-etl (PostgreSQL lock)")

    def take(self, wait: Wait) -> None:
        """Take the lock, waiting as ``wait`` says (and saying so at once)."""
        try:
            conn = self._connect()
            told = False
            while not self._try(conn):
                if wait.left() <= 0:
                    raise wait.locked(self.holder(conn))
                if not told:
                    wait.waiting(self.holder(conn))
                    told = True
                time.sleep(min(POLL, wait.left()))
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"cannot reach the database for the run lock: {_first_line(exc)}"
            ) from None

    def verify(self) -> None:
        """Raise RunLockLostError unless the lock is (again) ours."""
        with self.mutex:
            if self.released:
                return
            if self.lost is not None:
                raise self.lost
            try:
                if self.conn is not None and self.conn.execute(HOLDS, self.unsigned).scalar():
                    self.conn.commit()
                    return
                reason = "its session no longer holds it"
            except SQLAlchemyError as exc:
                reason = f"its database session ended: {_first_line(exc)}"
            self.close_session()
            self.engine.dispose()  # a failover or restart left the pooled sessions dead too
            try:
                conn = self._connect()
                if self._try(conn):
                    log.warning("the run lock of %s was lost (%s); taken again", self.what, reason)
                    return
                other = self.holder(conn)
                now = f"{other.describe()} holds it now" if other else "another session has it"
            except SQLAlchemyError as exc:
                now = f"it cannot be taken again: {_first_line(exc)}"
            self.lost = RunLockLostError(
                f"the run lock of {self.what} was lost ({reason}) and {now}: this run "
                "stopped, committing nothing more; run it again when the other run is done"
            )
            raise self.lost

    def close_session(self) -> None:
        """Close the lock's session (which releases the lock if it still held it)."""
        if self.conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self.conn.close()
            self.conn = None


_guards: list[PgLock] = []
_guards_lock = threading.Lock()
_lock_engines: set[Engine] = set()  # the locks' own sessions: never checked themselves


@event.listens_for(Engine, "commit")
def _check_before_commit(conn: Connection) -> None:
    """Before a commit on a locked PostgreSQL database: is the run lock still ours?"""
    if not _guards or conn.dialect.name != "postgresql":
        return
    if conn.get_execution_options().get(RUN_RECORD):
        return  # the run's own record (sync_runs) is written even after the lock was lost
    server = _server(conn.engine.url)
    with _guards_lock:
        if conn.engine in _lock_engines:
            return
        # several accounts in one process: each run's commits answer to its own lock only
        mine = [
            g
            for g in _guards
            if (g.guarded is conn.engine if g.guarded is not None else g.server == server)
        ]
    for guard in mine:
        guard.verify()


@contextlib.contextmanager
def pg_lock(
    url: str, key: str, holder: Holder, wait: Wait, guarded: Engine | None = None
) -> Iterator[None]:
    """Hold the advisory lock of ``key`` on ``url`` while guarding commits (PostgreSQL only):
    those of ``guarded``, or of every engine on that database when None."""
    if not url.startswith(("postgres://", "postgresql")):
        yield
        return
    lock = PgLock(url, key, holder, wait.what, guarded)
    try:
        lock.take(wait)
        with _guards_lock:
            _guards.append(lock)
        try:
            yield
        finally:
            with _guards_lock:
                _guards.remove(lock)
    finally:
        with lock.mutex:  # a commit of another account may be checking this lock right now
            lock.released = True
            lock.close_session()
        lock.engine.dispose()
        with _guards_lock:
            _lock_engines.discard(lock.engine)
