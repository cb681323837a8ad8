"""Device audits: ``/v2/audit/{device|esxihost|printer}/{uid}`` → ``device_audits`` + children.

Audits cost one request per device, so only devices whose ``last_audit_date`` moved since
their stored audit are fetched (``device_audits.audited_at`` is that date); a device never
audited is fetched once. The child lists (adapters, disks, processors, memory, displays,
video boards, attached devices, ESXi guests and datastores, printer supplies) are replaced
as one set per device. A device whose audit answers 404 or 400 is skipped and remembered in
the cursor with its audit date, so it is not asked again until that date moves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Integer, String, Text

from etl.api.budget import Lane
from etl.db.schema import JSONDoc, UTCDateTime
from etl.resources.audit_children import CHILDREN, child_rows
from etl.resources.base import NIGHTLY, RunContext, register
from etl.resources.convert import Field, Spec
from etl.resources.devices import due_devices
from etl.resources.shapes import Due, PerDeviceResource, Rows

AUDITED_CLASSES = ("device", "esxihost", "printer")

SPEC = Spec(  # the audit document's own fields (its lists: audit_children)
    Field("portalUrl", Text),
    Field("webRemoteUrl", Text),
    Field("systemInfo.manufacturer", Text, doc="systemInfo.manufacturer"),
    Field("systemInfo.model", Text),
    Field("systemInfo.totalPhysicalMemory", BigInteger, doc="bytes"),
    Field("systemInfo.totalCpuCores", Integer),
    Field("systemInfo.username", Text),
    Field("systemInfo.dotNetVersion", Text),
    Field("systemInfo.name", Text, column="system_name", doc="ESXi: systemInfo.name"),
    Field("systemInfo.numberOfSnapshots", Integer, doc="ESXi"),
    Field("systemInfo.serviceTag", Text, doc="ESXi"),
    Field("bios.instance", Text, column="bios_instance"),
    Field("bios.releaseDate", UTCDateTime, column="bios_release_date"),
    Field("bios.serialNumber", Text, column="bios_serial_number"),
    Field("bios.smBiosVersion", Text, column="bios_sm_bios_version"),
    Field("baseBoard.manufacturer", Text, column="base_board_manufacturer"),
    Field("baseBoard.product", Text, column="base_board_product"),
    Field("snmpInfo.snmpName", Text),
    Field("snmpInfo.snmpContact", Text),
    Field("snmpInfo.snmpDescription", Text),
    Field("snmpInfo.snmpLocation", Text),
    Field("snmpInfo.snmpUptime", Text),
    Field("snmpInfo.nicManufacturer", Text, column="snmp_nic_manufacturer"),
    Field("snmpInfo.objectId", Text, column="snmp_object_id"),
    Field("snmpInfo.snmpSerial", Text),
    Field("printer.printedPageCount", BigInteger, doc="printers"),
    Field("mobileInfo", JSONDoc, convert=lambda v: v or None, doc="mobileInfo list, as sent"),
)
device_audits = SPEC.table(
    "device_audits",
    "The latest hardware audit of each device, ESXi host and printer.",
    Column("device_uid", String(64), primary_key=True),
    Column("device_class", String(32)),
    Column(
        "audited_at",
        UTCDateTime(),
        info={"doc": "the device's last_audit_date this audit belongs to"},
    ),
)


@register
class DeviceAudits(PerDeviceResource):
    """Hardware audits of the devices whose audit moved."""

    name = "device_audits"
    tables = (device_audits, *CHILDREN.values())
    path = "/v2/audit/{device_class}/{uid}"
    device_classes = AUDITED_CLASSES  # the planner counts these (etl/plan.py)
    what = "device audits"
    cadence = NIGHTLY
    lane = Lane.LOW
    cost = "one per device whose `last_audit_date` moved (a never-audited device once)"

    def owners(self, ctx: RunContext, conn: Connection) -> list[Due]:
        return due_devices(conn, ctx.account_uid, device_audits, AUDITED_CLASSES)

    def rows(self, body: Any, owner: Due) -> Rows:
        body = body if isinstance(body, dict) else {}  # null: an empty audit
        audit = {
            "device_uid": owner.uid,
            "device_class": owner.device_class,
            "audited_at": owner.last_audit_date,
            **SPEC.row(body),
        }
        children = child_rows(owner.uid, body)
        return {device_audits: [audit], **{CHILDREN[name]: children[name] for name in CHILDREN}}
