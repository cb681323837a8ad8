"""Network adapters of every device, from the per-site listing."""

from __future__ import annotations

from sqlalchemy import Engine

from datto_sim import devices as sim_devices
from datto_sim.network_interfaces import site_interfaces
from etl.resources.network_interfaces import device_network_interfaces
from tests.resources.helpers import rows, small_sim, sync


def expected(sim: object) -> set[tuple[str, str, str]]:
    return {
        (d["uid"], nic["macAddress"], d["siteUid"])
        for uid in sim.sites  # type: ignore[attr-defined]
        for d in site_interfaces(sim, uid)  # type: ignore[arg-type]
        for nic in d["nics"]
    }


def stored(engine: Engine) -> set[tuple[str, str, str]]:
    return {
        (r.device_uid, r.mac_address, r.site_uid) for r in rows(engine, device_network_interfaces)
    }


def test_adapters_per_site(engine: Engine) -> None:
    with small_sim(devices=30, sites=3, page_max=7) as sim:  # sites span several pages
        names = ["sites", "device_network_interfaces"]
        assert sync(sim, engine, names).ok
        assert stored(engine) == expected(sim)
        moved = next(d for d in sim.devices.values() if not d["deleted"])
        sim_devices.purge_device(sim, moved["uid"])
        assert sync(sim, engine, names).ok
        assert stored(engine) == expected(sim)
        assert moved["uid"] not in {uid for uid, _, _ in stored(engine)}
