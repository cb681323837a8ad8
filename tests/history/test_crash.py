"""A sync killed (SIGKILL) at random moments, then run again: no duplicate, overlapping or
missing version, and the history agrees with the mirror written beside it.

The sync is a real ``datto-etl sync`` subprocess against the simulator; lists come in small
pages so that a kill lands between many page and batch transactions.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, func, select

from datto_sim import Simulator
from datto_sim import audits as sim_audits
from datto_sim import devices as sim_devices
from etl.db.state import ABANDONED, sync_runs
from tests.conftest import sim_env
from tests.history.model import consistent
from tests.resources.helpers import small_sim

NAMES = ["sites", "devices", "device_software"]
ROUNDS = 5


def started(engine: Engine, resource: str, since: int) -> bool:
    """Whether a run of ``resource`` newer than run id ``since`` has begun."""
    query = select(func.count()).where(sync_runs.c.resource == resource, sync_runs.c.id > since)
    with engine.connect() as conn:
        return bool(conn.execute(query).scalar())


def last_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(sync_runs.c.id), 0))).scalar_one())


def change(sim: Simulator, rng: random.Random) -> None:
    """A day's worth of changes: hostnames, patch states, re-audits, a deletion, a rename."""
    live = [u for u, d in sim.devices.items() if not d["deleted"]]
    agents = [u for u in live if sim.devices[u]["deviceClass"] == "device"]
    with sim.lock:
        for uid in rng.sample(live, 10):
            sim.devices[uid]["hostname"] = f"HOST-{rng.randrange(10**6)}"
        for uid in rng.sample(agents, 20):
            sim.devices[uid]["patchManagement"]["patchStatus"] = rng.choice(
                ["FullyPatched", "NoData"]
            )
        site = rng.choice(
            [s for s in sim.sites.values() if s["name"] not in sim_devices.SYSTEM_SITES]
        )
        site["name"] = f"Customer {rng.randrange(10**6)}"
    for uid in rng.sample(agents, len(agents) // 3):
        sim_audits.reaudit(sim, uid)
    sim_devices.delete_device(sim, rng.choice(live))


def test_killed_syncs_leave_whole_versions(engine: Engine, db_url: str, tmp_path: Path) -> None:
    rng = random.Random(20261202)
    env_extra = {"DATTO_ETL_DATTO_PAGE_SIZE": "25"}  # many small transactions to land between
    killed = 0
    with small_sim(devices=300, sites=6, seed=5) as sim:
        env = {**sim_env(sim, db_url), **env_extra}
        cmd = [sys.executable, "-m", "etl", "sync", *NAMES]
        for round_ in range(ROUNDS):
            if round_:
                change(sim, rng)
            since = last_id(engine) if round_ else 0
            target = rng.choice(NAMES)
            proc = subprocess.Popen(
                cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            try:
                deadline = time.monotonic() + 120  # only guards against a hang
                # the first sync (empty database) at any moment; later ones inside a resource
                while round_ and proc.poll() is None and not started(engine, target, since):
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.5, 3.0) if not round_ else 0.0)
                time.sleep(rng.uniform(0.0, 0.8))
                killed += proc.poll() is None
                proc.kill()  # SIGKILL: no handler runs, no rollback but the database's own
            finally:
                proc.kill()
                proc.wait()
            rerun = subprocess.run(
                cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
            )
            assert rerun.returncode == 0, rerun.stdout + rerun.stderr
            consistent(engine)
    with engine.connect() as conn:
        abandoned = conn.execute(
            select(func.count()).where(sync_runs.c.error == ABANDONED)
        ).scalar()
    assert killed >= 3 and abandoned, (killed, abandoned)  # the kills landed mid-sync
