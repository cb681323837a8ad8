"""What a resource is: a name, what it depends on, and a ``run`` that fetches and saves.

A resource module (one room) defines its tables on :data:`etl.db.schema.metadata`, a
:class:`Resource` subclass decorated with :func:`register`, and the pure ``to_row`` mapping
from an API item to a row. :class:`ListResource` covers the common case of one paged list
upserted into one table in one transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from sqlalchemy import Connection, Engine, Table

from etl.api.client import DattoClient, Page
from etl.config import Settings
from etl.db.load import upsert
from etl.db.schema import utcnow
from etl.errors import StopRequested

log = logging.getLogger(__name__)


class Progress(Protocol):
    """Where a run reports progress; the CLI shows bars on a TTY, logs otherwise."""

    def start(self, resource: str, total: int | None = None) -> None: ...

    def advance(self, resource: str, n: int = 1, total: int | None = None) -> None: ...

    def finish(self, resource: str) -> None: ...


class NoProgress:
    """The default collector: says nothing."""

    def start(self, resource: str, total: int | None = None) -> None:
        pass

    def advance(self, resource: str, n: int = 1, total: int | None = None) -> None:
        pass

    def finish(self, resource: str) -> None:
        pass


@dataclass
class RunContext:
    """Everything one resource run may use."""

    client: DattoClient
    engine: Engine
    account_uid: str
    settings: Settings
    stop: threading.Event = field(default_factory=threading.Event)
    progress: Progress = field(default_factory=NoProgress)
    started_at: datetime = field(default_factory=utcnow)

    def checkpoint(self) -> None:
        """Raise :class:`StopRequested` if a signal asked us to stop (between pages)."""
        if self.stop.is_set():
            raise StopRequested("stop requested")

    def stamp(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add ``account_uid`` and ``synced_at`` to each row."""
        now = utcnow()
        return [{**row, "account_uid": self.account_uid, "synced_at": now} for row in rows]


@dataclass
class ResourceResult:
    """What one resource run did; the sync turns it into a report line and a sync_runs row."""

    rows_written: int = 0
    rows_seen: int = 0
    pages: int = 0
    details: dict[str, Any] = field(default_factory=dict)


class Resource:
    """One resource of the account: subclass, set the class attributes, implement ``run``."""

    name: ClassVar[str]
    depends_on: ClassVar[tuple[str, ...]] = ()
    tables: ClassVar[tuple[Table, ...]] = ()

    def run(self, ctx: RunContext) -> ResourceResult:
        """Fetch from the API and save; raise to fail the run (its transaction rolls back)."""
        raise NotImplementedError


REGISTRY: dict[str, Resource] = {}


def register(cls: type[Resource]) -> type[Resource]:
    """Class decorator adding a resource to :data:`REGISTRY`."""
    REGISTRY[cls.name] = cls()
    return cls


class ListResource(Resource):
    """A paged list saved into one table, all pages in one transaction."""

    path: ClassVar[str]
    items_key: ClassVar[str]
    item_key: ClassVar[str] = "uid"  # the API's id of an item; items without it are skipped
    table: ClassVar[Table]

    def to_row(self, item: dict[str, Any]) -> dict[str, Any]:
        """API item → row (without ``account_uid``/``synced_at``)."""
        raise NotImplementedError

    def params(self, ctx: RunContext) -> dict[str, Any]:
        """Query filters to send (and re-apply to every next page)."""
        return {}

    def save_pages(
        self,
        ctx: RunContext,
        conn: Connection,
        pages: Iterable[Page],
        result: ResourceResult,
        on_item: Callable[[dict[str, Any]], None] | None = None,
        to_row: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        """Upsert every page into :attr:`table`, counting into ``result``.

        ``on_item`` sees each item first; ``to_row`` replaces :meth:`to_row` for this run.
        """
        mapping = to_row or self.to_row
        for page in pages:
            ctx.checkpoint()
            rows = []
            for item in keyed(page.items, self.item_key, self.name):
                if on_item:
                    on_item(item)
                rows.append(mapping(item))
            result.rows_written += upsert(conn, self.table, ctx.stamp(rows))
            result.rows_seen += len(rows)
            result.pages += 1
            ctx.progress.advance(self.name, 1)

    def run(self, ctx: RunContext) -> ResourceResult:
        result = ResourceResult()
        with ctx.engine.begin() as conn:
            pages = ctx.client.paginate(self.path, self.items_key, self.params(ctx))
            self.save_pages(ctx, conn, pages, result)
        return result


def keyed(items: list[dict[str, Any]], key: str, what: str) -> list[dict[str, Any]]:
    """The items that carry their key; the others are skipped with one warning line.

    An item without its id cannot be stored or found again; failing the whole resource for
    it would stop every later page from loading.
    """
    good = [item for item in items if item.get(key) not in (None, "")]
    if len(good) < len(items):
        log.warning("%s: skipped %d item(s) without '%s'", what, len(items) - len(good), key)
    return good


def pick(item: dict[str, Any] | None, *path: str) -> Any:
    """``item[a][b]…`` or None when any level is missing or null."""
    for key in path:
        if not isinstance(item, dict):
            return None
        item = item.get(key)
    return item


def as_bool(value: Any) -> bool | None:
    """A boolean or None (Datto sends nulls for unknown booleans)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def as_int(value: Any) -> int | None:
    """An integer or None."""
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def as_str(value: Any) -> str | None:
    """A string or None (numbers such as Autotask ids arrive either way)."""
    return None if value is None else str(value)
