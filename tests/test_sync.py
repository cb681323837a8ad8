"""run_sync as a whole: ordering, reports, and runs left behind by dead processes."""

from __future__ import annotations

import threading
from graphlib import CycleError
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from datto_sim import Simulator
from datto_sim.server import Request, Response, error
from etl.config import Settings
from etl.db.migrate import upgrade
from etl.db.state import ABANDONED, RunStatus, start_run, sync_runs
from etl.errors import ConfigError
from etl.resources import REGISTRY, Resource
from etl.resources.activity_logs import activity_logs
from etl.resources.alerts import alerts
from etl.resources.devices import devices
from etl.sync import ResourceReport, SyncReport, resolve_order, run_sync
from tests.conftest import settings_for


def test_dependencies_come_first() -> None:
    order = resolve_order(["devices", "sites"])
    assert order.index("sites") < order.index("devices")
    with pytest.raises(ConfigError):
        resolve_order(["sites", "nope"])


def test_a_dependency_cycle_is_a_bug_not_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Hen(Resource):
        name, depends_on, cost = "hen", ("egg",), "none"

    class Egg(Resource):
        name, depends_on, cost = "egg", ("hen",), "none"

    monkeypatch.setitem(REGISTRY, "hen", Hen())
    monkeypatch.setitem(REGISTRY, "egg", Egg())
    with pytest.raises(CycleError):
        resolve_order(["hen", "egg"])


def test_a_run_left_running_by_a_killed_sync_is_closed(engine: Engine) -> None:
    with Simulator(devices=20, sites=2) as sim:
        upgrade(engine)
        dead = start_run(engine, sim.account_uid, "devices")  # as a SIGKILLed sync leaves it
        report = run_sync(settings_for(sim), ["sites"], engine=engine)
    assert report.ok and [r.resource for r in report.resources] == ["sites"]
    with engine.connect() as conn:
        row = conn.execute(select(sync_runs).where(sync_runs.c.id == dead)).one()
        statuses = set(conn.execute(select(sync_runs.c.status)).scalars())
    assert row.status == "failed" and row.error == ABANDONED and row.finished_at is not None
    assert "running" not in statuses


def recorded(engine: Engine, line: ResourceReport) -> int:
    """``sync_runs.rows_written`` of the resource's latest run."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(sync_runs.c.rows_written)
                .where(sync_runs.c.resource == line.resource)
                .order_by(sync_runs.c.id.desc())
            ).first()[0]  # type: ignore[index]
        )


def no_retries(settings: Settings) -> Settings:
    datto = settings.datto.model_copy(update={"max_retries": 0})
    return settings.model_copy(update={"datto": datto})


def report_line(report: SyncReport, name: str) -> ResourceReport:
    return next(r for r in report.resources if r.resource == name)


def test_a_failed_run_reports_the_rows_it_committed(engine: Engine) -> None:
    with Simulator(devices=30, sites=2, time_scale=100) as sim:
        bad = next(u for u, d in sim.devices.items() if d["deviceClass"] == "device")
        sim.middlewares.append(
            lambda s, req: (
                error(500, "boom", req.path) if f"/audit/device/{bad}" in req.path else None
            )
        )
        settings = no_retries(settings_for(sim))
        report = run_sync(settings, ["sites", "devices", "device_audits"], engine=engine)
    audits = report_line(report, "device_audits")
    assert audits.status == RunStatus.FAILED and "1 of" in (audits.error or "")
    with engine.connect() as conn:  # the first run inserts every row it writes
        stored = sum(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in REGISTRY["device_audits"].tables
        )
    assert audits.rows_written == recorded(engine, audits) == stored > 0


def test_a_stopped_list_reports_the_pages_it_committed(engine: Engine) -> None:
    """Each page of a list commits on its own: a stop keeps and reports what was saved."""
    stop = threading.Event()

    def stop_at_second_page(sim: Simulator, req: Request) -> Response | None:
        if req.endpoint == "GET /v2/account/devices" and req.query.get("page") == "1":
            stop.set()  # as a SIGTERM while the page is in flight
        return None

    with Simulator(devices=300, sites=3, time_scale=100) as sim:
        sim.middlewares.append(stop_at_second_page)
        report = run_sync(settings_for(sim), ["sites", "devices"], engine=engine, stop=stop)
    line = report_line(report, "devices")
    assert line.status == RunStatus.STOPPED and line.pages == 1  # the page in flight is dropped
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(devices)).scalar_one()
    assert line.rows_written == recorded(engine, line) == stored == 250


def stored_rows(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def small_pages(settings: Settings, size: int) -> Settings:
    datto = settings.datto.model_copy(update={"page_size": size, "max_retries": 0})
    return settings.model_copy(update={"datto": datto})


def test_a_list_failing_mid_run_reports_the_pages_it_committed(engine: Engine) -> None:
    with Simulator(devices=300, sites=3, time_scale=100) as sim:
        sim.middlewares.append(
            lambda s, req: (
                error(500, "boom", req.path)
                if req.endpoint == "GET /v2/account/devices" and req.query.get("page") == "1"
                else None
            )
        )
        report = run_sync(no_retries(settings_for(sim)), ["sites", "devices"], engine=engine)
    line = report_line(report, "devices")
    assert line.status == RunStatus.FAILED and line.pages == 1
    assert line.rows_written == recorded(engine, line) == stored_rows(engine, devices) == 250


def nth_request(endpoint: str, n: int, then: Any) -> Any:
    """A middleware calling ``then(sim, req)`` on the ``n``-th request to ``endpoint``."""
    seen = [0]

    def middleware(sim: Simulator, req: Request) -> Response | None:
        if req.endpoint == endpoint:
            seen[0] += 1
            if seen[0] == n:
                return then(sim, req)
        return None

    return middleware


@pytest.mark.parametrize("how", ["stopped", "failed"])
def test_incremental_resources_report_what_they_committed_when_cut_short(
    engine: Engine, how: str
) -> None:
    """Activity logs and alerts commit page by page with their cursors: a stop or a failure
    on the third page reports (and records in sync_runs) the two pages it kept."""
    stop = threading.Event()

    def cut(sim: Simulator, req: Request) -> Response | None:
        if how == "stopped":
            stop.set()  # as a SIGTERM while the page is in flight
            return None
        return error(500, "boom", req.path)

    for name, endpoint, table in (
        ("activity_logs", "GET /v2/activity-logs", activity_logs),
        ("alerts", "GET /v2/account/alerts/resolved", alerts),
    ):
        stop.clear()
        with Simulator(devices=60, sites=3, time_scale=100) as sim:
            sim.middlewares.append(nth_request(endpoint, 3, cut))
            settings = small_pages(settings_for(sim), 5)
            report = run_sync(settings, [name], engine=engine, stop=stop)
        line = report_line(report, name)
        assert line.status == (RunStatus.STOPPED if how == "stopped" else RunStatus.FAILED)
        stored = stored_rows(engine, table)
        assert line.rows_written == recorded(engine, line) == stored > 0, name
