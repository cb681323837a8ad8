"""The daemon: cadences, the dependency gate, and ``datto-etl run`` as a subprocess.

The subprocess tests run the real daemon against the simulator in this process, with
cadences in simulated minutes on a time scale of 60 (one minute lasts a second).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, inspect, select

from datto_sim import Simulator
from datto_sim import devices as sim_devices
from datto_sim.server import Request, Response, error
from etl.cadence import parse_cadence, schedule
from etl.config import load_settings
from etl.db.engine import make_engine
from etl.db.state import sync_runs
from etl.errors import ConfigError
from etl.resources import REGISTRY
from etl.resources.devices import devices
from etl.resources.sites import sites
from etl.scheduler import DependencyGate
from tests.conftest import sim_env
from tests.test_cli import run as cli

SCALE = 60.0  # cadences and the simulator: one simulated minute per real second
CADENCE_MINUTES = {"devices": 2, "sites": 3}  # every other resource: 3


def test_cadences() -> None:
    assert parse_cadence("every 5m").interval == 300
    assert parse_cadence("every 1h30m").interval == 5400
    assert parse_cadence("Every  90 seconds", time_scale=3).interval == 30
    nightly = parse_cadence("15 3 * * *")
    moment = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert nightly.period(moment) == 86400
    assert moment < nightly.next_after(moment) <= moment.replace(day=11, hour=12)
    settings = load_settings(env={"DATTO_ETL_SCHEDULE_TIME_SCALE": "60"})
    cadences = schedule(settings, list(REGISTRY))
    assert cadences["devices"].interval == 15  # the default 15 minutes, scaled
    assert all(c.interval or c.cron for c in cadences.values())


def test_bad_schedule_lists_every_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[schedule]\ndevices = "sometimes"\ngadgets = "every 1m"\nsites = "61 * * * *"\n'
    )
    with pytest.raises(ConfigError) as exc:
        schedule(load_settings(cfg, env={}), ["sites", "devices"])
    problems = exc.value.problems
    assert len(problems) == 3 and all("\n" not in p for p in problems)
    for needle in ("schedule.devices", "schedule.gadgets", "schedule.sites"):
        assert any(needle in p for p in problems), problems


def test_gate_keeps_dependencies_apart_and_in_order() -> None:
    gate = DependencyGate({"sites": (), "devices": ("sites",), "users": ()})
    stop = threading.Event()
    started = {n: threading.Event() for n in ("sites", "devices", "users")}
    release = threading.Event()
    order: list[str] = []

    def run(name: str) -> None:
        with gate.hold(name, stop) as go:
            assert go
            order.append(name)
            started[name].set()
            if name == "sites":
                release.wait(30)

    gate.expect("sites")  # submitted first, its thread not started yet
    threads = [threading.Thread(target=run, args=(n,)) for n in ("devices", "users")]
    for t in threads:
        t.start()
    assert started["users"].wait(30)  # unrelated: runs at once
    assert not started["devices"].wait(0.3)  # waits for the queued sites run
    sites_thread = threading.Thread(target=run, args=("sites",))
    sites_thread.start()
    assert started["sites"].wait(30)
    assert not started["devices"].is_set()  # not while sites runs either
    release.set()
    for t in [*threads, sites_thread]:
        t.join(30)
    assert order.index("sites") < order.index("devices")
    assert gate.wait_idle(1, threading.Event())


# -- the daemon as a subprocess -------------------------------------------------------------


def write_config(path: Path, **extra: object) -> Path:
    """A config with second-scale cadences for every registered resource."""
    lines = ["[schedule]", f"time_scale = {SCALE}"]
    lines += [f'{n} = "every {CADENCE_MINUTES.get(n, 3)}m"' for n in REGISTRY]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


class Daemon:
    """``python -m etl run`` in a subprocess, its stderr read as it comes."""

    def __init__(self, env: dict[str, str], config: Path, cwd: Path, *names: str) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "etl", "--config", str(config), "run", *names],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.signalled = False

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def said(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def signal(self) -> None:
        """SIGTERM (once)."""
        if not self.signalled and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.signalled = True

    def terminate(self) -> tuple[int, str, float]:
        """SIGTERM unless sent already; returns the exit code, stderr and seconds it lived."""
        self.signal()
        code = self.proc.wait(timeout=60)
        self.reader.join(10)
        return code, "\n".join(self.lines), time.monotonic() - self.started

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=60)
        self.reader.join(10)


@pytest.fixture
def daemon_env(tmp_path: Path) -> Callable[[Simulator, str], dict[str, str]]:
    """Environment for the daemon: the simulator, JSON log lines, a private state dir."""

    def make(sim: Simulator, db_url: str) -> dict[str, str]:
        env = sim_env(sim, db_url)
        env["DATTO_ETL_BUDGET_STATE_DIR"] = str(tmp_path / "state")
        env["DATTO_ETL_LOG_JSON_LINES"] = "true"
        return env

    return make


def runs(engine: Engine) -> list[Any]:
    """Every sync_runs row, oldest first ([] before the daemon made the tables)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(sync_runs.name):
            return []
        return list(conn.execute(select(sync_runs).order_by(sync_runs.c.id)))


def wait_for(check: Callable[[], bool], what: str, timeout: float = 120) -> None:
    """Poll ``check`` until it holds (the timeout only guards against a hang)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def ok_runs(engine: Engine, resource: str) -> int:
    return sum(1 for r in runs(engine) if r.resource == resource and r.status == "ok")


def has_device(engine: Engine, uid: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(devices.c.uid).where(devices.c.uid == uid)).first() is not None


def assert_tables_match(engine: Engine, sim: Simulator) -> None:
    """sites and devices equal the simulator's, one row per key."""
    with engine.connect() as conn:
        site_rows = {r.uid: r.name for r in conn.execute(select(sites.c.uid, sites.c.name))}
        device_rows = {
            r.uid: (r.hostname, r.site_uid, r.deleted)
            for r in conn.execute(
                select(devices.c.uid, devices.c.hostname, devices.c.site_uid, devices.c.deleted)
            )
        }
        assert conn.execute(select(func.count()).select_from(devices)).scalar_one() == len(
            device_rows
        )
    assert site_rows == {uid: s["name"] for uid, s in sim.sites.items()}
    assert device_rows == {
        uid: (d["hostname"], d["siteUid"], d["deleted"]) for uid, d in sim.devices.items()
    }


def assert_no_overlap(rows: list[Any], first: str, second: str) -> None:
    """No run of ``first`` overlaps one of ``second`` (the same name: no self-overlap)."""
    a = [r for r in rows if r.resource == first]
    b = [r for r in rows if r.resource == second]
    for x in a:
        for y in b:
            if x.id != y.id:
                assert x.finished_at <= y.started_at or y.finished_at <= x.started_at, (x, y)


def test_daemon_keeps_the_database_fresh(db_url: str, tmp_path: Path, daemon_env: Any) -> None:
    with Simulator(devices=150, sites=6, time_scale=SCALE) as sim:
        env = daemon_env(sim, db_url)
        engine = make_engine(db_url)
        daemon = Daemon(env, write_config(tmp_path / "c.toml"), tmp_path)
        try:
            wait_for(lambda: ok_runs(engine, "devices") >= 1, "a first devices run")
            added = sim_devices.add_device(sim)
            wait_for(lambda: has_device(engine, added["uid"]), "the daemon to find a new device")
            sim_devices.delete_device(sim, next(iter(sim.devices)))
            added = sim_devices.add_device(sim)
            wait_for(
                lambda: (
                    has_device(engine, added["uid"])
                    and all(ok_runs(engine, n) >= 3 for n in REGISTRY)
                ),
                "three good runs of every resource",
            )
        finally:
            code, err, lived = daemon.terminate()
        assert code == 0, err
        assert "Traceback" not in err
        rows = runs(engine)
        assert rows and all(r.status in ("ok", "stopped") for r in rows), rows
        for name in REGISTRY:
            mine = [r for r in rows if r.resource == name]
            interval = CADENCE_MINUTES.get(name, 3) * 60 / SCALE
            assert len(mine) <= lived / interval + 2, (name, len(mine), lived)
            assert_no_overlap(rows, name, name)
            for dep in REGISTRY[name].depends_on:
                assert_no_overlap(rows, name, dep)
        # one structured log line per run per resource
        lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        logged = [x for x in lines if x.get("logger") == "etl.sync" and "rows_written" in x]
        assert sorted((x["resource"], x["status"]) for x in logged) == sorted(
            (r.resource, r.status) for r in rows
        )

        final = cli(["sync"], env, tmp_path)
        assert final.returncode == 0, final.stderr
        assert_tables_match(engine, sim)
        status = cli(["status", "--json"], env, tmp_path)
        assert status.returncode == 0, status.stdout + status.stderr
        report = json.loads(status.stdout)
        [account] = report["accounts"]
        assert account["account_uid"] == sim.account_uid
        assert {r["resource"] for r in account["resources"]} == set(REGISTRY)
        assert account["budget"]["last_hour"] >= sum(r.requests_made for r in rows)
        engine.dispose()


def test_sigkill_then_restart_then_sigterm_mid_run(tmp_path: Path, daemon_env: Any) -> None:
    db_url = f"sqlite:///{tmp_path / 'etl.db'}"
    armed, held, release = threading.Event(), threading.Event(), threading.Event()

    def hold_page_two(_sim: Simulator, req: Request) -> Response | None:
        """Once armed, hold the answer to page 2 of the device list: a run is mid-way."""
        page_two = req.endpoint == "GET /v2/account/devices" and req.query.get("page") == "2"
        if page_two and armed.is_set():
            armed.clear()
            held.set()
            release.wait(60)
        return None

    def mid_run() -> None:
        held.clear()
        release.clear()
        armed.set()
        wait_for(held.is_set, "a devices run to reach page 2")

    with Simulator(devices=300, sites=6, time_scale=SCALE) as sim:
        sim.middlewares.insert(0, hold_page_two)
        env = {**daemon_env(sim, db_url), "DATTO_ETL_DATTO_PAGE_SIZE": "50"}
        engine = make_engine(db_url)
        config = write_config(tmp_path / "c.toml")
        first = Daemon(env, config, tmp_path, "sites", "devices")
        try:
            wait_for(lambda: ok_runs(engine, "devices") >= 1, "a first devices run")
            sim_devices.add_device(sim)
            mid_run()
        finally:
            first.kill()
            release.set()
        killed = [r.id for r in runs(engine) if r.status == "running"]
        assert killed

        added = sim_devices.add_device(sim)
        second = Daemon(env, config, tmp_path, "sites", "devices")
        try:
            wait_for(lambda: has_device(engine, added["uid"]), "the restarted daemon's sync")
            assert_tables_match(engine, sim)  # nothing lost, nothing twice, no manual sync
            sim_devices.add_device(sim)
            mid_run()
            second.signal()
            wait_for(lambda: second.said("SIGTERM received"), "the daemon to see the signal")
        finally:
            release.set()
            code, err, _ = second.terminate()
        assert code == 0, err
        rows = runs(engine)
        assert not [r for r in rows if r.status == "running"]
        assert [(r.status, r.error[:9]) for r in rows if r.id in killed] == [
            ("failed", "abandoned")
        ]
        last = [r for r in rows if r.resource == "devices"][-1]
        assert (last.status, last.error) == ("stopped", "stopped by signal")
        final = cli(["sync", "sites", "devices"], env, tmp_path)
        assert final.returncode == 0, final.stderr
        assert_tables_match(engine, sim)
        engine.dispose()


def test_failing_resource_alarms_while_the_others_run(tmp_path: Path, daemon_env: Any) -> None:
    db_url = f"sqlite:///{tmp_path / 'etl.db'}"

    def devices_fail(_sim: Simulator, req: Request) -> Response | None:
        return error(500, "boom", req.path) if req.endpoint == "GET /v2/account/devices" else None

    with Simulator(devices=100, sites=5, time_scale=SCALE) as sim:
        sim.middlewares.insert(0, devices_fail)
        env = {**daemon_env(sim, db_url), "DATTO_ETL_DATTO_MAX_RETRIES": "0"}
        engine = make_engine(db_url)
        daemon = Daemon(env, write_config(tmp_path / "c.toml", max_failures=2), tmp_path)

        def failing_while_sites_go_on() -> bool:
            rows = runs(engine)
            failed = [r.id for r in rows if r.resource == "devices" and r.status == "failed"]
            later = [r for r in rows if r.resource == "sites" and r.status == "ok"]
            return len(failed) >= 2 and any(r.id > failed[0] for r in later)

        try:
            wait_for(failing_while_sites_go_on, "devices failing twice while sites go on")
            env["DATTO_ETL_CONFIG"] = str(tmp_path / "c.toml")  # max_failures = 2
            status = cli(["status", "--json"], env, tmp_path)
            human = cli(["status"], env, tmp_path)
        finally:
            code, err, _ = daemon.terminate()
        assert code == 0, err
        assert status.returncode == 1, status.stderr
        report = {r["resource"]: r for r in json.loads(status.stdout)["accounts"][0]["resources"]}
        assert set(report) == set(REGISTRY)
        assert not report["devices"]["healthy"] and report["devices"]["failures_in_a_row"] >= 2
        assert any("500" in p for p in report["devices"]["problems"])
        assert report["sites"]["healthy"] and report["sites"]["last_run"]["status"] == "ok"
        assert human.returncode == 1 and "devices: failed" in human.stdout
        engine.dispose()
