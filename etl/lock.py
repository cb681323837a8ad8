"""One run at a time per Datto account and per database, across processes and machines.

:func:`account_lock` takes, in this order, each with the holder written beside it:

1. an OS file lock in the state directory (``budget.state_dir``), named after the account
   (origin + a hash of the API key): runs sharing a state dir share one budget;
2. on SQLite, an OS file lock of the account beside the database file
   (``<db>.lock-<account>``): two runs of one account writing one file serialize even with
   different state dirs, while other accounts write the same file alongside (SQLite's
   busy timeout makes their transactions take turns);
3. on PostgreSQL, a session advisory lock keyed by the account, so runs on two machines
   sharing a database serialize too (:mod:`etl.pglock`). Before every commit on that
   database the lock's session is checked; a lost lock is taken again, or the run stops
   with :class:`~etl.errors.RunLockLostError` (exit 5) and nothing more is committed.

The kernel drops the file locks and the server the advisory lock when the holding process
ends, however it ends, so a crashed run cannot hold them forever. Lock files and the state
directory are private (0600 / 0700).

A second run logs at once who holds the lock and how long it will wait, waits up to
``wait`` seconds (default ``sync.lock_wait_seconds``) for all of them together, then raises
:class:`~etl.errors.RunLockedError` (exit 5) naming the holder: pid, host, since when and
its command. Within one process the lock is re-entrant: the daemon holds it for its
lifetime, and the syncs it starts pass through.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
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
from sqlalchemy import Engine

from etl.api.memory import account_key, state_dir
from etl.config import Settings
from etl.errors import RunLockedError, StorageError

log = logging.getLogger(__name__)
_held: dict[str, int] = {}  # account key → depth of this process's holds
_held_lock = threading.Lock()
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Holder:
    """Who holds a lock."""

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


@dataclass
class Wait:
    """One lock taking: what is locked (for messages) and the deadline shared by all locks."""

    what: str  # "account https://…" or "database /path/etl.db"
    deadline: float
    wait: float

    def left(self) -> float:
        """Seconds left before giving up."""
        return max(0.0, self.deadline - time.monotonic())

    def waiting(self, holder: Holder | None) -> None:
        """Say at once that we wait, for whom, and for how long at most."""
        log.warning(
            "waiting up to %g s for the run lock of %s, held by %s",
            round(self.left(), 1),
            self.what,
            holder.describe() if holder else "another process (holder unknown)",
        )

    def locked(self, holder: Holder | None) -> RunLockedError:
        """The error after waiting in vain."""
        who = holder.describe() if holder else "holder unknown"
        return RunLockedError(
            f"another datto-etl run holds the run lock of {self.what} ({who}); waited "
            f"{self.wait:.0f} s: let it finish or stop it, or raise sync.lock_wait_seconds"
        )


def _read_holder(path: Path) -> Holder | None:
    try:
        return Holder(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


@contextlib.contextmanager
def file_lock(path: Path, holder: Holder, wait: Wait) -> Iterator[None]:
    """Hold the OS lock on ``path`` (holder in ``<path>.json``), waiting as ``wait`` says."""
    info = path.with_name(path.name + ".json")
    lock = filelock.FileLock(str(path), mode=0o600)
    poll = min(0.5, max(0.05, wait.wait / 20))
    try:
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            wait.waiting(_read_holder(info))
            try:
                lock.acquire(timeout=wait.left(), poll_interval=poll)
            except filelock.Timeout:
                raise wait.locked(_read_holder(info)) from None
    except OSError as exc:
        raise StorageError(
            f"cannot create the lock file {path}: {exc.strerror or exc}; the directory "
            "must be writable by this user"
        ) from None
    try:
        with contextlib.suppress(OSError):  # who holds it is a courtesy for the next one
            _write_private(info, json.dumps(asdict(holder)))
        yield
    finally:
        with contextlib.suppress(OSError):
            info.unlink()
        lock.release()


def private_dir(folder: Path) -> Path:
    """Create ``folder`` (0700: it names accounts and holds their state) if missing."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StorageError(
            f"cannot create the state directory {folder}: {exc.strerror or exc}; set "
            "budget.state_dir (DATTO_ETL_BUDGET_STATE_DIR) to a directory this user can write"
        ) from None
    return folder


@contextlib.contextmanager
def account_lock(
    settings: Settings,
    *,
    wait: float | None = None,
    database: str | None = None,
    engine: Engine | None = None,
) -> Iterator[Holder]:
    """Hold the run locks of the account ``settings`` points at; yields who holds them (us).

    ``database`` is the URL of the database the run writes to (default ``engine``'s, else
    ``settings.database.url``); on PostgreSQL the commits of ``engine`` are checked against
    the lock (every engine of that database when None: give it when several accounts run in
    one process). Waits up to ``wait`` seconds (None:
    ``settings.sync.lock_wait_seconds``) for another holder, then raises
    :class:`RunLockedError`. Re-entrant within a process.
    """
    from etl.db.engine import prepare_sqlite_file, sqlite_file
    from etl.pglock import pg_lock

    key = account_key(settings.datto)
    with _held_lock:
        nested = bool(_held.get(key))
        if nested:
            _held[key] += 1
    if nested:
        try:
            yield me()
        finally:
            with _held_lock:
                _held[key] -= 1
        return
    wait = settings.sync.lock_wait_seconds if wait is None else wait
    deadline = time.monotonic() + wait
    if database is None and engine is not None:
        database = engine.url.render_as_string(hide_password=False)
    url = database or settings.database.url
    holder = me()
    with contextlib.ExitStack() as stack:
        folder = private_dir(state_dir(settings.budget))
        account = Wait(f"account {settings.datto.origin}", deadline, wait)
        stack.enter_context(file_lock(folder / f"{key}.lock", holder, account))
        db_file = sqlite_file(url)
        if db_file is not None:
            prepare_sqlite_file(db_file)  # the lock goes beside it: its directory must exist
            # one lock per account beside the file: accounts sharing it run side by side
            beside = db_file.with_name(f"{db_file.name}.lock-{key}")
            on_file = Wait(f"database {db_file}", account.deadline, wait)
            stack.enter_context(file_lock(beside, holder, on_file))
        stack.enter_context(pg_lock(url, key, holder, account, engine))
        with _held_lock:
            _held[key] = 1
        try:
            yield holder
        finally:
            with _held_lock:
                _held.pop(key, None)


def with_account_lock(run: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function whose first argument is :class:`Settings` to run under the lock.

    The lock follows the database of an ``engine`` keyword argument when one is given.
    Missing credentials are reported before any waiting.
    """

    @functools.wraps(run)
    def locked(*args: P.args, **kw: P.kwargs) -> R:
        settings = args[0]
        assert isinstance(settings, Settings)
        settings.require_credentials()
        engine = kw.get("engine")
        with account_lock(settings, engine=engine if isinstance(engine, Engine) else None):
            return run(*args, **kw)

    return locked


__all__ = ["Holder", "Wait", "account_lock", "me", "with_account_lock"]
