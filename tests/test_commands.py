"""The operator's commands: check, plan, resources, simulator, sync --json / --full-refresh."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from datto_sim import Simulator
from datto_sim import audits as sim_audits
from etl.api.session import DattoSession
from etl.plan import make_plan
from etl.resources import REGISTRY
from etl.sync import run_sync
from tests.conftest import settings_for, sim_env
from tests.test_cli import run


def test_plan_is_within_ten_percent_of_the_sync_that_follows(engine: Engine, db_url: str) -> None:
    with Simulator(devices=200, sites=6, time_scale=60) as sim:
        # one request_rate look per sync, as on a short real one (the fast clock would
        # otherwise make a look due every quarter second)
        settings = settings_for(sim, db_url, calibrate_every_seconds=3600)
        assert run_sync(settings, engine=engine).ok
        chosen = [u for u, d in sim.devices.items() if d["deviceClass"] == "device"][:20]
        for uid in chosen:
            sim_audits.reaudit(sim, uid)
        with DattoSession(settings.datto, settings.budget) as session:
            plan = make_plan(settings, engine, session, None)
        real = run_sync(settings, engine=engine)
    assert real.ok
    by_name = {r.resource: r for r in plan.resources}
    assert by_name["device_audits"].now == 20
    assert abs(plan.total_now - real.requests) <= 0.1 * real.requests, (plan, real.requests)
    assert plan.plan_requests <= 12  # a few calls and the devices list, not a sync


def test_check_says_what_is_right_and_what_to_fix(tmp_path: Path) -> None:
    with Simulator(devices=20, sites=2) as sim:
        env = sim_env(sim, f"sqlite:///{tmp_path / 'etl.db'}")
        good = run(["check"], env, tmp_path)
        assert good.returncode == 0, good.stdout + good.stderr
        lines = good.stdout.splitlines()
        for what in ("config", "database", "credentials", "headroom", "clock"):
            assert any(ln.startswith(f"✓ {what}: ") for ln in lines), good.stdout
        env["DATTO_API_SECRET"] = "wrong-secret"
        env["DATTO_ETL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'nowhere' / 'x' / 'etl.db'}"
        os.chmod(tmp_path, 0o500)
        try:
            bad = run(["check"], env, tmp_path)
        finally:
            os.chmod(tmp_path, 0o700)
    assert bad.returncode == 1
    assert any(
        ln.startswith("✗ credentials: ") and "DATTO_API_SECRET" in ln
        for ln in bad.stdout.splitlines()
    ), bad.stdout
    if os.geteuid() != 0:  # root writes anywhere
        assert "✗ database: cannot create" in bad.stdout
    assert "wrong-secret" not in bad.stdout + bad.stderr


def test_check_names_a_config_mistake(tmp_path: Path) -> None:
    cfg = tmp_path / "datto-etl.toml"
    cfg.write_text("[budget]\nrequest_per_minute = 100\n")
    result = run(["--config", str(cfg), "check"], {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert result.returncode == 1
    assert "✗ config: config file" in result.stdout and "did you mean requests_per_minute?" in (
        result.stdout
    )


def test_resources_lists_every_resource_with_its_facts(tmp_path: Path) -> None:
    result = run(["resources", "--json"], {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert result.returncode == 0, result.stderr
    found = {r["resource"]: r for r in json.loads(result.stdout)}
    assert set(found) == set(REGISTRY)
    assert found["devices"]["depends_on"] == ["sites"] and found["devices"]["tables"] == ["devices"]
    assert found["alerts"]["lane"] == "high" and found["alerts"]["cost"]
    text = run(["resources"], {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert "device_audits" in text.stdout and "15 3 * * *" in text.stdout


def test_sync_json_and_full_refresh(tmp_path: Path) -> None:
    db = tmp_path / "etl.db"
    with Simulator(devices=30, sites=3) as sim:
        env = sim_env(sim, f"sqlite:///{db}")
        first = run(["sync", "--json", "activity_logs", "sites"], env, tmp_path)
        assert first.returncode == 0, first.stderr
        report = json.loads(first.stdout)
        assert report["ok"] is True and {r["resource"] for r in report["resources"]} == {
            "activity_logs",
            "sites",
        }
        with sqlite3.connect(db) as conn:
            kept = conn.execute("select count(*) from activity_logs").fetchone()[0]
            assert conn.execute(
                "select count(*) from sync_state where resource = 'activity_logs'"
            ).fetchone()[0]
        again = run(["sync", "--json", "--full-refresh", "activity_logs", "sites"], env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "activity_logs: cursor forgotten; reading everything again" in again.stderr
    details = next(
        r for r in json.loads(again.stdout)["resources"] if r["resource"] == "activity_logs"
    )
    assert details["rows_seen"] == kept  # read from the start again
    with sqlite3.connect(db) as conn:  # history kept
        assert conn.execute("select count(*) from activity_logs").fetchone()[0] == kept


def test_simulator_command_prints_what_to_export_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl", "simulator", "--devices", "12", "--sites", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        exports = dict(
            ln.removeprefix("export ").split("  #")[0].strip().split("=", 1)
            for ln in lines
            if ln.startswith("export ")
        )
        assert {"DATTO_API_URL", "DATTO_API_KEY", "DATTO_API_SECRET"} <= set(exports)
        env = {"PATH": "/usr/bin:/bin", **exports}
        env["DATTO_ETL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'etl.db'}"
        env["XDG_STATE_HOME"] = str(tmp_path / "state")
        synced = run(["sync", "sites", "devices"], env, tmp_path)
        assert synced.returncode == 0, synced.stderr
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
