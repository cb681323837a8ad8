"""``datto-etl status``: what the daemon has done, and whether it is healthy (for monitoring).

Reads the database only (``sync_runs``, ``sync_state``), never the API, so it answers while
Datto or the daemon is down. Per account and resource: the last run (when, how long, rows,
requests, result), the next run from the schedule, the cursor, failures in a row; per
account the requests of the last budget window ("minute") and of the last 60 windows
("hour"). Accounts are those of ``[[accounts]]`` by name (an account never reached is
unhealthy too), or without it every account found in the database.
A resource is unhealthy when it failed ``schedule.max_failures`` times in a row,
or its last good run is older than ``schedule.stale_after`` times its cadence (or it never
had one); the command then exits 1, so a monitoring check can run it as it is.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable
from sqlalchemy import Connection, Engine, Row, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from etl.cadence import Cadence, lane, schedule
from etl.config import Settings
from etl.db.schema import utcnow
from etl.db.state import account_names, iso, load_cursor, sync_runs, sync_state
from etl.errors import DatabaseError
from etl.sync import resolve_order


def latest_runs(conn: Connection, account_uid: str, resource: str) -> tuple[Row[Any] | None, ...]:
    """The latest run of ``resource`` and its latest ``ok`` run (each None if there is none)."""
    base = (
        select(sync_runs)
        .where(sync_runs.c.account_uid == account_uid, sync_runs.c.resource == resource)
        .order_by(sync_runs.c.id.desc())
        .limit(1)
    )
    latest = conn.execute(base).first()
    ok = latest if latest is not None and latest.status == "ok" else None
    if latest is not None and ok is None:
        ok = conn.execute(base.where(sync_runs.c.status == "ok")).first()
    return latest, ok


def _accounts(conn: Connection) -> list[str]:
    runs = select(sync_runs.c.account_uid).distinct()
    states = select(sync_state.c.account_uid).distinct()
    return sorted({uid for (uid,) in conn.execute(runs.union(states)) if uid})


def _requests_since(conn: Connection, account_uid: str, since: datetime) -> int:
    total = conn.execute(
        select(func.coalesce(func.sum(sync_runs.c.requests_made), 0)).where(
            sync_runs.c.account_uid == account_uid, sync_runs.c.finished_at >= since
        )
    ).scalar_one()
    return int(total)


def _failures_in_a_row(
    conn: Connection, account_uid: str, name: str, after_id: int
) -> tuple[int, str | None]:
    """Failed runs since the last ok one (stopped and running ones neither count nor reset),
    and the error of the latest of them."""
    failed = (
        sync_runs.c.account_uid == account_uid,
        sync_runs.c.resource == name,
        sync_runs.c.status == "failed",
        sync_runs.c.id > after_id,
    )
    count = int(conn.execute(select(func.count()).where(*failed)).scalar_one())
    last = conn.execute(
        select(sync_runs.c.error).where(*failed).order_by(sync_runs.c.id.desc()).limit(1)
    ).scalar_one_or_none()
    return count, last


def _resource(
    conn: Connection | None,
    account_uid: str | None,
    name: str,
    cadence: Cadence,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    latest = ok = None
    failures, last_error, cursor = 0, None, None
    if conn is not None and account_uid:
        latest, ok = latest_runs(conn, account_uid, name)
        failures, last_error = _failures_in_a_row(conn, account_uid, name, ok.id if ok else 0)
        cursor = load_cursor(conn, account_uid, name)
    stale_after = settings.schedule.stale_after * cadence.period(now)
    next_run = cadence.next_after(latest.started_at) if latest is not None else now
    problems: list[str] = []
    if failures >= settings.schedule.max_failures:
        problems.append(f"failed {failures} times in a row (last: {last_error or 'see the log'})")
    if ok is None:
        problems.append("never synced successfully")
    else:
        age = (now - (ok.finished_at or ok.started_at)).total_seconds()
        if age > stale_after:
            problems.append(
                f"last good run {_span(age)} ago, older than its limit of {_span(stale_after)}"
            )
    return {
        "resource": name,
        "cadence": cadence.text,
        "priority": lane(name),
        "last_run": None
        if latest is None
        else {
            "started_at": iso(latest.started_at),
            "finished_at": iso(latest.finished_at),
            "seconds": latest.duration_seconds,
            "rows_written": latest.rows_written,
            "rows_seen": latest.rows_seen,
            "requests": latest.requests_made,
            "status": latest.status,
            "error": latest.error,
        },
        "last_ok_at": iso(ok.finished_at or ok.started_at) if ok is not None else None,
        "next_run": iso(next_run),
        "overdue": next_run < now,
        "cursor": cursor,
        "failures_in_a_row": failures,
        "stale_after_seconds": stale_after,
        "healthy": not problems,
        "problems": problems,
    }


def _targets(
    settings: Settings, conn: Connection | None, account: str | None
) -> list[tuple[str | None, str | None, str | None]]:
    """``(name, origin, account_uid)`` of each account to report.

    With ``[[accounts]]`` (or ``--account``): the configured accounts, each with the uid its
    syncs recorded (None before its first contact: it counts as never synced). With the one
    account of the environment: every account found in the database, as before.
    """
    from etl.accounts import select_accounts

    names = account_names(conn) if conn is not None else {}
    if settings.accounts or account is not None:
        uids = {name: uid for uid, name in names.items()}  # the latest uid of each name wins
        return [(a.name, a.origin, uids.get(a.name)) for a in select_accounts(settings, account)]
    found = _accounts(conn) if conn is not None else []
    origin = settings.datto.origin
    return [(names.get(uid, "default"), origin, uid) for uid in found] or [
        ("default", origin, None)
    ]


def collect_status(
    settings: Settings,
    engine: Engine,
    names: list[str] | None = None,
    now: datetime | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """The status report as a JSON-ready dict: ``ok`` (every account healthy), and per account
    (``name``, ``origin``, ``account_uid``, ``healthy``) its resources and budget.

    ``account`` limits it to that configured account.
    """
    order = resolve_order(names or settings.sync.resources or None)
    cadences = schedule(settings, order)
    now = now or utcnow()
    window = settings.budget.window_seconds
    accounts: list[dict[str, Any]] = []
    try:
        with engine.connect() as conn:
            has_tables = inspect(conn).has_table(sync_runs.name)
            db = conn if has_tables else None
            for name, origin, uid in _targets(settings, db, account):
                resources = [_resource(db, uid, n, cadences[n], settings, now) for n in order]
                used = {
                    "window_seconds": window,
                    "limit_per_window": settings.budget.requests_per_minute,
                    "last_minute": 0,
                    "last_hour": 0,
                }
                if db is not None and uid:
                    used["last_minute"] = _requests_since(db, uid, now - timedelta(seconds=window))
                    used["last_hour"] = _requests_since(
                        db, uid, now - timedelta(seconds=60 * window)
                    )
                accounts.append(
                    {
                        "name": name,
                        "origin": origin,
                        "account_uid": uid,
                        "healthy": all(r["healthy"] for r in resources),
                        "budget": used,
                        "resources": resources,
                    }
                )
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"cannot read the database: {str(exc).splitlines()[0]} (check DATTO_ETL_DATABASE_URL)"
        ) from None
    return {
        "generated_at": iso(now),
        "ok": all(a["healthy"] for a in accounts),
        "accounts": accounts,
    }


def _span(seconds: float) -> str:
    """``3725`` → ``1h02m``; short spans in seconds."""
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours < 48 else f"{hours // 24}d{hours % 24:02d}h"


def _when(value: str | None, now: datetime) -> str:
    if not value:
        return "-"
    moment = datetime.fromisoformat(value)
    delta = (moment - now).total_seconds()
    return f"in {_span(delta)}" if delta > 0 else f"{_span(-delta)} ago"


def render_status(report: dict[str, Any], console: Console) -> None:
    """The report as one table per account, then each problem on its own line."""
    now = datetime.fromisoformat(report["generated_at"])
    for account in report["accounts"]:
        uid = account["account_uid"] or "nothing synced yet"
        health = "" if account["healthy"] else " [red]ALERT[/red]"
        grid = RichTable(title=f"account {account['name']} ({uid}, {account['origin']}){health}")
        for col in ("resource", "cadence", "last run", "took", "rows", "requests", "result"):
            grid.add_column(col, justify="right" if col in ("took", "rows", "requests") else "left")
        for col in ("next run", "cursor", "health"):
            grid.add_column(col)
        for r in account["resources"]:
            last = r["last_run"] or {}
            result = last.get("status", "-")
            cursor = json.dumps(r["cursor"], separators=(",", ":")) if r["cursor"] else "-"
            grid.add_row(
                r["resource"],
                r["cadence"],
                _when(last.get("started_at"), now),
                f"{last['seconds']:.1f}s" if last.get("seconds") is not None else "-",
                str(last.get("rows_written", "-")),
                str(last.get("requests", "-")),
                result if result in ("ok", "running", "-") else f"[red]{result}[/red]",
                "due now" if r["overdue"] else _when(r["next_run"], now),
                cursor if len(cursor) <= 40 else cursor[:39] + "…",
                "ok" if r["healthy"] else "[red]ALERT[/red]",
            )
        console.print(grid)
        budget = account["budget"]
        console.print(
            f"requests: {budget['last_minute']} in the last {budget['window_seconds']:g} s, "
            f"{budget['last_hour']} in the last {_span(60 * budget['window_seconds'])} "
            f"(budget {budget['limit_per_window']} per {budget['window_seconds']:g} s)",
            markup=False,
        )
        for r in account["resources"]:
            for problem in r["problems"]:
                console.print(f"  {account['name']} {r['resource']}: {problem}", markup=False)
