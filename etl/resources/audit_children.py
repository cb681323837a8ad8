"""The lists inside an audit, one table each, keyed by (``device_uid``, ``position``).

Audit lists carry no ids, so a row's key is its place in the list; the whole list of a
device is replaced when its audit is fetched again. Tables are declared from one spec
(API field → column, snake_cased as the data contract asks) so they stay uniform.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, Column, Float, Integer, String, Table, Text
from sqlalchemy.types import TypeEngine

from etl.api.timestamps import to_utc
from etl.db.schema import JSONDoc, UTCDateTime, account_columns, metadata
from etl.resources.base import as_int, as_str
from etl.resources.common import numbered


def as_float(value: Any) -> float | None:
    """A float or None."""
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


CONVERT: dict[Any, Callable[[Any], Any]] = {
    BigInteger: as_int,
    Integer: as_int,
    Float: as_float,
    Text: as_str,
    UTCDateTime: to_utc,
    JSONDoc: lambda v: v,
}

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


def snake(name: str) -> str:
    """``macAddress`` → ``mac_address``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _column(field: str, kind: Any) -> Column[Any]:
    type_: TypeEngine[Any] = kind if isinstance(kind, TypeEngine) else kind()
    return Column(snake(field), type_)


CHILDREN: dict[str, Table] = {
    name: Table(
        name,
        metadata,
        Column("device_uid", String(64), primary_key=True),
        Column("position", Integer, primary_key=True, info={"doc": "place in the audit list"}),
        *(_column(field, kind) for field, kind in fields),
        *account_columns(),
        info={"doc": doc},
    )
    for name, (_, doc, fields) in SPEC.items()
}


def child_rows(uid: str, body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every child table's rows for one audit document (absent lists give no rows)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, (key, _, fields) in SPEC.items():
        out[name] = [
            {
                **owner,
                **{snake(f): CONVERT[kind](item.get(f)) for f, kind in fields},
            }
            for item, owner in numbered(body.get(key), {"device_uid": uid})
        ]
    return out
