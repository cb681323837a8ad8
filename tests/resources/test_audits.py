"""Device audits: only devices whose audit moved are fetched; children replaced per device."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from datto_sim import Simulator
from datto_sim import audits as sim_audits
from datto_sim import devices as sim_devices
from datto_sim.server import error
from etl.api.timestamps import to_utc
from etl.db.engine import make_engine
from etl.resources.audit_children import CHILDREN
from etl.resources.audits import device_audits
from tests.conftest import settings_for
from tests.resources.helpers import line, paths, rows, small_sim, sync

ALL = ["sites", "devices", "device_audits", "device_software"]
AUDIT_ROUTES = [f"GET /v2/audit/{cls}/{{uid}}" for cls in ("device", "esxihost", "printer")]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with small_sim(devices=120, sites=4) as s:
        yield s


def audited_uids(sim: Simulator) -> list[str]:
    return sorted(p.rsplit("/", 1)[1] for route in AUDIT_ROUTES for p in paths(sim, route))


def test_reaudit_fetches_those_devices_only(sim: Simulator, engine: Engine) -> None:
    assert sync(sim, engine, ALL).ok
    by_class = {  # devices in "Deleted Devices" are removed: their audits are not fetched
        cls: [u for u, d in sim.devices.items() if d["deviceClass"] == cls and not d["deleted"]]
        for cls in ("device", "esxihost", "printer")
    }
    assert all(by_class.values()), "the account needs every audited class"
    auditable = sum(len(v) for v in by_class.values())
    assert len(rows(engine, device_audits)) == auditable

    chosen = by_class["device"][:16] + by_class["esxihost"][:2] + by_class["printer"][:2]
    assert len(chosen) == 20
    for uid in chosen:
        sim_audits.reaudit(sim, uid)
    sim.reset_records()
    report = sync(sim, engine, ALL)
    assert report.ok, report

    assert audited_uids(sim) == sorted(chosen)
    software = [p.split("/")[-2] for p in paths(sim, "GET /v2/audit/device/{uid}/software")]
    assert sorted(set(software)) == sorted(u for u in chosen if u in by_class["device"])
    assert line(report, "device_audits").details["due"] == 20
    stored = {r.device_uid: r for r in rows(engine, device_audits)}
    for uid in chosen:
        assert stored[uid].audited_at == to_utc(sim.devices[uid]["lastAuditDate"])
    esxi = chosen[16]
    snapshots = sim_audits.audit(sim, esxi)["systemInfo"]["numberOfSnapshots"]
    assert stored[esxi].number_of_snapshots == snapshots

    sim.reset_records()
    assert sync(sim, engine, ALL).ok  # nothing moved: no audit at all
    assert audited_uids(sim) == []
    assert paths(sim, "GET /v2/audit/device/{uid}/software") == []


def test_child_lists_are_replaced_with_the_audit(sim: Simulator, engine: Engine) -> None:
    live = [u for u, d in sim.devices.items() if not d["deleted"]]
    printer = next(u for u in live if sim.devices[u]["deviceClass"] == "printer")
    agent = next(u for u in live if sim.devices[u]["deviceClass"] == "device")
    assert sync(sim, engine, ["sites", "devices", "device_audits"]).ok
    supplies = CHILDREN["device_audit_printer_supplies"]
    disks = CHILDREN["device_audit_logical_disks"]

    def levels() -> list[str]:
        found = rows(engine, supplies, supplies.c.device_uid == printer)
        return [r.supplies_level for r in sorted(found, key=lambda r: r.position)]

    def expected() -> list[str]:
        return [s["suppliesLevel"] for s in sim_audits.audit(sim, printer)["printerMarkerSupplies"]]

    assert levels() == expected()
    sim_audits.reaudit(sim, printer)
    sim_audits.reaudit(sim, agent)
    assert sync(sim, engine, ["sites", "devices", "device_audits"]).ok
    assert levels() == expected()
    stored = rows(engine, disks, disks.c.device_uid == agent)
    want = sim_audits.audit(sim, agent)["logicalDisks"]
    assert sorted((r.disk_identifier, r.freespace) for r in stored) == sorted(
        (d["diskIdentifier"], d["freespace"]) for d in want
    )


def test_404_and_400_are_skipped_until_the_audit_moves(sim: Simulator, engine: Engine) -> None:
    assert sync(sim, engine, ["sites", "devices"]).ok
    agents = [
        u for u, d in sim.devices.items() if d["deviceClass"] == "device" and not d["deleted"]
    ]
    gone, wrong = agents[0], agents[1]
    gone_device = sim.devices[gone]
    sim_devices.purge_device(sim, gone)  # its audit answers 404
    sim.devices[wrong]["deviceClass"] = "printer"  # /v2/audit/device/{uid} answers 400
    report = sync(sim, engine, ["device_audits"])
    assert report.ok, report
    stored = {r.device_uid for r in rows(engine, device_audits)}
    assert gone not in stored and wrong not in stored
    assert line(report, "device_audits").details["skipped"] == 2

    sim.reset_records()
    assert sync(sim, engine, ["device_audits"]).ok
    assert audited_uids(sim) == []  # not asked again while their audit date stands still

    sim.devices[wrong]["deviceClass"] = "device"
    sim_audits.reaudit(sim, wrong)
    sim_devices.restore_device(sim, gone_device)
    assert sync(sim, engine, ["devices", "device_audits"]).ok
    assert audited_uids(sim) == [wrong]


def test_transient_failures_fail_the_run_but_keep_the_rest(db_url: str) -> None:
    with small_sim(devices=30, sites=2) as sim:
        engine = make_engine(db_url)
        try:
            bad = next(
                u
                for u, d in sim.devices.items()
                if d["deviceClass"] == "device" and not d["deleted"]
            )
            sim.middlewares.append(
                lambda s, req: error(500, "boom", req.path) if bad in req.path else None
            )
            settings = settings_for(sim)
            settings = settings.model_copy(
                update={"datto": settings.datto.model_copy(update={"max_retries": 0})}
            )
            report = sync(sim, engine, ["sites", "devices", "device_audits"], settings)
            audits = line(report, "device_audits")
            assert audits.status == "failed" and "1 of" in (audits.error or "")
            stored = {r.device_uid for r in rows(engine, device_audits)}
            auditable = {
                u
                for u, d in sim.devices.items()
                if d["deviceClass"] in sim_audits.AUDITS and not d["deleted"]
            }
            assert stored == auditable - {bad}
            sim.middlewares.clear()
            sim.reset_records()
            assert sync(sim, engine, ["device_audits"]).ok
            assert audited_uids(sim) == [bad]  # asked again, and only it
        finally:
            engine.dispose()
