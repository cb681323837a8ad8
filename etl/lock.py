"""One run at a time per Datto account, across processes (and machines, on PostgreSQL).

:func:`account_lock` takes an OS file lock in the state directory (``budget.state_dir``),
named after the account (origin + a hash of the API key). The kernel drops it when the
holding process ends, however it ends, so a crashed run cannot hold it forever. When the
database is PostgreSQL it also takes a session advisory lock there, which the server drops
with the connection, so runs on two machines sharing a database are serialized too.

A second run waits up to ``wait`` seconds (default ``sync.lock_wait_seconds``), then raises
:class:`~etl.errors.RunLockedError` (exit 5) naming the holder: pid, host, since when and
its command. Within one process the lock is re-entrant: the daemon holds it for its
lifetime, and the syncs it starts pass through.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

import filelock
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from etl.api.memory import account_key, state_dir
from etl.config import Settings
from etl.errors import DatabaseError, RunLockedError

_held: dict[str, int] = {}  # account key → depth of this process's holds
_held_lock = threading.Lock()
POLL = 0.2  # seconds between tries of the PostgreSQL lock
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Holder:
    """Who holds an account's lock."""

    pid: int
    host: str
    since: str
    command: str

    def describe(self) -> str:
        """``pid 123 on host, since 2024-05-01 10:00:00 UTC: datto-etl sync``."""
        return f"pid {self.pid} on {self.host}, since {self.since}: {self.command}"


def me() -> Holder:
    """This process as a holder."""
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "python"
    return Holder(
        pid=os.getpid(),
        host=socket.gethostname(),
        since=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        command=command[:120],
    )


def _read_holder(path: Path) -> Holder | None:
    try:
        return Holder(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _locked(settings: Settings, holder: Holder | None, waited: float) -> RunLockedError:
    who = holder.describe() if holder else "holder unknown"
    return RunLockedError(
        f"another datto-etl run is syncing account {settings.datto.origin} ({who}); waited "
        f"{waited:.0f} s: let it finish or stop it, or raise sync.lock_wait_seconds"
    )


@contextlib.contextmanager
def account_lock(settings: Settings, *, wait: float | None = None) -> Iterator[Holder]:
    """Hold the run lock of the account ``settings`` points at; yields who holds it (us).

    Waits up to ``wait`` seconds (None: ``settings.sync.lock_wait_seconds``) for another
    holder, then raises :class:`RunLockedError`. Re-entrant within a process.
    """
    key = account_key(settings.datto)
    with _held_lock:
        if _held.get(key):
            _held[key] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield me()
        finally:
            with _held_lock:
                _held[key] -= 1
        return
    wait = settings.sync.lock_wait_seconds if wait is None else wait
    folder = state_dir(settings.budget)
    folder.mkdir(parents=True, exist_ok=True)
    info = folder / f"{key}.lock.json"
    lock = filelock.FileLock(str(folder / f"{key}.lock"))
    started = time.monotonic()
    try:
        lock.acquire(timeout=wait, poll_interval=min(0.5, max(0.05, wait / 20)))
    except filelock.Timeout:
        raise _locked(settings, _read_holder(info), time.monotonic() - started) from None
    holder = me()
    try:
        info.write_text(json.dumps(asdict(holder)), encoding="utf-8")
        left = max(0.0, wait - (time.monotonic() - started))
        with _pg_lock(settings, key, holder, left):
            with _held_lock:
                _held[key] = 1
            try:
                yield holder
            finally:
                with _held_lock:
                    _held.pop(key, None)
    finally:
        with contextlib.suppress(OSError):
            info.unlink()
        lock.release()


def _pg_keys(key: str) -> tuple[int, int]:
    digest = hashlib.sha256(key.encode()).digest()
    # two signed 32-bit ints: pg_locks shows them as classid/objid, so the holder can be found
    return int.from_bytes(digest[:4], "big", signed=True), int.from_bytes(
        digest[4:8], "big", signed=True
    )


@contextlib.contextmanager
def _pg_lock(settings: Settings, key: str, holder: Holder, wait: float) -> Iterator[None]:
    """A session advisory lock on PostgreSQL (nothing on SQLite)."""
    url = settings.database.url
    if not url.startswith(("postgres://", "postgresql")):
        yield
        return
    from etl.db.engine import make_engine

    engine = make_engine(url)
    k1, k2 = _pg_keys(key)
    deadline = time.monotonic() + wait
    try:
        conn = engine.connect()
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseError(
            f"cannot reach the database for the run lock: {str(exc).splitlines()[0]}"
        ) from None
    try:
        conn.execute(
            text("SELECT set_config('application_name', :n, false)"),
            {"n": f"datto-etl pid={holder.pid} host={holder.host}"[:63]},
        )
        conn.commit()
        take = text("SELECT pg_try_advisory_lock(:a, :b)")
        while not conn.execute(take, {"a": k1, "b": k2}).scalar():
            conn.commit()
            if time.monotonic() >= deadline:
                raise _locked(settings, _pg_holder(conn, k1, k2), wait)
            time.sleep(POLL)
        conn.commit()
        yield
    finally:
        with contextlib.suppress(SQLAlchemyError):
            conn.close()  # closing the session releases the advisory lock
        engine.dispose()


def _pg_holder(conn: Connection, k1: int, k2: int) -> Holder | None:
    row = conn.execute(
        text(
            "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.classid::bigint = :a AND l.objid::bigint = :b AND l.granted"
        ),
        {"a": k1 & 0xFFFFFFFF, "b": k2 & 0xFFFFFFFF},  # oids are the unsigned bit patterns
    ).first()
    if row is None:
        return None
    name, addr, since = row
    pid = next((int(p[4:]) for p in str(name).split() if p.startswith("pid=")), 0)
    host = next((p[5:] for p in str(name).split() if p.startswith("host=")), str(addr))
    return Holder(pid, host, f"{since:%Y-%m-%d %H:%M:%S %Z}", "datto-etl (PostgreSQL lock)")


def with_account_lock(run: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function whose first argument is :class:`Settings` to run under the lock.

    Missing credentials are reported before any waiting.
    """

    @functools.wraps(run)
    def locked(*args: P.args, **kw: P.kwargs) -> R:
        settings = args[0]
        assert isinstance(settings, Settings)
        settings.require_credentials()
        with account_lock(settings):
            return run(*args, **kw)

    return locked


__all__ = ["Holder", "account_lock", "me", "with_account_lock"]
