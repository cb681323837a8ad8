"""The command line as a user meets it: subprocesses against the simulator."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from datto_sim import Simulator
from etl import __version__
from tests.conftest import sim_env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "etl", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_help_and_version(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin"}
    assert __version__ in run(["--version"], env, tmp_path).stdout
    helped = run(["--help"], env, tmp_path)
    assert helped.returncode == 0
    for command in ("sync", "demo", "db"):
        assert command in helped.stdout


def test_sync_then_bad_credentials(tmp_path: Path) -> None:
    db = tmp_path / "etl.db"
    with Simulator(devices=300, sites=10) as sim:
        env = sim_env(sim, f"sqlite:///{db}")
        env["DATTO_ETL_SYNC_RESOURCES"] = "sites,devices"  # the rest adds time, not coverage
        first = run(["sync"], env, tmp_path)
        assert first.returncode == 0, first.stderr
        assert "devices" in first.stdout
        tokens = list(sim.tokens)
        secret = "Wr0ng-Secret-123"
        env["DATTO_API_SECRET"] = secret
        env["DATTO_ETL_LOG_LEVEL"] = "DEBUG"
        bad = run(["sync"], env, tmp_path)
    assert bad.returncode == 3
    lines = [line for line in bad.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: ") and "credentials" in lines[-1]
    assert "DATTO_API_KEY" in lines[-1] and "DATTO_API_SECRET" in lines[-1]
    assert "Traceback" not in bad.stderr + bad.stdout
    everything = (first.stdout + first.stderr + bad.stdout + bad.stderr).encode()
    dump = b"".join(p.read_bytes() for p in db.parent.glob("etl.db*"))
    with sqlite3.connect(db) as conn:
        dump += "\n".join(conn.iterdump()).encode()
    for needle in [secret, sim.settings.api_secret, *tokens]:
        assert needle.encode() not in everything
        assert needle.encode() not in dump
    with sqlite3.connect(db) as conn:  # the data of the first sync is still there
        assert conn.execute("select count(*) from devices").fetchone()[0] == 300


def test_bad_config_lists_every_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[datto]\nplatform = "nowhere"\n[budget]\nconcurrency = 0\n')
    env = {"PATH": "/usr/bin:/bin", "DATTO_ETL_DATABASE_URL": "sqlite:///x.db"}
    result = run(["--config", str(cfg), "sync"], env, tmp_path)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("config error:")]
    assert len(errors) == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_missing_credentials_and_bad_database_url(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATTO_PLATFORM": "merlot"}
    result = run(["sync"], env, tmp_path)
    assert result.returncode == 2
    assert "DATTO_API_KEY" in result.stderr and "DATTO_API_SECRET" in result.stderr
    env.update(DATTO_API_KEY="k", DATTO_API_SECRET="s", DATTO_ETL_DATABASE_URL="mysql:/x")
    result = run(["db", "upgrade"], env, tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_unknown_resource(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DATTO_PLATFORM": "merlot",
        "DATTO_API_KEY": "k",
        "DATTO_API_SECRET": "s",
    }
    result = run(["sync", "gadgets"], env, tmp_path)
    assert result.returncode == 2 and "gadgets" in result.stderr


def test_db_upgrade(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATTO_ETL_DATABASE_URL": f"sqlite:///{tmp_path / 'u.db'}"}
    result = run(["db", "upgrade"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "u.db") as conn:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    assert {"sites", "devices", "sync_runs", "sync_state", "alembic_version"} <= names


def test_demo(tmp_path: Path) -> None:
    result = run(["demo", "--devices", "400", "--sites", "12"], {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "requests used" in result.stdout and "rows per table" in result.stdout
    with sqlite3.connect(tmp_path / "demo.db") as conn:
        assert conn.execute("select count(*) from devices").fetchone()[0] == 401


def sync_run_status(db: Path, resource: str) -> str | None:
    """The status of the last sync_runs row of ``resource`` (None before there is one)."""
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute(
                "select status from sync_runs where resource = ? order by id desc", (resource,)
            ).fetchone()
    except sqlite3.OperationalError:  # no table yet
        return None
    return row[0] if row else None


def sync_sites_until_running(env: dict[str, str], db: Path, cwd: Path) -> subprocess.Popen[str]:
    """``datto-etl sync sites`` as a subprocess, returned once its run is recorded running."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl", "sync", "sites"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60  # only guards against a hang
    while sync_run_status(db, "sites") != "running" and proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the sites run never started")
        time.sleep(0.05)
    return proc


def test_a_signal_ends_a_sync_waiting_for_the_budget(tmp_path: Path) -> None:
    db = tmp_path / "etl.db"
    # an account whose request_rate reports an hour's window: three requests an hour (the
    # token, the first look and the account) fill it
    with Simulator(devices=20, sites=2, rate_window=3600) as sim:
        env = sim_env(sim, f"sqlite:///{db}")
        env["DATTO_ETL_BUDGET_REQUESTS_PER_MINUTE"] = "3"
        proc = sync_sites_until_running(env, db, tmp_path)
        try:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)  # the budget wait itself is an hour
        finally:
            proc.kill()
        assert sim.count("GET /v2/account/sites") == 0
    assert proc.returncode != 0, out + err  # not ok: the run was stopped
    assert "Traceback" not in err
    assert sync_run_status(db, "sites") == "stopped"
    assert "stopped by signal" in out


def test_dash_h_and_debug_with_a_value_are_accepted(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin"}
    for args in (["-h"], ["sync", "-h"], ["--debug", "true", "--version"], ["--debug=False", "-h"]):
        result = run(args, env, tmp_path)
        assert result.returncode == 0, (args, result.stderr)
        assert "Usage" in result.stdout or __version__ in result.stdout


def test_debug_logs_each_request_without_the_token(tmp_path: Path) -> None:
    with Simulator(devices=10, sites=2) as sim:
        env = sim_env(sim, f"sqlite:///{tmp_path / 'etl.db'}")
        result = run(["--debug", "true", "sync", "sites"], env, tmp_path)
        tokens = list(sim.tokens)
    assert result.returncode == 0, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if "etl.api.http:" in ln]
    assert any(" POST /auth/oauth/token 200 " in ln and ln.endswith(" ms") for ln in lines)
    assert any(" GET /api/v2/account/sites 200 " in ln for ln in lines), lines
    for secret in [sim.settings.api_secret, *tokens]:
        assert secret not in result.stderr + result.stdout


def test_quiet_and_verbose(tmp_path: Path) -> None:
    with Simulator(devices=10, sites=2) as sim:
        env = sim_env(sim, f"sqlite:///{tmp_path / 'etl.db'}")
        quiet = run(["-q", "sync", "sites"], env, tmp_path)
        verbose = run(["-v", "sync", "sites"], env, tmp_path)
    assert quiet.returncode == 0 and verbose.returncode == 0, quiet.stderr + verbose.stderr
    assert " INFO " not in quiet.stderr and " DEBUG " not in quiet.stderr
    assert "etl.api.http: GET /api/v2/account/sites 200 " in verbose.stderr


def test_an_infinite_window_is_a_config_error_for_status_too(tmp_path: Path) -> None:
    """It used to be accepted, and `status` crashed on it."""
    env = {"PATH": "/usr/bin:/bin", "DATTO_ETL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    cfg = tmp_path / "datto-etl.toml"
    cfg.write_text("[budget]\nwindow_seconds = inf\n")
    for command in (["status"], ["sync"]):
        done = run([*command], {**env, "DATTO_ETL_CONFIG": str(cfg)}, tmp_path)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert any("budget.window_seconds" in x and str(cfg) in x for x in lines), lines
        assert "Traceback" not in done.stderr
