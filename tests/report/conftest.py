"""A small synced account on SQLite, shared by the report tests of a module (one sync)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from datto_sim import Simulator
from etl.db.engine import make_engine
from etl.sync import run_sync
from tests.conftest import settings_for
from tests.resources.helpers import small_sim

RESOURCES = ["account", "sites", "devices", "alerts", "device_audits", "device_software"]
HOSTILE = '<img src=x onerror="alert(1)"> & Co'  # a site name and a hostname from the API


@dataclass(frozen=True)
class Synced:
    """The database file and the (stopped) simulator it was synced from."""

    db: Path
    sim: Simulator

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db}"


def synced_account(where: Path, *, hostile: bool = True, **knobs: object) -> Synced:
    """Sync a small account to SQLite; with ``hostile``, one customer site and one of its
    devices carry markup in their names (the report must show it as text)."""
    db = where / "etl.db"
    with small_sim(**{"devices": 80, "sites": 6, "seed": 21, **knobs}) as sim:
        if hostile:
            site = next(s for s in sim.sites.values() if s["name"] not in ("Managed", "OnDemand"))
            site["name"] = HOSTILE
            device = next(d for d in sim.devices.values() if d["siteUid"] == site["uid"])
            device["hostname"] = HOSTILE
        engine = make_engine(f"sqlite:///{db}")
        report = run_sync(
            settings_for(sim, f"sqlite:///{db}", state_dir=str(where)), RESOURCES, engine=engine
        )
        engine.dispose()
    assert report.ok
    return Synced(db, sim)


@pytest.fixture(scope="module")
def synced_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """One synced account per test module."""
    yield synced_account(tmp_path_factory.mktemp("report"))
