"""``datto-etl demo``: the bundled simulator, a full sync into SQLite, then an incremental one."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from datto_sim import Simulator
from datto_sim import alerts as sim_alerts
from datto_sim import devices as sim_devices
from etl.config import BudgetSettings, DatabaseSettings, DattoSettings, Settings
from etl.db.engine import make_engine
from etl.sync import SyncReport, run_sync

DEMO_TIME_SCALE = 60.0  # one simulated minute per real second: the budget window shrinks alike


def demo_settings(sim: Simulator, db_url: str = "sqlite://", **budget: Any) -> Settings:
    """Settings pointing at the simulator; the budget learns its (scaled) window from it.

    ``budget`` overrides budget settings, e.g. a throwaway ``state_dir`` (budget memory, run
    lock) for benchmarks and tests instead of the user's.
    """
    return Settings(
        datto=DattoSettings(
            api_url=sim.url,
            api_key=SecretStr(sim.settings.api_key),
            api_secret=SecretStr(sim.settings.api_secret),
        ),
        database=DatabaseSettings(url=db_url),
        # no window: the budget follows the one the simulator reports in request_rate
        budget=BudgetSettings(**budget),
    )


def report_path(db: Path) -> Path:
    """Where the demo writes its HTML report: ``demo-report.html`` beside the database."""
    return db.with_name("demo-report.html")


def run_demo(
    db: Path,
    *,
    devices: int = 2200,
    sites: int = 60,
    show: Callable[..., Any] | None = None,
) -> tuple[SyncReport, SyncReport]:
    """Sync a fresh simulated account twice (full, then incremental), write the HTML report
    (:func:`report_path`); return both sync reports."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with (
        Simulator(devices=devices, sites=sites, time_scale=DEMO_TIME_SCALE) as sim,
        tempfile.TemporaryDirectory(prefix="datto-etl-demo-") as state,
    ):
        # The simulator's account is new every time: its budget memory and run lock go in a
        # throwaway state dir, not the user's.
        settings = demo_settings(sim, f"sqlite:///{db}", state_dir=state)
        engine = make_engine(settings.database.url)
        try:
            first = run_sync(settings, engine=engine)
            if show:
                show(first, None, title="first sync (full)")
            sim_devices.add_device(sim)  # a little change for the incremental run to find
            sim_alerts.add_alert(sim)
            oldest_open = sim_alerts.book(sim).listed(resolved=False)[-1]
            sim_alerts.resolve_alert(sim, oldest_open["alertUid"])  # open for weeks, resolved
            second = run_sync(settings, engine=engine)
            if show:
                show(second, engine, title="second sync (incremental)")
            from etl.report.render import write_report  # plotly loads only when it is used

            write_report(engine, report_path(db))
        finally:
            engine.dispose()
    return first, second
