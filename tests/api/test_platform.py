"""The platform version recorded with each run (``GET /v2/system/status``, issue 13)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from datto_sim import account as sim_account
from datto_sim.server import error
from etl.db.state import sync_runs
from tests.resources.helpers import small_sim, sync

STATUS = "GET /v2/system/status"


def versions(engine: Engine) -> list[str | None]:
    """``platform_version`` of every run, oldest first."""
    with engine.connect() as conn:
        found = conn.execute(select(sync_runs.c.details).order_by(sync_runs.c.id)).scalars()
        return [(d or {}).get("platform_version") for d in found]


def test_each_run_records_the_platform_version_asked_once_per_sync(engine: Engine) -> None:
    with small_sim(devices=10, sites=1) as sim:
        assert sync(sim, engine, ["sites", "users"]).ok
        assert sim.count(STATUS) == 1  # once per sync, whatever the number of resources
        assert versions(engine) == [sim.settings.platform_version] * 2
        sim_account.upgrade_platform(sim, "2.0.1-sim.2")
        assert sync(sim, engine, ["sites"]).ok
        assert versions(engine)[-1] == "2.0.1-sim.2"


def test_an_unreadable_status_never_fails_a_run(engine: Engine) -> None:
    with small_sim(devices=10, sites=1) as sim:
        sim.middlewares.append(
            lambda s, req: error(404, "gone", req.path) if req.path.endswith("/status") else None
        )
        report = sync(sim, engine, ["sites"])
        assert report.ok and versions(engine) == [None]
