"""Full and repeated syncs of sites and devices, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, select

from datto_sim import Simulator
from datto_sim import devices as sim_devices
from etl.api.timestamps import to_utc
from etl.resources.devices import devices
from etl.resources.sites import sites
from etl.sync import run_sync
from tests.conftest import settings_for

PAIR = ["sites", "devices"]  # the other resources have their own tests (and cost requests)


def _ms(value: object) -> datetime | None:
    return to_utc(value)


def test_full_sync_stores_every_site_and_device(sim: Simulator, engine: Engine) -> None:
    report = run_sync(settings_for(sim), PAIR, engine=engine)
    assert report.ok, report
    assert len(sim.sites) >= 50 and len(sim.devices) >= 2000
    with engine.connect() as conn:
        site_rows = {r.uid: r for r in conn.execute(select(sites))}
        device_rows = {r.uid: r for r in conn.execute(select(devices))}
    assert set(site_rows) == set(sim.sites)
    assert set(device_rows) == set(sim.devices)

    for uid, item in sim.sites.items():
        row = site_rows[uid]
        assert row.name == item["name"]
        assert row.account_uid == sim.account_uid
        assert row.number_of_devices == item["devicesStatus"]["numberOfDevices"]
        assert row.on_demand == item["onDemand"]
        assert row.synced_at.tzinfo is not None
    deleted = [r for r in site_rows.values() if r.name == "Deleted Devices"]
    assert len(deleted) == 1 and deleted[0].system_site is True
    customers = [
        r for r in site_rows.values() if r.name not in ("Deleted Devices", "Managed", "OnDemand")
    ]
    assert all(r.system_site for r in site_rows.values() if r not in customers)
    assert not any(r.system_site for r in customers)

    for uid, item in sim.devices.items():
        row = device_rows[uid]
        assert row.hostname == item["hostname"]
        assert row.site_uid == item["siteUid"]
        assert row.device_class == item["deviceClass"]
        assert row.deleted == item["deleted"]
        assert row.online == item["online"]
        assert row.last_seen == _ms(item["lastSeen"])
        assert row.last_seen.tzinfo == UTC
        assert row.last_reboot == _ms(item["lastReboot"])  # 0 and .NET MinValue → NULL
        assert row.last_audit_date == _ms(item["lastAuditDate"])
        assert row.creation_date == _ms(item["creationDate"])
        assert row.udf1 == item["udf"]["udf1"] and row.udf30 == item["udf"]["udf30"]
        assert row.patch_status == (item["patchManagement"] or {}).get("patchStatus")
        assert row.antivirus_status == (item["antivirus"] or {}).get("antivirusStatus")
        warranty = item["warrantyDate"]
        if isinstance(warranty, str):
            assert row.warranty_date == date.fromisoformat(warranty)
        elif warranty is None:
            assert row.warranty_date is None
        extra = {k: v for k, v in item["udf"].items() if v is not None and int(k[3:]) > 30}
        assert row.udf_extra == (extra or None)
    reboot_nulls = [d for d in sim.devices.values() if d["lastReboot"] in (0, -62135596800000)]
    assert reboot_nulls and all(device_rows[d["uid"]].last_reboot is None for d in reboot_nulls)
    net = [d for d in sim.devices.values() if d["deviceClass"] == "rmmnetworkdevice"]
    assert net and all(device_rows[d["uid"]].patch_status is None for d in net)


def test_second_sync_without_change_writes_nothing(sim: Simulator, engine: Engine) -> None:
    settings = settings_for(sim)
    run_sync(settings, PAIR, engine=engine)
    with engine.connect() as conn:
        before = {
            r.uid: r.synced_at for r in conn.execute(select(devices.c.uid, devices.c.synced_at))
        }
        sites_before = conn.execute(select(sites)).all()
    report = run_sync(settings, PAIR, engine=engine)
    assert report.ok
    assert sum(r.rows_written for r in report.resources) == 0
    with engine.connect() as conn:
        after = {
            r.uid: r.synced_at for r in conn.execute(select(devices.c.uid, devices.c.synced_at))
        }
        assert conn.execute(select(sites)).all() == sites_before
    assert after == before  # not even synced_at moved: no value changed


def test_iso_and_mixed_time_shapes_give_the_same_rows(engine: Engine) -> None:
    with Simulator(devices=300, sites=10, time_format="mixed") as sim:
        assert run_sync(settings_for(sim), PAIR, engine=engine).ok
        with engine.connect() as conn:
            rows = {r.uid: r for r in conn.execute(select(devices))}
        for uid, item in sim.devices.items():
            assert rows[uid].last_seen == _ms(item["lastSeen"])


def test_account_list_missing_devices_is_completed_per_site(engine: Engine) -> None:
    with Simulator(devices=600, sites=12, account_devices_missing=0.3) as sim:
        report = run_sync(settings_for(sim), PAIR, engine=engine)
        assert report.ok
        with engine.connect() as conn:
            stored = set(conn.execute(select(devices.c.uid)).scalars())
        assert stored == set(sim.devices)
        assert report.resources[-1].details["sites_relisted"] > 0


def test_new_device_is_added_on_next_sync(sim: Simulator, engine: Engine) -> None:
    settings = settings_for(sim)
    run_sync(settings, PAIR, engine=engine)
    new = sim_devices.add_device(sim)
    report = run_sync(settings, engine=engine, names=["devices"])
    with engine.connect() as conn:
        assert conn.execute(
            select(devices.c.hostname).where(devices.c.uid == new["uid"])
        ).scalar_one()
    assert report.resources[0].rows_written == 1


def test_items_without_their_id_are_skipped_not_fatal(engine: Engine) -> None:
    with Simulator(devices=40, sites=3) as sim:
        template = next(iter(sim.devices.values()))
        sim.devices["no-uid"] = {**template, "uid": None, "hostname": "GHOST"}
        report = run_sync(settings_for(sim), ["sites", "devices"], engine=engine)
        assert report.ok, report
        with engine.connect() as conn:
            stored = set(conn.execute(select(devices.c.uid)).scalars())
        assert stored == {uid for uid in sim.devices if uid != "no-uid"}
