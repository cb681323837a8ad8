"""run_sync as a whole: ordering, reports, and runs left behind by dead processes."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from datto_sim import Simulator
from etl.db.migrate import upgrade
from etl.db.state import ABANDONED, start_run, sync_runs
from etl.errors import ConfigError
from etl.sync import resolve_order, run_sync
from tests.conftest import settings_for


def test_dependencies_come_first() -> None:
    order = resolve_order(["devices", "sites"])
    assert order.index("sites") < order.index("devices")
    with pytest.raises(ConfigError):
        resolve_order(["sites", "nope"])


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
