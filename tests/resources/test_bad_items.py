"""One bad item never fails its resource: it is skipped, noted, warned once; neighbours land.

The simulator's ``bad_items`` knob spoils a few items of every list (a lone surrogate in a
name, an id of 10**30, a list where a name belongs, a 10 kB key, an unreadable time) the
same way on every request. A full sync must equal the simulator's data minus the spoiled
items (the unreadable time lands, as NULL), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import Engine, select

from datto_sim import Simulator
from datto_sim import activity as sim_activity
from datto_sim import alerts as sim_alerts
from datto_sim import audits as sim_audits
from datto_sim import bad_items as sim_bad
from datto_sim import components as sim_components
from datto_sim import users as sim_users
from datto_sim import variables as sim_variables
from etl.db.state import sync_runs
from etl.resources.activity_logs import activity_logs
from etl.resources.alerts import alerts
from etl.resources.components import components
from etl.resources.devices import devices
from etl.resources.sites import sites
from etl.resources.software import device_software
from etl.resources.users import users
from etl.resources.variables import account_variables
from etl.sync import SyncReport
from tests.resources.helpers import rows, small_sim, sync
from tests.resources.test_activity_logs import requested_from

SKIPPING = ("surrogate", "huge_id", "list_for_string", "long_uid")  # kinds no column can hold


def spoiled(sim: Simulator, *paths: str, kinds: tuple[str, ...] = SKIPPING) -> set[str]:
    """Keys of the items served spoiled (with one of ``kinds``) on ``paths``."""
    served = sim_bad.served(sim)
    return {key for p in paths for key, kind in served.get(p, {}).items() if kind in kinds}


def details(engine: Engine) -> dict[str, dict[str, Any]]:
    """``sync_runs.details`` of each resource's latest run."""
    with engine.connect() as conn:
        found = conn.execute(select(sync_runs.c.resource, sync_runs.c.details)).all()
    return {name: found or {} for name, found in found}


def column(engine: Engine, table: Any, name: str) -> set[Any]:
    return {getattr(r, name) for r in rows(engine, table)}


def check(sim: Simulator, engine: Engine, report: SyncReport) -> None:
    """Every table checked equals the simulator minus the skipped items."""
    assert report.ok, [(r.resource, r.error) for r in report.resources if r.error]
    bad = spoiled(sim, "/v2/account/sites")
    assert bad and column(engine, sites, "uid") == set(sim.sites) - bad
    bad = spoiled(sim, "/v2/account/devices")
    stored_devices = column(engine, devices, "uid")
    assert bad and stored_devices == set(sim.devices) - bad
    bad = spoiled(sim, "/v2/account/users")
    want = {u["username"] for u in sim_users.users(sim)} - bad
    assert bad and column(engine, users, "username") == want
    bad = spoiled(sim, "/v2/account/alerts/open", "/v2/account/alerts/resolved")
    assert bad and column(engine, alerts, "alert_uid") == set(sim_alerts.book(sim)) - bad
    bad = spoiled(sim, "/v2/account/components")
    want = {c["uid"] for c in sim_components.components(sim)} - bad
    assert bad and column(engine, components, "uid") == want
    # a variable's "key" field is its name (its id is a number): 10 kB of name is storable
    bad = spoiled(sim, "/v2/account/variables", kinds=("surrogate", "huge_id", "list_for_string"))
    assert spoiled(sim, "/v2/account/variables", kinds=("long_uid",))
    want = {str(v["id"]) for v in sim_variables.account_variables(sim)} - bad
    assert bad and {str(i) for i in column(engine, account_variables, "id")} == want
    start = requested_from(sim)[0]  # the first run's backfill
    entries = [e for e in sim_activity.activities(sim) if e["date"] >= start.timestamp()]
    bad = spoiled(sim, "/v2/activity-logs")
    stored = {r.id: r.date for r in rows(engine, activity_logs)}
    assert bad and set(stored) == {e["id"] for e in entries} - bad
    late = spoiled(sim, "/v2/activity-logs", kinds=("bad_time",))
    assert {uid for uid, moment in stored.items() if moment is None} == late

    software = {(r.device_uid, r.name) for r in rows(engine, device_software)}
    agents = [u for u in stored_devices if sim.devices[u]["deviceClass"] == "device"]
    skipped = 0
    for uid in agents:
        bad = spoiled(sim, f"/v2/audit/device/{uid}/software")
        skipped += len(bad)
        want = {(uid, s["name"]) for s in sim_audits.software(sim, uid) if s["name"] not in bad}
        assert {pair for pair in software if pair[0] == uid} == want
    assert skipped > len(agents)  # several per device, their neighbours stored


def test_a_full_sync_skips_the_bad_items_and_keeps_their_neighbours(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with small_sim(bad_items=("lists",), bad_item_count=5) as sim, caplog.at_level(logging.WARNING):
        report = sync(sim, engine, [])
        check(sim, engine, report)
        noted = details(engine)
        for name, paths in {
            "devices": ["/v2/account/devices"],
            "users": ["/v2/account/users"],
            "activity_logs": ["/v2/activity-logs"],
        }.items():
            found = noted[name]["skipped_items"]
            assert found["count"] == len(spoiled(sim, *paths)), name
            assert 0 < len(found["examples"]) <= 5
            assert all(len(e.get("key", "")) <= 40 for e in found["examples"])  # shortened
        whys = " ".join(noted["devices"]["skipped_items"]["why"])
        assert "lone surrogate" in whys and "list where text belongs" in whys
        assert "longer than 64 characters" in whys
        assert "past the range" in " ".join(noted["sites"]["skipped_items"]["why"])
        warnings = [
            r.getMessage() for r in caplog.records if "item(s) that cannot" in r.getMessage()
        ]
        assert len([w for w in warnings if w.startswith("devices:")]) == 1  # once per run

        report = sync(sim, engine, [])  # the next run: the same skips, nothing else changes
        check(sim, engine, report)
        again = {r.resource: r.rows_written for r in report.resources}
        assert again["devices"] == again["users"] == again["sites"] == 0


def test_a_skipped_item_keeps_its_last_good_row_and_the_snapshot_deletes_nothing(
    engine: Engine,
) -> None:
    """A user stored before its name went bad keeps that row; nothing else is lost."""
    with small_sim() as sim:
        assert sync(sim, engine, ["users"]).ok
        before = {r.username: r for r in rows(engine, users)}
        sim.reconfigure(bad_items=("GET /v2/account/users",), bad_item_count=2)
        report = sync(sim, engine, ["users"])
        assert report.ok and report.resources[0].details["skipped_items"]["count"] == 2
        after = {r.username: r for r in rows(engine, users)}
    assert set(after) == set(before)
    assert all(after[name].last_name == row.last_name for name, row in before.items())
