"""Each reporting view's figures equal those worked out from the simulator (tests/report/expected).

One synced account per dialect: a first full sync, then devices purged (removed) and moved
to Deleted Devices (a system site), alerts resolved and raised, and a second sync. Every view
is then read through its typed stand-in and compared with plain Python over the simulator.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from datto_sim import Simulator
from datto_sim import alerts as sim_alerts
from datto_sim import devices as sim_devices
from etl.report.views import view
from etl.sync import SyncReport
from tests.report import expected as ex
from tests.resources.helpers import small_sim, sync

FIRST = ["sites", "devices", "alerts", "device_audits", "device_software"]
CLOSE = 0.051  # one-decimal rounding of the same figure in float vs numeric arithmetic


def read(conn: Connection, name: str) -> list[Any]:
    """Every row of a view, typed (never none: an empty view would pass every check)."""
    rows = list(conn.execute(select(view(name).table)))
    assert rows, f"{name} is empty"
    return rows


def timed(conn: Connection, name: str) -> tuple[list[Any], datetime, datetime]:
    """Rows of a view with the clock read just before and after the query."""
    before = datetime.now(UTC)
    rows = read(conn, name)
    return rows, before, datetime.now(UTC)


def between(got: Any, low: Any, high: Any, slack: float = 0.0) -> bool:
    """``got`` lies within [low - slack, high + slack] (None only if both bounds are None)."""
    if low is None or high is None:
        return got is None and low is None and high is None
    return low - slack <= got <= high + slack


def prepare(sim: Simulator, engine: Engine) -> list[SyncReport]:
    """Two syncs with removals, a device moved to a system site and alert changes between."""
    reports = [sync(sim, engine, FIRST)]
    live = list(ex.live_devices(sim))
    for uid in live[:2]:
        sim_devices.purge_device(sim, uid)
    sim_devices.delete_device(sim, live[2])
    for alert in sim_alerts.book(sim).listed(resolved=False)[:3]:
        sim_alerts.resolve_alert(sim, alert["alertUid"])
    sim_alerts.add_alert(sim, device_uid=live[3])
    reports.append(sync(sim, engine, ["sites", "devices", "alerts"]))
    assert all(r.ok for r in reports)
    return reports


def check_devices(sim: Simulator, conn: Connection) -> None:
    rows = {r.device_uid: r for r in read(conn, "v_devices")}
    live, sites = ex.live_devices(sim), ex.customer_sites(sim)
    assert set(rows) == set(live)
    for uid, d in live.items():
        r = rows[uid]
        assert (r.site_uid, r.site_name, r.hostname) == (d["siteUid"], sites[d["siteUid"]],
                                                          d["hostname"])  # fmt: skip
        assert (r.online, r.device_class) == (d["online"], d["deviceClass"])
        assert (r.patch_managed, r.fully_patched, r.antivirus_expected, r.protected) == (
            ex.kpi_flags(d)
        )


def check_open_alerts(sim: Simulator, conn: Connection) -> None:
    rows, before, after = timed(conn, "v_open_alerts")
    want, live = ex.open_alerts(sim), ex.live_devices(sim)
    assert {r.alert_uid: r.device_uid for r in rows} == {
        uid: a["alertSourceInfo"]["deviceUid"] for uid, a in want.items()
    }
    for r in rows:
        a, device = want[r.alert_uid], live[r.device_uid]
        assert (r.priority, r.site_uid, r.hostname) == (a["priority"], device["siteUid"],
                                                         device["hostname"])  # fmt: skip
        assert r.context_class == a["alertContext"]["@class"]
        raised = ex.when(a["timestamp"])
        assert raised is not None and r.timestamp == raised
        low, high = ex.hours_since(raised, before), ex.hours_since(raised, after)
        assert between(r.age_hours, low, high, CLOSE), (r.age_hours, low, high)


def check_alert_days(sim: Simulator, conn: Connection) -> None:
    resolved = {(r.day, r.site_uid): r for r in read(conn, "v_alerts_resolved_daily")}
    want = ex.alerts_resolved_daily(sim)
    assert set(resolved) == set(want)
    for key, (count, mean) in want.items():
        assert resolved[key].resolved == count
        assert abs(resolved[key].mean_hours_to_resolve - mean) <= CLOSE, key
    raised = {
        (r.day, r.site_uid, r.priority): r.raised for r in read(conn, "v_alerts_raised_daily")
    }
    assert raised == dict(ex.alerts_raised_daily(sim))


def check_coverage(sim: Simulator, conn: Connection) -> None:
    got = {
        r.site_uid: (r.devices, r.protected, r.coverage_pct)
        for r in read(conn, "v_antivirus_coverage")
    }
    want = ex.antivirus_coverage(sim)
    assert set(got) == set(want)
    for site, (n, protected, pct) in want.items():
        assert got[site][:2] == (n, protected)
        assert abs(got[site][2] - pct) <= CLOSE


def check_offline(sim: Simulator, conn: Connection) -> None:
    rows, before, after = timed(conn, "v_offline_devices")
    live = ex.live_devices(sim)
    assert {r.device_uid for r in rows} == {u for u, d in live.items() if d["online"] is False}
    for r in rows:
        seen = ex.when(live[r.device_uid]["lastSeen"])
        assert r.last_seen == seen
        days = (ex.whole_since(seen, before, 86400), ex.whole_since(seen, after, 86400))
        assert between(r.days_offline, *days), (r.days_offline, days)


def check_warranty(sim: Simulator, conn: Connection) -> None:
    rows, before, after = timed(conn, "v_warranty_expiring")
    live = ex.live_devices(sim)
    dated = {u: ex.warranty(d["warrantyDate"]) for u, d in live.items()}
    assert {r.device_uid: r.warranty_date for r in rows} == {u: w for u, w in dated.items() if w}
    for r in rows:
        left = [(r.warranty_date - t.date()).days for t in (after, before)]
        assert between(r.days_left, *left)
        if live[r.device_uid]["deviceClass"] == "device":
            assert r.manufacturer == ex.manufacturer(sim, r.device_uid)


def check_software(sim: Simulator, conn: Connection) -> None:
    got = {(r.name, r.version): r.devices for r in read(conn, "v_software_inventory")}
    assert got == dict(ex.software_inventory(sim))


def check_freshness(conn: Connection, reports: list[SyncReport], started: datetime) -> None:
    rows, before, after = timed(conn, "v_sync_freshness")
    ran = {line.resource for report in reports for line in report.resources}
    assert {r.resource for r in rows} == ran
    for r in rows:
        assert r.last_ok_at is not None and started <= r.last_ok_at <= after
        low, high = (ex.whole_since(r.last_ok_at, t, 60) for t in (before, after))
        assert between(r.minutes_since, low, high)


CHECKS: list[Callable[[Simulator, Connection], None]] = [
    check_devices,
    check_open_alerts,
    check_alert_days,
    check_coverage,
    check_offline,
    check_warranty,
    check_software,
]


def test_views_equal_the_simulators_figures(engine: Engine) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    with small_sim(devices=60, sites=5, seed=14) as sim:
        reports = prepare(sim, engine)
        with engine.connect() as conn:
            for check in CHECKS:
                check(sim, conn)
            check_freshness(conn, reports, started)
            for name in ("v_devices", "v_open_alerts", "v_antivirus_coverage", "v_sync_freshness"):
                accounts = {r.account_uid for r in read(conn, name)}
                assert accounts == {sim.account_uid}, name
