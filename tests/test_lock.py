"""The run lock: one sync per account across processes, never held by a dead process."""

from __future__ import annotations

import logging
import os
import signal
import socket
import stat
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
from etl.db.state import sync_runs
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


def test_one_sqlite_file_is_one_lock_whatever_the_state_dir(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'etl.db'}"
    proc = hold_elsewhere(db_url, tmp_path / "state-a")
    try:
        other = account(db_url, tmp_path / "state-b")  # its own state dir: own account lock
        with pytest.raises(RunLockedError) as exc, account_lock(other, wait=0.3):
            pass
        assert f"database {tmp_path / 'etl.db'}" in str(exc.value)
        assert f"pid {proc.pid}" in str(exc.value)
        with account_lock(account(f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "c"), wait=0):
            pass  # another file: another lock
    finally:
        proc.kill()
        proc.wait()
    with account_lock(other, wait=2):
        pass


def test_a_waiting_run_says_at_once_who_holds_the_lock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    proc = hold_elsewhere()
    try:
        with (
            caplog.at_level(logging.WARNING, "etl.lock"),
            pytest.raises(RunLockedError),
            account_lock(account(), wait=1.5),
        ):
            pass
    finally:
        proc.kill()
        proc.wait()
    [line] = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert line.startswith("waiting up to 1.5 s for the run lock of account http://127.0.0.1:9")
    assert f"held by pid {proc.pid} on {socket.gethostname()}, since " in line


def test_state_dir_and_lock_files_are_private(tmp_path: Path) -> None:
    state, db = tmp_path / "state", tmp_path / "etl.db"
    with account_lock(account(f"sqlite:///{db}", state), wait=0):
        files = [*state.iterdir(), *tmp_path.glob("etl.db.lock*")]
        modes = {p.name.split("-")[-1]: stat.S_IMODE(p.stat().st_mode) for p in files}
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert set(modes.values()) == {0o600} and len(modes) == 4, modes  # 2 locks + 2 holders


def test_two_syncs_into_one_file_with_two_state_dirs_take_turns(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    with Simulator(devices=900, sites=6, time_scale=30) as sim:
        cmd = [sys.executable, "-m", "etl", "sync", "sites", "devices"]
        procs = []
        for name in ("a", "b"):
            env = {
                **sim_env(sim, db_url),
                "DATTO_ETL_BUDGET_REQUESTS_PER_MINUTE": "12",
                "DATTO_ETL_BUDGET_STATE_DIR": str(tmp_path / name),
            }
            procs.append(
                subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            )
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [o[1][-400:] for o in outs]
    waited = [o[1].decode() for o in outs if b"waiting up to" in o[1]]
    assert len(waited) == 1, "one run waited, and said so"
    with engine.connect() as conn:
        runs = conn.execute(
            select(sync_runs.c.started_at, sync_runs.c.finished_at).order_by(sync_runs.c.id)
        ).all()
    assert len(runs) == 4
    assert runs[1].finished_at <= runs[2].started_at  # the second run began after the first
