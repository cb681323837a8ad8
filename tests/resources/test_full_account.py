"""One full sync of a 2,000-device account: every table filled, each equal to the simulator.

The expensive test (some 4,000 per-device requests): one test, run once per dialect. The
simulator's clock runs fast and the budget is set high so that neither rate limit paces it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from datto_sim import Simulator
from datto_sim import activity as sim_activity
from datto_sim import audits as sim_audits
from datto_sim import components as sim_components
from datto_sim import filters as sim_filters
from datto_sim import site_settings as sim_settings
from datto_sim import users as sim_users
from datto_sim import variables as sim_variables
from datto_sim.network_interfaces import site_interfaces
from datto_sim.server import error
from etl.api.timestamps import to_utc
from etl.db.schema import metadata
from etl.resources.account import account
from etl.resources.activity_logs import activity_logs
from etl.resources.audit_children import CHILDREN, SPEC, snake
from etl.resources.audits import device_audits
from etl.resources.components import component_variables, components
from etl.resources.devices import devices
from etl.resources.filters import filters
from etl.resources.network_interfaces import device_network_interfaces
from etl.resources.site_settings import site_mail_recipients, site_settings
from etl.resources.sites import sites
from etl.resources.software import device_software, device_software_audits
from etl.resources.users import users
from etl.resources.variables import account_variables, site_variables
from etl.sync import run_sync
from tests.conftest import settings_for
from tests.resources.helpers import rows, small_sim

DATES = {"releaseDate", "driverFileLastModified"}


def frozen(value: Any) -> Any:
    """A hashable stand-in for JSON lists and objects."""
    return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value


def keyed(engine: Engine, table: Any, *columns: str) -> set[tuple[Any, ...]]:
    with engine.connect() as conn:
        query = select(*(table.c[c] for c in columns))
        return {tuple(frozen(v) for v in r) for r in conn.execute(query)}


def check_audits(sim: Simulator, engine: Engine, audited: list[str]) -> None:
    stored = {r.device_uid: r for r in rows(engine, device_audits)}
    assert set(stored) == set(audited)
    bodies = {uid: sim_audits.audit(sim, uid) for uid in audited}
    for uid in audited:
        body, row = bodies[uid], stored[uid]
        system = body.get("systemInfo") or {}
        assert row.audited_at == to_utc(sim.devices[uid]["lastAuditDate"])
        assert (row.manufacturer, row.model) == (system.get("manufacturer"), system.get("model"))
        assert row.total_physical_memory == system.get("totalPhysicalMemory")
        assert row.total_cpu_cores == system.get("totalCpuCores")
        assert row.bios_serial_number == (body.get("bios") or {}).get("serialNumber")
        assert row.base_board_product == (body.get("baseBoard") or {}).get("product")
        assert row.service_tag == system.get("serviceTag")
        assert row.printed_page_count == (body.get("printer") or {}).get("printedPageCount")
        assert row.snmp_serial == (body.get("snmpInfo") or {}).get("snmpSerial")
    for name, (key, _, fields) in SPEC.items():
        columns = [snake(f) for f, _ in fields]
        got = keyed(engine, CHILDREN[name], "device_uid", "position", *columns)
        want = {
            (
                uid,
                n,
                *(to_utc(item.get(f)) if f in DATES else frozen(item.get(f)) for f, _ in fields),
            )
            for uid in audited
            for n, item in enumerate(bodies[uid].get(key) or [])
        }
        assert got == want, name
        assert got, f"{name} is empty"


def check_reference(sim: Simulator, engine: Engine) -> None:
    assert keyed(engine, users, "username", "email", "disabled") == {
        (u["username"], u["email"], u["disabled"]) for u in sim_users.users(sim)
    }
    (acc,) = rows(engine, account)
    assert (acc.uid, acc.billing_email) == (sim.account_uid, "billing@msp.example")
    assert keyed(engine, account_variables, "id", "value", "masked") == {
        (v["id"], v["value"], v["masked"]) for v in sim_variables.account_variables(sim)
    }
    assert keyed(engine, site_variables, "site_uid", "id", "value") == {
        (s, v["id"], v["value"]) for s in sim.sites for v in sim_variables.site_variables(sim, s)
    }
    assert keyed(engine, site_settings, "site_uid", "name", "proxy_host") == {
        (s, site["name"], (site["proxySettings"] or {}).get("host"))
        for s, site in sim.sites.items()
    }
    assert keyed(engine, site_mail_recipients, "site_uid", "email") == {
        (s, m["email"]) for s in sim.sites for m in sim_settings.recipients(sim, s)
    }
    items = sim_components.components(sim)
    assert keyed(engine, components, "uid", "name") == {(c["uid"], c["name"]) for c in items}
    assert keyed(engine, component_variables, "component_uid", "name") == {
        (c["uid"], v["name"]) for c in items for v in c["variables"]
    }
    every = sim_filters.filters(sim, "rmm_default") + sim_filters.filters(sim, "custom")
    assert keyed(engine, filters, "id", "type") == {(f["id"], f["type"]) for f in every}
    assert keyed(engine, device_network_interfaces, "device_uid", "position", "mac_address") == {
        (d["uid"], n, nic["macAddress"])
        for s in sim.sites
        for d in site_interfaces(sim, s)
        for n, nic in enumerate(d["nics"])
    }


def check_activity(sim: Simulator, engine: Engine) -> None:
    with sim.lock:
        (start,) = [r.query["from"] for r in sim.records if r.endpoint == "GET /v2/activity-logs"][
            :1
        ]
    since = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    want = {e["id"]: e for e in sim_activity.activities(sim) if e["date"] >= since}
    stored = {r.id: r for r in rows(engine, activity_logs)}
    assert set(stored) == set(want)
    for uid, entry in want.items():
        assert stored[uid].details == json.loads(entry["details"])
        assert stored[uid].date == to_utc(entry["date"], unit="s")


def test_full_sync_of_a_2000_device_account(engine: Engine) -> None:
    with Simulator(devices=2000, sites=50, time_scale=1000) as sim:
        settings = settings_for(sim, requests_per_minute=100_000, account_limit=1_000_000)
        report = run_sync(settings, engine=engine)
        assert report.ok, [(r.resource, r.error) for r in report.resources if r.error]

        with engine.connect() as conn:
            empty = [
                name
                for name, table in metadata.tables.items()
                if not conn.execute(select(func.count()).select_from(table)).scalar_one()
            ]
        assert empty == []
        assert keyed(engine, sites, "uid") == {(u,) for u in sim.sites}
        assert keyed(engine, devices, "uid", "last_audit_date") == {
            (u, to_utc(d["lastAuditDate"])) for u, d in sim.devices.items()
        }
        live = [u for u, d in sim.devices.items() if not d["deleted"]]
        audited = [u for u in live if sim.devices[u]["deviceClass"] in sim_audits.AUDITS]
        agents = [u for u in live if sim.devices[u]["deviceClass"] == "device"]
        assert len(audited) > 1800
        check_audits(sim, engine, audited)

        software = {
            (u, s["name"], s["version"]) for u in agents for s in sim_audits.software(sim, u)
        }
        assert keyed(engine, device_software, "device_uid", "name", "version") == software
        assert keyed(engine, device_software_audits, "device_uid", "software_count") == {
            (u, len(sim_audits.software(sim, u))) for u in agents
        }
        check_reference(sim, engine)
        check_activity(sim, engine)


def test_everything_twice_changes_nothing_and_one_failure_stops_nothing(engine: Engine) -> None:
    with small_sim() as sim:
        first = run_sync(settings_for(sim), engine=engine)
        assert first.ok
        order = [r.resource for r in first.resources]
        assert order.index("devices") < order.index("device_audits")
        assert order.index("sites") < order.index("site_settings")
        sim.reset_records()
        sim.middlewares.append(
            lambda s, req: error(500, "boom", req.path) if req.path.endswith("/users") else None
        )
        settings = settings_for(sim)
        settings = settings.model_copy(
            update={"datto": settings.datto.model_copy(update={"max_retries": 0})}
        )
        second = run_sync(settings, engine=engine)
        assert not second.ok
        assert [r.resource for r in second.resources if r.status != "ok"] == ["users"]
        assert [r for r in second.resources if r.rows_written] == []
        asked = sim.counts()
        assert not [e for e in asked if e.startswith("GET /v2/audit/")]  # no audit moved
