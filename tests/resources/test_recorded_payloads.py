"""Every mapping, checked on recorded payloads in the shapes live accounts return.

The files in ``tests/fixtures/`` are anonymised responses in the shapes public clients have
seen (rated in ``tests/fixtures/README.md``), not what our own simulator makes: they catch a
mapping that only works on our reading of the docs. Expected values are read here from the
payloads with plain Python, never through the mapping under test. No network, no database.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from etl.api.platform import PlatformStatus
from etl.resources import REGISTRY
from etl.resources.activity_logs import SPEC as ACTIVITY
from etl.resources.alerts import SPEC as ALERTS
from etl.resources.devices import Due
from etl.resources.job_log import uid_in
from etl.resources.job_results import COMPONENT, RESULT, cut, is_final, with_output
from etl.resources.jobs import JOB
from etl.resources.sites import Site

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def payload(name: str) -> Any:
    """One recorded answer."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def ms(value: int) -> datetime:
    """Epoch milliseconds → aware UTC datetime (independently of the code under test)."""
    return datetime.fromtimestamp(value / 1000, UTC)


def rows_of(resource: str, body: Any, owner: Any = None) -> dict[str, list[dict[str, Any]]]:
    """The resource's own mapping of one answer, by table name."""
    found = REGISTRY[resource].rows(body, owner)  # type: ignore[attr-defined]
    return {table.name: rows for table, rows in found.items()}


def test_devices_flatten_nested_fields_and_read_every_time_shape() -> None:
    items = payload("account-devices.json")["devices"]
    rows = {r["uid"]: r for r in rows_of("devices", items)["devices"]}
    assert set(rows) == {d["uid"] for d in items}
    for item in items:
        row = rows[item["uid"]]
        assert row["site_uid"] == item["siteUid"] and row["hostname"] == item["hostname"]
        assert row["device_class"] == item["deviceClass"]
        assert row["device_type_category"] == item["deviceType"]["category"]
        assert row["last_seen"] == ms(item["lastSeen"])
        assert row["creation_date"] == ms(item["creationDate"])
        assert row["last_reboot"] == (ms(item["lastReboot"]) if item["lastReboot"] else None)
        patch = item["patchManagement"] or {}
        assert row["patch_status"] == patch.get("patchStatus")
        assert row["patches_installed"] == patch.get("patchesInstalled")
        antivirus = item["antivirus"] or {}
        assert row["antivirus_status"] == antivirus.get("antivirusStatus")
        assert row["a64_bit"] == item["a64Bit"]  # null stays NULL, never False
        assert row["removed_at"] is None
    workstation = rows["0d7b5e21-9c43-4a8f-b612-e3f5a7c90d14"]
    assert workstation["warranty_date"] == date(2027, 3, 31)  # a yyyy-mm-dd string
    assert workstation["udf1"] == "Finance" and workstation["udf5"] == "EX-ASSET-0042"
    assert workstation["udf2"] is None and workstation["udf_extra"] is None
    switch = rows["7e2a9c05-d8b1-4f36-a4e9-5c0b17d382ae"]  # udf1..udf300: the rest as JSON
    assert switch["udf_extra"] == {"udf300": "rack-B/u12"}
    assert switch["operating_system"] is None and switch["patch_status"] is None


def test_one_device_answers_like_a_list_item() -> None:
    item = payload("device-uid.json")
    (row,) = rows_of("devices", [item])["devices"]
    assert row["uid"] == item["uid"] and row["last_audit_date"] == ms(item["lastAuditDate"])


def test_sites_flag_datto_own_sites() -> None:
    items = payload("account-sites.json")["sites"]
    rows = {r["uid"]: r for r in rows_of("sites", items)["sites"]}
    for item in items:
        row = rows[item["uid"]]
        assert row["name"] == item["name"] and row["id"] == item["id"]
        assert row["number_of_devices"] == item["devicesStatus"]["numberOfDevices"]
        assert row["autotask_company_id"] == item["autotaskCompanyId"]
        assert row["proxy_host"] is None  # proxySettings null on every site seen live
    assert rows["deleted-devices-q7exmpl2"]["system_site"] is True  # uid not a GUID
    assert rows["6f1c2a9e-3b7d-4e58-9a10-2c4d8e7f0b31"]["system_site"] is False


@pytest.mark.parametrize(
    "name", ["account-alerts-open.json", "account-alerts-resolved.json", "alert-uid.json"]
)
def test_alerts_keep_their_context_as_json(name: str) -> None:
    body = payload(name)
    items = body.get("alerts", [body])
    rows = {r["alert_uid"]: r for r in map(ALERTS.row, items)}  # alerts run by hand: no rows()
    for item in items:
        row = rows[item["alertUid"]]
        assert row["context_class"] == item["alertContext"]["@class"]
        assert row["context"] == item["alertContext"]
        assert row["timestamp"] == ms(item["timestamp"])
        assert row["resolved_on"] == (ms(item["resolvedOn"]) if item["resolvedOn"] else None)
        assert row["resolved"] is item["resolved"]
        assert row["device_uid"] == item["alertSourceInfo"]["deviceUid"]
        assert row["site_uid"] == item["alertSourceInfo"]["siteUid"]
        assert row["priority"] == item["priority"]


def test_activity_logs_read_seconds_and_parse_details() -> None:
    items = payload("activity-logs.json")["activities"]
    rows = {r["id"]: r for r in map(ACTIVITY.row, items)}  # incremental: no rows()
    for item in items:
        row = rows[item["id"]]
        assert row["date"] == datetime.fromtimestamp(item["date"], UTC)  # epoch seconds
        assert row["details"] == json.loads(item["details"])  # a JSON string, parsed
        assert row["site_id"] == item["site"]["id"]
        assert row["user_name"] == ((item["user"] or {}).get("userName"))
    job = rows["ad81f3c7e2b04a6c9d15"]
    assert job["details"]["job.uid"] == "91b7e3c4-5a28-4f0d-8c61-2e9b4d7a0f53"
    assert job["has_std_out"] is True


def test_users_are_keyed_by_username() -> None:
    items = payload("account-users.json")["users"]
    rows = {r["username"]: r for r in rows_of("users", items)["users"]}
    for item in items:
        row = rows[item["username"]]
        assert row["created"] == ms(item["created"])
        assert row["last_access"] == (ms(item["lastAccess"]) if item["lastAccess"] else None)
        assert row["disabled"] is item["disabled"] and row["email"] == item["email"]


def test_variables_keep_masked_values_masked() -> None:
    items = payload("account-variables.json")["variables"]
    rows = {r["id"]: r for r in rows_of("account_variables", items)["account_variables"]}
    assert {i: (r["value"], r["masked"]) for i, r in rows.items()} == {
        item["id"]: (item["value"], item["masked"]) for item in items
    }


def test_components_and_their_variables() -> None:
    items = payload("account-components.json")["components"]
    found = rows_of("components", items)
    rows = {r["uid"]: r for r in found["components"]}
    for item in items:
        assert rows[item["uid"]]["credentials_required"] == item["credentialsRequired"]
        assert rows[item["uid"]]["category_code"] == item["categoryCode"]
    (variable,) = found["component_variables"]
    assert variable["component_uid"] == items[0]["uid"] and variable["position"] == 0
    assert variable["name"] == "MinAgeDays" and variable["direction"] is False


def test_filters_read_their_dates() -> None:
    items = payload("filter-default-filters.json")["filters"]
    rows = {r["id"]: r for r in rows_of("filters", items)["filters"]}
    for item in items:
        assert rows[item["id"]]["date_create"] == ms(item["dateCreate"])
        assert rows[item["id"]]["last_updated"] == ms(item["lastUpdated"])
        assert rows[item["id"]]["type"] == item["type"]


def test_account_reads_the_misspelt_billing_email() -> None:
    from etl.resources.account import SPEC

    body = payload("account.json")
    row = SPEC.row(body)
    assert row["uid"] == body["uid"] and row["billing_email"] == "billing@msp.example"
    assert row["device_limit"] == body["descriptor"]["deviceLimit"]
    assert row["number_of_devices"] == body["devicesStatus"]["numberOfDevices"]


SITE = Site("6f1c2a9e-3b7d-4e58-9a10-2c4d8e7f0b31")


def test_site_settings_and_mail_recipients() -> None:
    body = payload("site-settings.json")
    found = rows_of("site_settings", body, SITE)
    (settings,) = found["site_settings"]
    assert settings["site_uid"] == SITE.uid and settings["name"] == "Northwind Example Ltd"
    assert settings["proxy_host"] is None  # proxySettings null
    (recipient,) = found["site_mail_recipients"]
    assert recipient["email"] == "alerts@msp.example" and recipient["receives_alerts"] is True


def test_network_interfaces_one_row_per_adapter() -> None:
    devices = payload("site-devices-network-interface.json")["devices"]
    rows = rows_of("device_network_interfaces", devices, SITE)["device_network_interfaces"]
    expected = [
        (d["uid"], n, nic["macAddress"]) for d in devices for n, nic in enumerate(d["nics"])
    ]
    assert [(r["device_uid"], r["position"], r["mac_address"]) for r in rows] == expected


AUDITED = datetime(2026, 12, 1, 11, 36, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "device_class", "children"),
    [
        ("audit-device.json", "device", {"device_audit_nics", "device_audit_logical_disks"}),
        ("audit-esxihost.json", "esxihost", {"device_audit_esxi_guests"}),
        ("audit-printer.json", "printer", {"device_audit_printer_supplies"}),
    ],
)
def test_audits_and_their_lists(name: str, device_class: str, children: set[str]) -> None:
    body = payload(name)
    owner = Due("0d7b5e21-9c43-4a8f-b612-e3f5a7c90d14", device_class, AUDITED)
    found = rows_of("device_audits", body, owner)
    (audit,) = found["device_audits"]
    assert audit["device_uid"] == owner.uid and audit["audited_at"] == AUDITED
    assert audit["manufacturer"] == (body.get("systemInfo") or {}).get("manufacturer")
    for table in children:
        assert found[table], table  # every list in the document gives rows
        assert [r["position"] for r in found[table]] == list(range(len(found[table])))


def test_software_is_a_set_of_titles() -> None:
    items = payload("audit-device-software.json")["software"]
    owner = Due("0d7b5e21-9c43-4a8f-b612-e3f5a7c90d14", "device", AUDITED)
    found = rows_of("device_software", items, owner)
    assert {(r["name"], r["version"]) for r in found["device_software"]} == {
        (i["name"], i["version"]) for i in items
    }
    assert found["device_software_audits"][0]["software_count"] == len(items)


def test_jobs_are_named_by_job_entries_of_the_activity_log() -> None:
    entries = payload("activity-logs.json")["activities"]
    named = [
        (uid_in(d, "job"), uid_in(d, "device"))
        for d in (json.loads(e["details"]) for e in entries if e["category"] == "job")
    ]
    job = payload("job.json")
    assert named and all(j == job["uid"] and d for j, d in named)
    row = JOB.row(job)
    assert (row["job_uid"], row["id"], row["name"]) == (job["uid"], job["id"], job["name"])
    assert row["status"] == "completed" and row["created_at"] == ms(job["dateCreated"])


def test_job_results_with_their_output_cut_and_marked() -> None:
    body = payload("job-results-device.json")
    assert is_final(body["jobDeploymentStatus"])  # "success": the case varies
    row = RESULT.row(body)
    assert row == {"ran_on": ms(body["ranOn"]), "job_deployment_status": "success"}
    (part,) = [COMPONENT.row(c) for c in body["componentResults"]]
    stdout = payload("job-results-device-stdout.json")
    with_output([part], {"stdout": stdout, "stderr": []}, 20)
    text = stdout[0]["stdData"]
    assert part["has_std_out"] is True and part["std_err"] is None  # not flagged: NULL
    assert part["std_out"].startswith(text[:20]) and part["std_out"].endswith(
        f"cut at 20 of {len(text)} characters]"
    )
    assert cut(text, len(text)) == text  # short enough: stored as sent


def test_platform_status_gives_the_version() -> None:
    body = payload("system-status.json")
    assert PlatformStatus(body=body).details() == {
        "platform_version": body["version"],
        "platform_started": ms(body["started"]).isoformat(),
    }
