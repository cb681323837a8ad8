"""Installed software: ``/v2/audit/device/{uid}/software`` (paged) → ``device_software``.

Fetched under the audits' rule: only devices (class ``device``) whose ``last_audit_date``
moved since their stored software list (``device_software_audits.audited_at``), once for a
device never seen. Each device's list is replaced as one set: titles gone from the audit
are deleted, unchanged ones are not rewritten (their ``synced_at`` tells when they first
appeared or last changed).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Column, Connection, Integer, String, Table, Text

from etl.db.load import replace_sets, upsert
from etl.db.schema import UTCDateTime, account_columns, metadata
from etl.resources.base import RunContext, as_str, register
from etl.resources.patterns import Due, PerDeviceResource

device_software = Table(
    "device_software",
    metadata,
    Column("device_uid", String(64), primary_key=True),
    Column("name", Text, primary_key=True),
    Column("version", Text, primary_key=True, info={"doc": "'' when the audit gives none"}),
    *account_columns(),
    info={"doc": "Software of each device's latest audit; titles that vanish are deleted."},
)

device_software_audits = Table(
    "device_software_audits",
    metadata,
    Column("device_uid", String(64), primary_key=True),
    Column(
        "audited_at",
        UTCDateTime(),
        info={"doc": "the device's last_audit_date its software list belongs to"},
    ),
    Column("software_count", Integer),
    *account_columns(),
    info={"doc": "When each device's software list was taken, and how long it is."},
)


def software_rows(uid: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Software items → rows (a title without a name is no title; no version is ``''``)."""
    return [
        {"device_uid": uid, "name": str(item["name"]), "version": as_str(item.get("version")) or ""}
        for item in items
        if isinstance(item, dict) and item.get("name") not in (None, "")
    ]


@register
class DeviceSoftware(PerDeviceResource):
    """Software lists of the devices (class ``device``) whose audit moved."""

    name = "device_software"
    tables: ClassVar = (device_software, device_software_audits)
    state = device_software_audits
    classes = ("device",)
    what = "software lists"
    items_key = "software"

    def path(self, uid: str, cls: str) -> str:
        return f"/v2/audit/device/{uid}/software"

    def save(self, ctx: RunContext, conn: Connection, fetched: list[tuple[Due, Any]]) -> int:
        rows: list[dict[str, Any]] = []
        lists: list[dict[str, Any]] = []
        for (uid, _, when), items in fetched:
            found = software_rows(uid, items)
            rows += found
            titles = len({(r["name"], r["version"]) for r in found})
            lists.append({"device_uid": uid, "audited_at": when, "software_count": titles})
        done = [entry["device_uid"] for entry in lists]
        written = replace_sets(conn, device_software, "device_uid", done, ctx.stamp(rows))
        upsert(conn, device_software_audits, ctx.stamp(lists))  # bookkeeping, not data
        return written
