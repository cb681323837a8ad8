"""Every SQL query the docs show (```sql blocks in README.md and docs/) and every query of the
Grafana dashboard runs against a synced database of each dialect.

A block whose first line is ``-- PostgreSQL`` or ``-- SQLite`` runs on that dialect only.
Grafana's macros and the ``$site`` variable are replaced the way Grafana expands them.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text

from tests.report import standins
from tests.report.conftest import RESOURCES
from tests.resources.helpers import small_sim, sync

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "docs" / "bi" / "grafana-dashboard.json"
DIALECTS = {"-- postgresql": "postgresql", "-- sqlite": "sqlite"}


def doc_queries() -> list[tuple[str, str, str | None]]:
    """(where, sql, only this dialect or None) for every ```sql block of the docs."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        blocks = re.findall(r"^```sql\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M)
        for n, sql in enumerate(blocks, 1):
            first = sql.strip().splitlines()[0].strip().lower()
            found.append((f"{page.relative_to(ROOT)} block {n}", sql, DIALECTS.get(first)))
    return found


def grafana_queries() -> list[tuple[str, str, str | None]]:
    """(where, sql, None) for every panel target and template variable of the dashboard."""
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = [(f"variable {v['name']}", v["query"], None) for v in board["templating"]["list"]]
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            found.append((f"panel {panel['title']!r} {target['refId']}", target["rawSql"], None))
    return found


def expand(sql: str, sites: list[str]) -> str:
    """Grafana's macros and variables as Grafana would send them."""
    sql = re.sub(
        r"\$__timeFilter\((\w+)\)",
        r"\1 BETWEEN '2000-01-01T00:00:00Z' AND '2100-01-01T00:00:00Z'",
        sql,
    )
    sql = sql.replace("$__timeFrom()", "'2000-01-01T00:00:00Z'")
    sql = sql.replace("$__timeTo()", "'2100-01-01T00:00:00Z'")
    sql = sql.replace("$site", ", ".join("'" + s.replace("'", "''") + "'" for s in sites))
    assert "$" not in sql, f"a Grafana macro or variable the test does not know: {sql}"
    return sql


def synced(engine: Engine) -> list[str]:
    """Sync a small account, add stand-in history (for the views that need it); its sites."""
    with small_sim(devices=60, sites=4, seed=3) as sim:
        sync(sim, engine, RESOURCES)
        devices = [(uid, d["siteUid"]) for uid, d in sim.devices.items()]
    standins.ensure(engine)
    # the days before today: the sync wrote today's device_daily rows itself
    days = [datetime.now(UTC).date() - timedelta(days=n) for n in range(1, 4)]
    with engine.begin() as conn:
        conn.execute(
            insert(standins.device_daily), list(standins.daily_rows(sim.account_uid, devices, days))
        )
        conn.execute(insert(standins.job_results),
                     list(standins.job_rows(sim.account_uid, devices, days)))  # fmt: skip
        return [r[0] for r in conn.execute(text("SELECT DISTINCT site_name FROM v_devices"))]


def test_every_documented_query_runs(engine: Engine) -> None:
    sites = synced(engine)
    queries = doc_queries() + grafana_queries()
    assert len(queries) >= 25  # the pages and the dashboard were found and read
    failed: list[str] = []
    empty: list[str] = []
    for where, sql, only in queries:
        if only not in (None, engine.dialect.name):
            continue
        try:
            with engine.connect() as conn:
                rows: list[Any] = conn.execute(text(expand(sql, sites))).all()
        except Exception as exc:  # report every broken query at once, not the first
            failed.append(f"{where}: {str(exc).splitlines()[0]}")
            continue
        if not rows:
            empty.append(where)
    assert failed == []
    assert len(empty) <= 2, empty  # a filter may find nothing (e.g. offline > 7 days)
