"""Small helpers for the resource tests: a quick small account, rows by key, request paths."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Table, select

from datto_sim import Simulator
from etl.config import Settings
from etl.sync import SyncReport, run_sync
from tests.conftest import settings_for

FAST = 100.0  # simulated seconds per real second: the account's rate limit never paces a test


def small_sim(**knobs: Any) -> Simulator:
    """A small account (4 customer sites, 40 devices) on a fast clock, started."""
    return Simulator(**{"devices": 40, "sites": 4, "time_scale": FAST, **knobs}).start()


def sync(
    sim: Simulator, engine: Engine, names: list[str], settings: Settings | None = None
) -> SyncReport:
    """Run ``names`` (in dependency order) against ``sim``."""
    return run_sync(settings or settings_for(sim), names, engine=engine)


def rows(engine: Engine, table: Table, *where: Any) -> list[Any]:
    """Every row of ``table`` (optionally filtered)."""
    with engine.connect() as conn:
        return list(conn.execute(select(table).where(*where)))


def paths(sim: Simulator, endpoint: str) -> list[str]:
    """Paths of the requests the simulator answered on one route pattern."""
    with sim.lock:
        return [r.path for r in sim.records if r.endpoint == endpoint]


def line(report: SyncReport, name: str) -> Any:
    """The report line of one resource."""
    return next(r for r in report.resources if r.resource == name)
