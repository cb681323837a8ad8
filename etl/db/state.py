"""``sync_runs`` (one row per resource run) and ``sync_state`` (incremental cursors).

A cursor is written with :func:`save_cursor` inside the same transaction as the rows it
covers, so a crash can never leave a cursor ahead of its data.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    String,
    Table,
    Text,
    select,
    update,
)

from etl.db.load import upsert
from etl.db.schema import JSONDoc, UTCDateTime, account_columns, metadata, utcnow

# Execution option of the connections writing a run's own record (sync_runs): the run lock's
# guard (etl.pglock) lets them commit even after the lock was lost, so the run is recorded.
RUN_RECORD = "datto_etl_run_record"


class RunStatus(StrEnum):
    """``sync_runs.status``: how a resource run ended (or that it is still going)."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    STOPPED = "stopped"


sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource", String(64), nullable=False, index=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("status", String(16), nullable=False),  # running | ok | failed | stopped
    Column("rows_written", Integer, nullable=False, default=0),
    Column("rows_seen", Integer, nullable=False, default=0),
    Column("requests_made", Integer, nullable=False, default=0),
    Column("pages_read", Integer, nullable=False, default=0),
    Column("duration_seconds", Float),
    Column("error", Text),
    Column("details", JSONDoc),
    *account_columns(keyed=False),  # runs have their own serial id
    info={"doc": "One row per resource per run: what it did and how it ended."},
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("account_uid", String(64), primary_key=True),
    Column("resource", String(64), primary_key=True),
    Column("cursor", JSONDoc),
    Column("synced_at", UTCDateTime(), nullable=False),
    info={"doc": "The incremental cursor of each resource, written with the rows it covers."},
)


def start_run(engine: Engine, account_uid: str, resource: str) -> int:
    """Record a run as ``running`` (committed at once, so a crash leaves a trace)."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execution_options(**{RUN_RECORD: True})
        result = conn.execute(
            sync_runs.insert().values(
                account_uid=account_uid,
                resource=resource,
                started_at=now,
                status=RunStatus.RUNNING,
                synced_at=now,
            )
        )
        key = result.inserted_primary_key
        assert key is not None  # an INSERT of one row always has one
        return int(key[0])


def finish_run(engine: Engine, run_id: int, **values: Any) -> None:
    """Close a run with its status, counters and error."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execution_options(**{RUN_RECORD: True})
        started = conn.execute(
            select(sync_runs.c.started_at).where(sync_runs.c.id == run_id)
        ).scalar_one()
        conn.execute(
            update(sync_runs)
            .where(sync_runs.c.id == run_id)
            .values(
                finished_at=now,
                synced_at=now,
                duration_seconds=(now - started).total_seconds(),
                **values,
            )
        )


def load_cursor(conn: Connection, account_uid: str, resource: str) -> dict[str, Any] | None:
    """The saved cursor of ``resource``, or None before its first complete run."""
    return conn.execute(
        select(sync_state.c.cursor).where(
            sync_state.c.account_uid == account_uid, sync_state.c.resource == resource
        )
    ).scalar_one_or_none()


def save_cursor(conn: Connection, account_uid: str, resource: str, cursor: dict[str, Any]) -> None:
    """Write the cursor in the caller's transaction (the one that wrote its rows)."""
    upsert(
        conn,
        sync_state,
        [
            {
                "account_uid": account_uid,
                "resource": resource,
                "cursor": cursor,
                "synced_at": utcnow(),
            }
        ],
    )


def forget_cursor(conn: Connection, account_uid: str, resource: str) -> int:
    """Delete the cursor of ``resource`` (its next run starts over); history rows stay."""
    result = conn.execute(
        sync_state.delete().where(
            sync_state.c.account_uid == account_uid, sync_state.c.resource == resource
        )
    )
    return int(result.rowcount or 0)


def iso(moment: datetime | None) -> str | None:
    """Datetime → ISO string for JSON cursors."""
    return moment.isoformat() if moment else None


ABANDONED = "abandoned: the process running it ended (killed or crashed) before it finished"


def close_running(engine: Engine, account_uid: str, status: str, error: str) -> int:
    """Close every ``running`` row of the account (their process is gone or giving up)."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execution_options(**{RUN_RECORD: True})
        result = conn.execute(
            update(sync_runs)
            .where(sync_runs.c.account_uid == account_uid, sync_runs.c.status == RunStatus.RUNNING)
            .values(status=status, error=error, finished_at=now, synced_at=now)
        )
    return int(result.rowcount or 0)


# The configured name of each account (``[[accounts]] name``), kept in ``sync_state`` under
# this pseudo-resource so `status` (which reads only the database) can group by name.
ACCOUNT_NAME = "(account)"


def remember_account_name(engine: Engine, account_uid: str, name: str, origin: str) -> None:
    """Record that the configured account ``name`` on ``origin`` is Datto's ``account_uid``."""
    with engine.begin() as conn:
        conn.execution_options(**{RUN_RECORD: True})
        if load_cursor(conn, account_uid, ACCOUNT_NAME) != {"name": name, "origin": origin}:
            save_cursor(conn, account_uid, ACCOUNT_NAME, {"name": name, "origin": origin})


def account_names(conn: Connection) -> dict[str, str]:
    """``{account_uid: configured name}`` of every account a sync or the daemon has named."""
    query = select(sync_state.c.account_uid, sync_state.c.cursor).where(
        sync_state.c.resource == ACCOUNT_NAME
    )
    return {
        uid: str(cursor["name"])
        for uid, cursor in conn.execute(query.order_by(sync_state.c.synced_at))
        if isinstance(cursor, dict) and cursor.get("name")
    }
