"""Device audits: ``/v2/audit/{device|esxihost|printer}/{uid}`` → ``device_audits`` + children.

Audits cost one request per device, so only devices whose ``last_audit_date`` moved since
their stored audit are fetched (``device_audits.audited_at`` is that date); a device never
audited is fetched once. The child lists (adapters, disks, processors, memory, displays,
video boards, attached devices, ESXi guests and datastores, printer supplies) are replaced
as one set per device. A device whose audit answers 404 or 400 is skipped and remembered in
the cursor with its audit date, so it is not asked again until that date moves.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import BigInteger, Column, Connection, Integer, String, Table, Text

from etl.api.timestamps import to_utc
from etl.db.load import replace_sets, upsert
from etl.db.schema import JSONDoc, UTCDateTime, account_columns, metadata
from etl.resources.audit_children import CHILDREN, child_rows
from etl.resources.base import RunContext, as_int, pick, register
from etl.resources.patterns import Due, PerDeviceResource

AUDITED_CLASSES = ("device", "esxihost", "printer")

device_audits = Table(
    "device_audits",
    metadata,
    Column("device_uid", String(64), primary_key=True),
    Column("device_class", String(32)),
    Column(
        "audited_at",
        UTCDateTime(),
        info={"doc": "the device's last_audit_date this audit belongs to"},
    ),
    Column("portal_url", Text),
    Column("web_remote_url", Text),
    Column("manufacturer", Text, info={"doc": "systemInfo.manufacturer"}),
    Column("model", Text),
    Column("total_physical_memory", BigInteger, info={"doc": "bytes"}),
    Column("total_cpu_cores", Integer),
    Column("username", Text),
    Column("dot_net_version", Text),
    Column("system_name", Text, info={"doc": "ESXi: systemInfo.name"}),
    Column("number_of_snapshots", Integer, info={"doc": "ESXi"}),
    Column("service_tag", Text, info={"doc": "ESXi"}),
    Column("bios_instance", Text),
    Column("bios_release_date", UTCDateTime()),
    Column("bios_serial_number", Text),
    Column("bios_sm_bios_version", Text),
    Column("base_board_manufacturer", Text),
    Column("base_board_product", Text),
    Column("snmp_name", Text),
    Column("snmp_contact", Text),
    Column("snmp_description", Text),
    Column("snmp_location", Text),
    Column("snmp_uptime", Text),
    Column("snmp_nic_manufacturer", Text),
    Column("snmp_object_id", Text),
    Column("snmp_serial", Text),
    Column("printed_page_count", BigInteger, info={"doc": "printers"}),
    Column("mobile_info", JSONDoc, info={"doc": "mobileInfo list, as sent"}),
    *account_columns(),
    info={"doc": "The latest hardware audit of each device, ESXi host and printer."},
)


def audit_row(uid: str, cls: str, audited_at: Any, body: dict[str, Any]) -> dict[str, Any]:
    """An audit document → its ``device_audits`` row."""
    system = body.get("systemInfo")
    snmp = body.get("snmpInfo")
    return {
        "device_uid": uid,
        "device_class": cls,
        "audited_at": audited_at,
        "portal_url": body.get("portalUrl"),
        "web_remote_url": body.get("webRemoteUrl"),
        "manufacturer": pick(system, "manufacturer"),
        "model": pick(system, "model"),
        "total_physical_memory": as_int(pick(system, "totalPhysicalMemory")),
        "total_cpu_cores": as_int(pick(system, "totalCpuCores")),
        "username": pick(system, "username"),
        "dot_net_version": pick(system, "dotNetVersion"),
        "system_name": pick(system, "name"),
        "number_of_snapshots": as_int(pick(system, "numberOfSnapshots")),
        "service_tag": pick(system, "serviceTag"),
        "bios_instance": pick(body, "bios", "instance"),
        "bios_release_date": to_utc(pick(body, "bios", "releaseDate")),
        "bios_serial_number": pick(body, "bios", "serialNumber"),
        "bios_sm_bios_version": pick(body, "bios", "smBiosVersion"),
        "base_board_manufacturer": pick(body, "baseBoard", "manufacturer"),
        "base_board_product": pick(body, "baseBoard", "product"),
        "snmp_name": pick(snmp, "snmpName"),
        "snmp_contact": pick(snmp, "snmpContact"),
        "snmp_description": pick(snmp, "snmpDescription"),
        "snmp_location": pick(snmp, "snmpLocation"),
        "snmp_uptime": pick(snmp, "snmpUptime"),
        "snmp_nic_manufacturer": pick(snmp, "nicManufacturer"),
        "snmp_object_id": pick(snmp, "objectId"),
        "snmp_serial": pick(snmp, "snmpSerial"),
        "printed_page_count": as_int(pick(body, "printer", "printedPageCount")),
        "mobile_info": body.get("mobileInfo") or None,
    }


@register
class DeviceAudits(PerDeviceResource):
    """Hardware audits of the devices whose audit moved."""

    name = "device_audits"
    tables: ClassVar = (device_audits, *CHILDREN.values())
    state = device_audits
    classes = AUDITED_CLASSES
    what = "device audits"

    def path(self, uid: str, cls: str) -> str:
        return f"/v2/audit/{cls}/{uid}"

    def save(self, ctx: RunContext, conn: Connection, fetched: list[tuple[Due, Any]]) -> int:
        audits: list[dict[str, Any]] = []
        children: dict[str, list[dict[str, Any]]] = {name: [] for name in CHILDREN}
        for (uid, cls, when), body in fetched:
            body = body if isinstance(body, dict) else {}  # null: an empty audit
            audits.append(audit_row(uid, cls, when, body))
            for name, items in child_rows(uid, body).items():
                children[name] += items
        done = [row["device_uid"] for row in audits]
        written = upsert(conn, device_audits, ctx.stamp(audits))
        for name, table in CHILDREN.items():
            written += replace_sets(conn, table, "device_uid", done, ctx.stamp(children[name]))
        return written
