"""A database made by revision 0002 (sites, devices, alerts) upgrades to head with its rows."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, inspect, select

from etl.db.migrate import upgrade
from etl.db.schema import metadata
from etl.db.state import sync_state
from etl.resources.alerts import alerts
from etl.resources.devices import devices
from etl.resources.sites import sites

NEW_TABLES = {
    "activity_logs",
    "device_audits",
    "device_audit_nics",
    "device_audit_esxi_guests",
    "device_audit_printer_supplies",
    "device_software",
    "device_software_audits",
    "users",
    "account",
    "account_variables",
    "site_variables",
    "site_settings",
    "site_mail_recipients",
    "components",
    "component_variables",
    "filters",
    "device_network_interfaces",
}


def test_upgrade_from_0002_keeps_rows(engine: Engine) -> None:
    upgrade(engine, "0002")
    assert not NEW_TABLES & set(inspect(engine).get_table_names())
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    stamp = {"account_uid": "acc1", "synced_at": now}
    with engine.begin() as conn:
        conn.execute(sites.insert(), [{"uid": "s1", "name": "Site", "system_site": False, **stamp}])
        conn.execute(
            devices.insert(),
            [{"uid": f"d{n}", "site_uid": "s1", "last_audit_date": now, **stamp} for n in range(3)],
        )
        conn.execute(alerts.insert(), [{"alert_uid": "a1", "priority": "High", **stamp}])
        conn.execute(
            sync_state.insert(),
            [{"account_uid": "acc1", "resource": "alerts", "cursor": {"x": 1}, "synced_at": now}],
        )
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= NEW_TABLES
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        for table, count in ((sites, 1), (devices, 3), (alerts, 1), (sync_state, 1)):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == count
        assert conn.execute(select(devices.c.last_audit_date).limit(1)).scalar_one() == now
        assert conn.execute(select(sync_state.c.cursor)).scalar_one() == {"x": 1}
