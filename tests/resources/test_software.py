"""Installed software: one set per device, replaced when the device's audit moves."""

from __future__ import annotations

from sqlalchemy import Engine

from datto_sim import audits as sim_audits
from etl.resources.software import device_software, device_software_audits
from tests.resources.helpers import line, paths, rows, small_sim, sync

NAMES = ["sites", "devices", "device_software"]


def stored(engine: Engine, uid: str) -> dict[tuple[str, str], object]:
    found = rows(engine, device_software, device_software.c.device_uid == uid)
    return {(r.name, r.version): r.synced_at for r in found}


def expected(sim: object, uid: str) -> set[tuple[str, str]]:
    return {(s["name"], s["version"]) for s in sim_audits.software(sim, uid)}  # type: ignore[arg-type]


def test_lists_over_several_pages_and_removed_titles_go(engine: Engine) -> None:
    with small_sim(devices=30, sites=2, page_max=60) as sim:  # every list spans pages
        agents = [
            u for u, d in sim.devices.items() if d["deviceClass"] == "device" and not d["deleted"]
        ]
        assert sync(sim, engine, NAMES).ok
        pages = paths(sim, "GET /v2/audit/device/{uid}/software")
        assert len(pages) > len(agents)  # 50 to 300 titles at 60 a page: several pages each
        for uid in agents:
            assert set(stored(engine, uid)) == expected(sim, uid)
        counts = {r.device_uid: r.software_count for r in rows(engine, device_software_audits)}
        assert counts == {u: len(sim_audits.software(sim, u)) for u in agents}

        uid = agents[0]
        before = stored(engine, uid)
        sim_audits.reaudit(sim, uid)  # some titles removed, some added, some upgraded
        now = expected(sim, uid)
        removed = set(before) - now
        assert removed and now - set(before)
        report = sync(sim, engine, NAMES)
        assert report.ok
        after = stored(engine, uid)
        assert set(after) == now
        assert not removed & set(after)
        kept = set(before) & now
        assert all(after[k] == before[k] for k in kept)  # unchanged titles were not rewritten
        written = line(report, "device_software").rows_written
        assert written == len(removed) + len(now - set(before))
        assert all(set(stored(engine, u)) == expected(sim, u) for u in agents[1:])


def test_device_without_audit_is_asked_once(engine: Engine) -> None:
    with small_sim(devices=12, sites=2) as sim:
        uid = next(
            u for u, d in sim.devices.items() if d["deviceClass"] == "device" and not d["deleted"]
        )
        sim.devices[uid]["lastAuditDate"] = 0  # never audited as far as the list says
        assert sync(sim, engine, NAMES).ok
        audit = {r.device_uid: r for r in rows(engine, device_software_audits)}[uid]
        assert audit.audited_at is None
        sim.reset_records()
        assert sync(sim, engine, NAMES).ok
        assert paths(sim, "GET /v2/audit/device/{uid}/software") == []
