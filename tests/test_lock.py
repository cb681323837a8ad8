"""The run lock: one sync per account across processes, never held by a dead process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select

from datto_sim import Simulator
from datto_sim.ratelimit import limiter
from etl.config import BudgetSettings, DatabaseSettings, DattoSettings, Settings
from etl.errors import RunLockedError
from etl.lock import account_lock
from etl.resources.devices import devices
from tests.conftest import sim_env

HOLDER = textwrap.dedent(
    """
    import sys, time
    from etl.config import load_settings
    from etl.lock import account_lock
    with account_lock(load_settings(env=dict(__import__("os").environ)), wait=0):
        print("held", flush=True)
        time.sleep(60)
    """
)


def account(db_url: str = "sqlite://", state: Path | None = None) -> Settings:
    return Settings(
        datto=DattoSettings(api_url="http://127.0.0.1:9", api_key=SecretStr("k")),
        database=DatabaseSettings(url=db_url),
        budget=BudgetSettings(state_dir=str(state) if state else ""),
    )


def hold_elsewhere(db_url: str = "sqlite://", state: Path | None = None) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATTO_API_URL": "http://127.0.0.1:9",
        "DATTO_API_KEY": "k",
        "DATTO_ETL_DATABASE_URL": db_url,
        "DATTO_ETL_BUDGET_STATE_DIR": str(state or ""),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_holder_is_told_who_runs(tmp_path: Path) -> None:
    proc = hold_elsewhere()
    try:
        with pytest.raises(RunLockedError) as exc, account_lock(account(), wait=0.3):
            pass
        assert f"pid {proc.pid}" in str(exc.value) and "since" in str(exc.value)
        assert exc.value.exit_code == 5
        with account_lock(account(state=tmp_path), wait=0):  # another state dir: other lock
            pass
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_holder_leaves_the_lock_free() -> None:
    proc = hold_elsewhere()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with account_lock(account(), wait=2) as me:
        assert me.pid == os.getpid()


def test_reentrant_within_a_process() -> None:
    with account_lock(account(), wait=0), account_lock(account(), wait=0):
        pass
    with account_lock(account(), wait=0):  # released after the outer one ended
        pass


def test_postgresql_lock_spans_state_dirs(pg_server_url: str, tmp_path: Path) -> None:
    db_url = pg_server_url  # the advisory lock is PostgreSQL's: no SQLite variant
    proc = hold_elsewhere(db_url, tmp_path / "machine-a")  # as if on another machine
    try:
        other = account(db_url, tmp_path / "machine-b")
        with pytest.raises(RunLockedError) as exc, account_lock(other, wait=0.5):
            pass
        assert f"pid {proc.pid}" in str(exc.value)
    finally:
        proc.kill()
        proc.wait()
    with account_lock(account(db_url, tmp_path / "machine-b"), wait=2):
        pass


def test_two_syncs_started_together_share_one_budget(engine: Engine, db_url: str) -> None:
    with Simulator(devices=900, sites=6, time_scale=30) as sim:
        env = {**sim_env(sim, db_url), "DATTO_ETL_BUDGET_REQUESTS_PER_MINUTE": "12"}
        cmd = [sys.executable, "-m", "etl", "sync", "sites", "devices"]
        procs = [
            subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [o[1][-400:] for o in outs]
        assert limiter(sim).max_in_window() <= 12  # both runs together: one budget
        assert sim.count(status=429) == 0
        with engine.connect() as conn:
            assert set(conn.execute(select(devices.c.uid)).scalars()) == set(sim.devices)
