"""``datto-etl status``: last and next runs, failures in a row, staleness, budget used."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.console import Console
from sqlalchemy import Engine

from datto_sim import Simulator
from etl.config import Settings
from etl.db.state import finish_run, start_run
from etl.resources import REGISTRY
from etl.status import collect_status, render_status
from etl.sync import run_sync
from tests.conftest import settings_for

PAIR = ["sites", "devices"]


def by_name(report: dict[str, object]) -> dict[str, dict[str, object]]:
    [account] = report["accounts"]  # type: ignore[index]
    return {r["resource"]: r for r in account["resources"]}


def test_empty_database_reports_every_resource_as_never_synced(engine: Engine) -> None:
    report = collect_status(Settings(), engine)
    assert report["ok"] is False
    resources = by_name(report)
    assert set(resources) == set(REGISTRY)
    for r in resources.values():
        assert r["last_run"] is None and r["problems"] == ["never synced successfully"]


def test_runs_failures_and_staleness(engine: Engine) -> None:
    with Simulator(devices=40, sites=4) as sim:
        settings = settings_for(sim)
        first = run_sync(settings, PAIR, engine=engine)
        assert first.ok
        report = collect_status(settings, engine, PAIR)
        assert report["ok"] is True
        [account] = report["accounts"]
        assert account["account_uid"] == sim.account_uid
        assert account["budget"]["last_hour"] == sum(r.requests for r in first.resources)
        devices = by_name(report)["devices"]
        assert devices["last_run"]["status"] == "ok"
        assert devices["last_run"]["rows_written"] == len(sim.devices)
        assert devices["last_run"]["requests"] >= 1
        assert devices["cadence"] == "every 15m" and not devices["overdue"]

        # three failures in a row (a stop in between neither counts nor resets) → alarm
        for status in ("failed", "stopped", "failed", "failed"):
            run_id = start_run(engine, sim.account_uid, "devices")
            finish_run(engine, run_id, status=status, error=f"{status}: boom")
        report = collect_status(settings, engine, PAIR)
        devices = by_name(report)["devices"]
        assert report["ok"] is False and devices["failures_in_a_row"] == 3
        assert devices["problems"] == ["failed 3 times in a row (last: failed: boom)"]
        assert by_name(report)["sites"]["healthy"]
        console = Console(record=True, width=200)
        render_status(report, console)
        text = console.export_text()
        assert "ALERT" in text and "devices: failed 3 times in a row" in text

        assert run_sync(settings, ["devices"], engine=engine).ok  # a good run resets it
        report = collect_status(settings, engine, PAIR)
        assert report["ok"] is True and by_name(report)["devices"]["failures_in_a_row"] == 0

        # two hours later: devices (every 15 min, stale after 3 cadences) is stale, sites not
        now = datetime.fromisoformat(str(report["generated_at"]))
        later = collect_status(settings, engine, PAIR, now=now + timedelta(hours=2))
        assert later["ok"] is False
        assert "older than its limit of 45m" in by_name(later)["devices"]["problems"][0]
        assert by_name(later)["sites"]["healthy"] and by_name(later)["devices"]["overdue"]
