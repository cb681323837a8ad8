"""Removed sites and devices: ``removed_at`` only once removal is confirmed; cleared on return."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from datto_sim import Simulator
from datto_sim import devices as sim_devices
from datto_sim import sites as sim_sites
from etl.resources.devices import devices
from etl.resources.sites import sites
from tests.resources.helpers import line, paths, rows, small_sim, sync

PAIR = ["sites", "devices"]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with small_sim() as s:
        yield s


def removed_at(engine: Engine, table: object, uid: str) -> object:
    (row,) = rows(engine, table, table.c.uid == uid)  # type: ignore[attr-defined]
    return row.removed_at


def live(sim: Simulator) -> list[str]:
    return [u for u, d in sim.devices.items() if not d["deleted"]]


def test_a_device_missing_from_the_lists_is_not_removed(sim: Simulator, engine: Engine) -> None:
    assert sync(sim, engine, PAIR).ok
    uid = live(sim)[0]
    sim_devices.hide_device(sim, uid)  # pages shifted: neither list shows it
    sim.devices[uid]["hostname"] = "RENAMED-01"
    sim.reset_records()
    report = sync(sim, engine, PAIR)
    assert report.ok
    assert paths(sim, "GET /v2/device/{uid}") == [f"/api/v2/device/{uid}"]  # asked, once
    assert removed_at(engine, devices, uid) is None
    (row,) = rows(engine, devices, devices.c.uid == uid)
    assert row.hostname == "RENAMED-01"  # refreshed from the single answer
    assert line(report, "devices").details["missing_from_sweep"] == 1


def test_purged_and_deleted_devices_are_removed_then_cleared(
    sim: Simulator, engine: Engine
) -> None:
    assert sync(sim, engine, PAIR).ok
    purged, deleted = live(sim)[:2]
    purged_item = sim.devices[purged]
    sim_devices.purge_device(sim, purged)  # GET /v2/device/{uid} answers 404
    sim_devices.delete_device(sim, deleted)  # moved to "Deleted Devices", deleted: true
    report = sync(sim, engine, PAIR)
    assert report.ok
    first = removed_at(engine, devices, purged)
    assert first is not None and removed_at(engine, devices, deleted) is not None
    assert line(report, "devices").details["confirmed_removed"] == 1
    others = [r for r in rows(engine, devices) if r.uid not in (purged, deleted)]
    assert all(r.removed_at is None for r in others if not r.deleted)

    again = sync(sim, engine, PAIR)
    assert line(again, "devices").rows_written == 0  # removed_at is not stamped anew
    assert removed_at(engine, devices, purged) == first
    assert sim.count("GET /v2/device/{uid}") == 1  # a confirmed removal is not asked again

    sim_devices.restore_device(sim, purged_item)
    sim_devices.restore_device(sim, sim.devices[deleted])
    assert sync(sim, engine, PAIR).ok
    assert removed_at(engine, devices, purged) is None
    assert removed_at(engine, devices, deleted) is None


def test_removed_site_is_confirmed_then_cleared(sim: Simulator, engine: Engine) -> None:
    assert sync(sim, engine, PAIR).ok
    uid = next(u for u, s in sim.sites.items() if s["name"] not in sim_devices.SYSTEM_SITES)
    site = sim_sites.remove_site(sim, uid)
    report = sync(sim, engine, PAIR)
    assert report.ok
    assert removed_at(engine, sites, uid) is not None
    assert line(report, "sites").details["confirmed_removed"] == 1
    sim_sites.restore_site(sim, site)
    assert sync(sim, engine, PAIR).ok
    assert removed_at(engine, sites, uid) is None
