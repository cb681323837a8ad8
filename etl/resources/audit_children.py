"""The lists inside an audit, one table each, keyed by (``device_uid``, ``position``).

Audit lists carry no ids, so a row's key is its place in the list; the whole list of a
device is replaced when its audit is fetched again. Tables are declared from one spec
(API field → column, snake_cased as the data contract asks, converted by the column type:
:mod:`etl.resources.convert`) so they stay uniform.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Float, Integer, String, Table, Text

from etl.db.schema import JSONDoc, UTCDateTime
from etl.resources.convert import Spec, fields, snake

# table → (audit list key, what it holds, [(API field, column type)])
SPEC: dict[str, tuple[str, str, list[tuple[str, Any]]]] = {
    "device_audit_nics": (
        "nics",
        "Network adapters from the audit (ESXi hosts: name; agents: instance).",
        [
            ("instance", Text),
            ("name", Text),
            ("ipv4", Text),
            ("ipv6", Text),
            ("macAddress", Text),
            ("type", Text),
            ("speed", Text),
        ],
    ),
    "device_audit_logical_disks": (
        "logicalDisks",
        "Logical disks (sizes in bytes).",
        [
            ("diskIdentifier", Text),
            ("description", Text),
            ("freespace", BigInteger),
            ("size", BigInteger),
        ],
    ),
    "device_audit_processors": (
        "processors",
        "Processors (ESXi hosts add frequency in GHz and cores).",
        [("name", Text), ("frequency", Float), ("numberOfCores", Integer)],
    ),
    "device_audit_memory_modules": (
        "physicalMemory",
        "Memory modules (size in bytes).",
        [
            ("module", Text),
            ("size", BigInteger),
            ("type", Text),
            ("speed", Text),
            ("serialNumber", Text),
            ("partNumber", Text),
            ("bank", Text),
        ],
    ),
    "device_audit_displays": (
        "displays",
        "Displays.",
        [("instance", Text), ("screenHeight", Integer), ("screenWidth", Integer)],
    ),
    "device_audit_video_boards": ("videoBoards", "Video boards.", [("displayAdapter", Text)]),
    "device_audit_attached_devices": (
        "attachedDevices",
        "Attached devices and their drivers.",
        [
            ("deviceName", Text),
            ("deviceType", Text),
            ("driverFile", Text),
            ("driverFileLastModified", UTCDateTime),
            ("driverManufacturer", Text),
            ("driverName", Text),
            ("driverVersion", Text),
            ("portName", Text),
        ],
    ),
    "device_audit_esxi_guests": (
        "guests",
        "Virtual machines of an ESXi host.",
        [
            ("guestName", Text),
            ("processorSpeedTotal", Integer),
            ("memorySizeTotal", BigInteger),
            ("numberOfSnapshots", Integer),
            ("datastores", Text),
        ],
    ),
    "device_audit_esxi_datastores": (
        "datastores",
        "Datastores of an ESXi host (sizes in bytes; extents as sent).",
        [
            ("datastoreName", Text),
            ("subscriptionPercent", Integer),
            ("freeSpace", BigInteger),
            ("size", BigInteger),
            ("fileSystem", Text),
            ("status", Text),
            ("dataExtents", JSONDoc),
        ],
    ),
    "device_audit_printer_supplies": (
        "printerMarkerSupplies",
        "Printer supplies (levels as the printer reports them; negative: unknown).",
        [("description", Text), ("maxCapacity", Text), ("suppliesLevel", Text)],
    ),
}


SPECS: dict[str, Spec] = {name: fields(columns) for name, (_, _, columns) in SPEC.items()}

CHILDREN: dict[str, Table] = {
    name: SPECS[name].table(
        name,
        doc,
        Column("device_uid", String(64), primary_key=True),
        Column("position", Integer, primary_key=True, info={"doc": "place in the audit list"}),
    )
    for name, (_, doc, _) in SPEC.items()
}


def child_rows(uid: str, body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every child table's rows for one audit document (absent lists give no rows)."""
    return {
        name: SPECS[name].numbered(body.get(key), {"device_uid": uid})
        for name, (key, _, _) in SPEC.items()
    }


__all__ = ["CHILDREN", "SPEC", "child_rows", "snake"]
