"""What a resource is: a name, its tables, when and in which lane it runs, and a ``run``.

A resource module (one room) defines its tables on :data:`etl.db.schema.metadata` (from a
:class:`~etl.resources.convert.Spec` where the mapping is flat) and a :class:`Resource`
subclass decorated with :func:`register`, usually one of the shapes of
:mod:`etl.resources.shapes`. The class also says how often it runs by default
(:attr:`Resource.cadence`), in which budget lane (:attr:`Resource.lane`) and what a sync of
it costs (:attr:`Resource.cost`); the scheduler, ``datto-etl status`` and docs/resources.md
read them from here.

A run fills :attr:`RunContext.result` as it goes; rows count as written once their
transaction committed (:meth:`RunContext.transaction`), so a run that fails or is stopped
still reports exactly what it left in the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar

from sqlalchemy import Connection, Engine, Table

from etl.api.budget import Lane
from etl.api.client import DattoClient
from etl.api.platform import PlatformStatus
from etl.config import Settings
from etl.db.schema import utcnow
from etl.errors import StopRequested

HOURLY = "every 1h"  # reference data: sites, users, variables, filters, ...
NIGHTLY = "15 3 * * *"  # 03:15 local: quiet hours, and a time every DST change keeps


class Progress(Protocol):
    """Where a run reports progress; the CLI shows a live display on a TTY, logs otherwise.

    The sync calls ``start``, ``track`` (the run's result, for rows) and ``finish``;
    resources call ``advance``; the API session calls ``waiting`` and ``retrying``
    (:class:`~etl.api.transport.Watcher`).
    """

    def start(self, resource: str, total: int | None = None) -> None: ...

    def track(self, resource: str, result: ResourceResult) -> None: ...

    def advance(self, resource: str, n: int = 1, total: int | None = None) -> None: ...

    def finish(self, resource: str) -> None: ...

    def waiting(self, resource: str, seconds: float) -> None: ...

    def retrying(self, resource: str, attempt: int, of: int, seconds: float) -> None: ...


class NoProgress:
    """The default collector: says nothing."""

    def start(self, resource: str, total: int | None = None) -> None:
        pass

    def track(self, resource: str, result: ResourceResult) -> None:
        pass

    def advance(self, resource: str, n: int = 1, total: int | None = None) -> None:
        pass

    def finish(self, resource: str) -> None:
        pass

    def waiting(self, resource: str, seconds: float) -> None:
        pass

    def retrying(self, resource: str, attempt: int, of: int, seconds: float) -> None:
        pass


@dataclass
class ResourceResult:
    """What one resource run did; the sync turns it into a report line and a sync_runs row.

    ``rows_written`` counts committed changes only; ``rows_seen`` and ``pages`` count what
    was read, committed or not.
    """

    rows_written: int = 0
    rows_seen: int = 0
    pages: int = 0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Transaction:
    """An open transaction of a run: its connection and the rows changed in it so far."""

    conn: Connection
    written: int = 0
    history: int = 0  # history rows (etl.history), reported apart: details["history_rows"]


@dataclass
class RunContext:
    """Everything one resource run may use, and the result it fills."""

    client: DattoClient
    engine: Engine
    account_uid: str
    settings: Settings
    stop: threading.Event = field(default_factory=threading.Event)
    progress: Progress = field(default_factory=NoProgress)
    started_at: datetime = field(default_factory=utcnow)
    #: The wall clock (aware UTC) a run's ``started_at`` is read from: history versions and
    #: daily snapshots are dated by it, so tests move it day by day with the simulator's.
    clock: Callable[[], datetime] = utcnow
    result: ResourceResult = field(default_factory=ResourceResult)
    #: The ``GET /v2/account`` answer a sync read to learn the account uid: the account
    #: resource stores it instead of asking again (None: ask, e.g. in the daemon's later runs).
    account: dict[str, Any] | None = None
    #: The platform's status, shared by the runs of a sync or daemon (version in each run).
    platform: PlatformStatus = field(default_factory=PlatformStatus)

    def checkpoint(self) -> None:
        """Raise :class:`StopRequested` if a signal asked us to stop (between pages)."""
        if self.stop.is_set():
            raise StopRequested("stop requested")

    def stamp(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add ``account_uid`` and ``synced_at`` to each row."""
        now = utcnow()
        return [{**row, "account_uid": self.account_uid, "synced_at": now} for row in rows]

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """``engine.begin()``; what the block adds to ``written`` counts once committed."""
        with self.engine.begin() as conn:
            tx = Transaction(conn)
            yield tx
        self.result.rows_written += tx.written
        if tx.history:
            details = self.result.details
            details["history_rows"] = details.get("history_rows", 0) + tx.history


class Resource:
    """One resource of the account: subclass, set the class attributes, implement ``run``."""

    name: ClassVar[str]
    depends_on: ClassVar[tuple[str, ...]] = ()
    tables: ClassVar[tuple[Table, ...]] = ()
    #: Default cadence of ``datto-etl run`` (``[schedule]`` overrides it): "every 5m" or cron.
    cadence: ClassVar[str] = HOURLY
    #: Budget lane: HIGH for cheap urgent lists, LOW for bulk that may wait.
    lane: ClassVar[Lane] = Lane.NORMAL
    #: What a sync of it costs in requests, in one line (docs/resources.md).
    cost: ClassVar[str]

    def run(self, ctx: RunContext) -> None:
        """Fetch from the API and save, filling ``ctx.result``; raise to fail the run."""
        raise NotImplementedError

    def requests_needed(self, conn: Connection, account_uid: str) -> int | None:
        """Requests the next run will send, when the database alone tells (None: unknown).

        For the cost planner (``datto-etl plan``, :mod:`etl.plan`) and progress; a resource
        whose count depends on what the API answers (list lengths) returns None and the
        planner estimates from its shape and the lists' first pages; one that fans out per
        stored row counts them.
        """
        return None


REGISTRY: dict[str, Resource] = {}
R = TypeVar("R", bound=type[Resource])


def register(cls: R) -> R:
    """Class decorator adding a resource to :data:`REGISTRY`."""
    REGISTRY[cls.name] = cls()
    return cls
