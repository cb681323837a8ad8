"""Every request bounded (etl/api/transport.py): a total deadline against a trickling server,
a size cap against an oversize body; the simulator's hostile knobs over real HTTP."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from datto_sim import Simulator
from etl.config import Settings
from etl.sync import SyncReport, run_sync
from tests.conftest import settings_for, sim_env
from tests.resources.helpers import line, small_sim

SITES = "GET /v2/account/sites"
DEVICES = "GET /v2/account/devices"


def with_datto(settings: Settings, **datto: Any) -> Settings:
    """``settings`` with some datto settings changed."""
    return settings.model_copy(update={"datto": settings.datto.model_copy(update=datto)})


def sync_in_thread(settings: Settings, names: list[str], engine: Engine) -> SyncReport:
    """Run a sync in a thread; the join only guards the test against a hang (the failure
    this file is about), it times nothing."""
    out: list[SyncReport] = []
    thread = threading.Thread(target=lambda: out.append(run_sync(settings, names, engine=engine)))
    thread.start()
    thread.join(300)
    assert not thread.is_alive(), "the sync never ended"
    return out[0]


def test_a_trickling_server_ends_within_the_deadline(engine: Engine, db_url: str) -> None:
    # one byte per real second (the clock runs 100 times fast): the read timeout never fires
    with small_sim(trickle=(SITES,), trickle_seconds=100.0) as sim:
        settings = with_datto(
            settings_for(sim, db_url), timeout_seconds=5.0, request_deadline_seconds=1.5
        )
        settings = with_datto(settings, max_retries=1)
        report = sync_in_thread(settings, ["sites", "users"], engine)
        sites = line(report, "sites")
        assert sites.status == "failed"
        assert sites.error is not None and "within 1.5 s" in sites.error
        assert "datto.request_deadline_seconds" in sites.error
        assert sim.count(SITES) == 2  # retried like a timeout, then given up
        assert line(report, "users").status == "ok"  # the other resources go on


def test_the_default_deadline_follows_the_timeout() -> None:
    settings = Settings()
    assert settings.datto.deadline_seconds == 3 * settings.datto.timeout_seconds
    fast = settings.datto.model_copy(update={"timeout_seconds": 2.0})
    assert fast.deadline_seconds == 6.0


def test_a_page_far_past_max_is_refused_for_its_resource_only(engine: Engine, db_url: str) -> None:
    # a 10 MB page: well under the size cap, but some 1,700 items where 250 were asked
    with small_sim(oversize=(DEVICES,), oversize_mb=10) as sim:
        report = run_sync(settings_for(sim, db_url), ["sites", "devices", "users"], engine=engine)
        devices = line(report, "devices")
        assert devices.status == "failed" and devices.error is not None
        assert "items where max=250 was asked" in devices.error
        assert sim.count(DEVICES) == 1  # not retried: the same page would come again
        assert line(report, "sites").status == "ok" and line(report, "users").status == "ok"


RSS_BOUND_MB = 250  # a 100 MB page took 890 MB of peak RSS before the cap


def test_a_100_mb_page_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    db = tmp_path / "etl.db"
    with Simulator(
        devices=40, sites=4, time_scale=100, oversize=(DEVICES,), oversize_mb=100
    ) as sim:
        env = sim_env(sim, f"sqlite:///{db}")
        # the CLI in its own process, which reports its peak resident memory on the way out
        code = (
            "import resource, runpy, sys\n"
            "sys.argv = ['datto-etl', 'sync', 'sites', 'devices']\n"
            "try:\n"
            "    runpy.run_module('etl', run_name='__main__')\n"
            "finally:\n"
            "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
            "    print(f'peak-rss-mb {peak}', file=sys.stderr)\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert sim.count(DEVICES) == 1
    peak = int(proc.stderr.rsplit("peak-rss-mb ", 1)[1].split()[0])
    print(f"peak RSS of a sync meeting a 100 MB page: {peak} MB (bound {RSS_BOUND_MB} MB)")
    assert peak < RSS_BOUND_MB
    assert proc.returncode == 1, proc.stdout + proc.stderr  # failed, not crashed (70)
    assert "more than 64 MB" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
