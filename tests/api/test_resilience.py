"""Faults, 429s and IP blocks against the simulator: nothing lost, nothing hammered."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import Engine, select

from datto_sim import Simulator
from datto_sim.alerts import book
from datto_sim.faults import injector
from datto_sim.ratelimit import limiter
from datto_sim.server import Request, Response, error
from etl.errors import IPBlockedError, NotFoundError, PermissionDeniedError
from etl.resources.alerts import alerts
from etl.resources.devices import devices
from etl.resources.sites import sites
from etl.sync import run_sync
from tests.conftest import client_for, settings_for, sim_env


def test_faults_leave_the_database_equal_to_the_account(engine: Engine, db_url: str) -> None:
    with Simulator(
        devices=700, sites=8, time_scale=60, fault_5xx=0.05, fault_drop=0.02, malformed_pages=1
    ) as sim:
        report = run_sync(settings_for(sim, db_url), ["sites", "devices"], engine=engine)
        assert report.ok, [r.error for r in report.resources]
        with engine.connect() as conn:
            got = {r.uid: (r.hostname, r.site_uid) for r in conn.execute(select(devices))}
            site_uids = set(conn.execute(select(sites.c.uid)).scalars())
        assert got == {u: (d["hostname"], d["siteUid"]) for u, d in sim.devices.items()}
        assert site_uids == set(sim.sites)
        with client_for(sim) as client:  # per-item calls come through the same faults
            answers = dict(client.get_many(f"/v2/device/{u}" for u in list(sim.devices)[:200]))
        assert all(isinstance(a, dict) for a in answers.values())
        faults = injector(sim).injected
        assert faults["malformed"] == 1 and faults["dropped"] and sum(faults.values()) > 5


def test_a_page_that_keeps_failing_fails_its_resource_only(engine: Engine, db_url: str) -> None:
    with Simulator(devices=300, sites=4, time_scale=60) as sim:
        settings = settings_for(sim, db_url)
        assert run_sync(settings, ["sites", "devices"], engine=engine).ok
        uids = list(sim.devices)
        first, last = uids[0], uids[-1]  # on page 0 and page 1
        sim.devices[first]["hostname"] = "CHANGED-0"
        sim.devices[last]["hostname"] = "CHANGED-1"

        def broken_devices(sim: Simulator, req: Request) -> Response | None:
            if req.endpoint == "GET /v2/account/devices" and req.query.get("page") == "1":
                return error(503, "Service Unavailable", req.path)
            return None

        sim.middlewares.append(broken_devices)
        settings = settings.model_copy(
            update={"datto": settings.datto.model_copy(update={"max_retries": 2})}
        )
        report = run_sync(settings, ["sites", "devices"], engine=engine)
        status = {r.resource: r.status for r in report.resources}
        assert status == {"sites": "ok", "devices": "failed"}
        with engine.connect() as conn:  # page 0 committed on its own; page 1 never came
            names = set(conn.execute(select(devices.c.hostname)).scalars())
        assert "CHANGED-0" in names and "CHANGED-1" not in names
        assert next(r for r in report.resources if r.resource == "devices").rows_written == 1


def test_missing_items_are_reported_and_the_rest_go_on(sim: Simulator) -> None:
    uids = list(sim.devices)[:20]
    with client_for(sim) as client:
        got = dict(client.get_many([f"/v2/device/{u}" for u in uids] + ["/v2/device/gone"]))
    assert isinstance(got.pop("/v2/device/gone"), NotFoundError)
    assert all(isinstance(v, dict) for v in got.values()) and len(got) == 20


@pytest.mark.parametrize("header", [False, True], ids=["no-retry-after", "retry-after"])
def test_a_forced_429_is_waited_out(header: bool) -> None:
    with Simulator(
        devices=30, sites=2, time_scale=60, force_429_at=(4,), retry_after_header=header
    ) as sim:
        with client_for(sim) as client:
            answers = dict(client.get_many(f"/v2/device/{u}" for u in sim.devices))
        assert all(isinstance(a, dict) for a in answers.values())
        assert sim.count(status=429) == 1 and sim.count(status=403) == 0
        hit = next(r for r in sim.records if r.status == 429)
        after = [r.time for r in sim.records if r.time > hit.time]
        wait = 1 if header else 60  # Retry-After (the window has room: 1 s) or Datto's 60 s
        # Requests already sent when the 429 came back still land; a loaded machine can let a
        # few more slip out before the client has read the 429, but never a full stream.
        in_flight = [t for t in after if t - hit.time < wait * 0.9]
        assert len(in_flight) <= 2 * client.concurrency and len(after) > len(in_flight)


def test_a_403_without_a_429_is_a_permissions_error(sim: Simulator) -> None:
    sim.middlewares.append(
        lambda s, req: (
            error(403, "Access denied", req.path) if req.endpoint == "GET /v2/account" else None
        )
    )
    with client_for(sim) as client, pytest.raises(PermissionDeniedError) as exc:
        client.get("/v2/account")
    assert "permission" in str(exc.value)


def test_an_ip_block_stops_the_run_and_the_next_run_makes_no_call(db_url: str) -> None:
    # a 30-minute block (30 real seconds): the second process must start within it, however
    # slowly a busy machine starts Python
    with Simulator(devices=40, sites=2, time_scale=60, force_block_at=4, block_seconds=1800) as sim:
        env = sim_env(sim, db_url)
        env["DATTO_ETL_BUDGET_BLOCK_SECONDS"] = "1800"  # API seconds, like the simulator's
        cmd = [sys.executable, "-m", "etl", "sync", "sites", "devices"]
        first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == 4, first.stderr
        assert "blocked this IP" in first.stderr and "Traceback" not in first.stderr
        assert sim.count(status=429) == 1 and sim.count(status=403) == 1  # no hammering
        seen = len(sim.records)
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 4 and "blocked this IP" in second.stderr
        assert len(sim.records) == seen  # not a single call within the block
        with client_for(sim) as client, pytest.raises(IPBlockedError):
            client.get("/v2/account")  # this process learns it from the same memory
        assert len(sim.records) == seen
        assert limiter(sim).blocks == 1


def test_flaky_resolved_alert_lists_lose_nothing(engine: Engine, db_url: str) -> None:
    with Simulator(
        devices=20, sites=2, time_scale=100, alerts_open=15, alerts_resolved=150,
        alert_page_max=20, resolved_alert_drop=0.3, resolved_alert_latency=2.0,
    ) as sim:  # fmt: skip
        report = run_sync(settings_for(sim, db_url), ["alerts"], engine=engine)
        assert report.ok, [r.error for r in report.resources]
        with engine.connect() as conn:
            stored = set(conn.execute(select(alerts.c.alert_uid)).scalars())
        assert stored == set(book(sim)) and injector(sim).injected["dropped"]
