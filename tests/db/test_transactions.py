"""SQLite transactions are real: a page's rows and its cursor commit together, once.

pysqlite's legacy transaction handling emits no BEGIN for SAVEPOINT or SELECT: the bulk
insert's savepoint then opened a transaction of its own and its RELEASE committed it, apart
from the cursor. These tests read the statements SQLite itself ran (its trace callback).
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, insert, select, text

from datto_sim import Simulator
from etl.db.engine import make_engine
from etl.db.load import upsert
from etl.db.migrate import upgrade
from etl.db.schema import utcnow
from etl.db.state import sync_state
from etl.resources.alerts import alerts
from tests.conftest import settings_for
from tests.resources.helpers import FAST, sync

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\s+(?:INTO\s+)?(\w+)", re.IGNORECASE)


@dataclass
class Transaction:
    """The statements between a BEGIN (or a SAVEPOINT outside any) and what ended it."""

    opened_by: str
    tables: set[str] = field(default_factory=set)
    ended_by: str = ""


def transactions(trace: list[str]) -> tuple[list[Transaction], list[str]]:
    """Group one connection's statements into transactions; also return writes outside any."""
    done: list[Transaction] = []
    loose: list[str] = []
    current: Transaction | None = None
    savepoints = 0
    for sql in trace:
        word = sql.split(None, 1)[0].upper() if sql.strip() else ""
        if word == "BEGIN":
            assert current is None, f"BEGIN inside a transaction: {sql}"
            current = Transaction("BEGIN")
        elif word == "SAVEPOINT":
            if current is None:  # legacy mode: the savepoint is the transaction
                current = Transaction("SAVEPOINT")
            savepoints += 1
        elif word == "RELEASE":
            savepoints -= 1
            if current is not None and current.opened_by == "SAVEPOINT" and savepoints == 0:
                current.ended_by = "RELEASE"
                done.append(current)
                current = None
        elif word in ("COMMIT", "ROLLBACK") and "TO" not in sql.upper().split():
            if current is not None:
                current.ended_by = word
                done.append(current)
                current = None
                savepoints = 0
        elif (match := WRITE.match(sql)) is not None:
            if current is None:
                loose.append(sql)
            else:
                current.tables.add(match.group(2).lower())
    return done, loose


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[tuple[Engine, dict[int, list[str]]]]:
    """A SQLite engine whose every statement SQLite ran is traced, per connection."""
    engine = make_engine(f"sqlite:///{tmp_path / 'etl.db'}")
    traces: dict[int, list[str]] = {}
    guard = threading.Lock()

    @event.listens_for(engine, "connect")
    def _trace(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        with guard:
            lines = traces.setdefault(id(dbapi_conn), [])
        dbapi_conn.set_trace_callback(lines.append)

    yield engine, traces
    engine.dispose()


def page_transactions(traces: dict[int, list[str]], table: str) -> list[Transaction]:
    found: list[Transaction] = []
    for trace in traces.values():
        groups, loose = transactions(trace)
        assert not loose, f"writes outside a transaction: {loose[:3]}"
        found += [t for t in groups if table in t.tables]
    return found


def test_activity_pages_commit_rows_and_cursor_at_once(
    sqlite_engine: tuple[Engine, dict[int, list[str]]],
) -> None:
    engine, traces = sqlite_engine
    with Simulator(devices=40, sites=4, time_scale=FAST) as sim:
        settings = settings_for(sim)
        settings = settings.model_copy(
            update={"datto": settings.datto.model_copy(update={"page_size": 10})}
        )
        report = sync(sim, engine, ["activity_logs"], settings)
    assert report.ok
    [line] = report.resources
    pages = page_transactions(traces, "activity_logs")
    assert len(pages) == math.ceil(line.rows_seen / 10) > 2  # one transaction per page
    for page in pages:  # ... begun by BEGIN, holding the cursor, ended by its one COMMIT
        assert (page.opened_by, page.ended_by) == ("BEGIN", "COMMIT")
        assert "sync_state" in page.tables


def test_alert_pages_commit_rows_and_cursor_at_once(
    sqlite_engine: tuple[Engine, dict[int, list[str]]],
) -> None:
    engine, traces = sqlite_engine
    with Simulator(devices=40, sites=4, time_scale=FAST) as sim:
        report = sync(sim, engine, ["alerts"])
    assert report.ok
    pages = page_transactions(traces, "alerts")
    assert pages and all((p.opened_by, p.ended_by) == ("BEGIN", "COMMIT") for p in pages)
    assert any("sync_state" in p.tables for p in pages)


def test_a_failed_transaction_leaves_no_rows(engine: Engine) -> None:
    """A savepoint released inside a transaction is undone with it (it was not, on SQLite)."""
    upgrade(engine)
    now = utcnow()
    rows = [
        {"account_uid": "a", "resource": f"r{i}", "cursor": {}, "synced_at": now} for i in (1, 2)
    ]
    with pytest.raises(RuntimeError), engine.begin() as conn:
        assert upsert(conn, sync_state, rows) == 2  # bulk insert in a savepoint, released
        raise RuntimeError("the cursor could not be saved")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sync_state)).scalar_one() == 0


def test_concurrent_writers_wait_for_each_other(tmp_path: Path) -> None:
    """Two threads reading then writing one SQLite file: the second waits, never fails."""
    engine = make_engine(f"sqlite:///{tmp_path / 'etl.db'}")
    upgrade(engine)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait()
            for n in range(30):
                with engine.begin() as conn:
                    conn.execute(select(func.count()).select_from(alerts)).scalar_one()
                    conn.execute(
                        insert(alerts),
                        {"alert_uid": f"{name}{n}", "account_uid": "a", "synced_at": utcnow()},
                    )
        except BaseException as exc:  # collected: the assert below names it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alerts")).scalar_one() == 60
    finally:
        engine.dispose()
