"""Installed software: ``/v2/audit/device/{uid}/software`` (paged) → ``device_software``.

Fetched under the audits' rule: only devices (class ``device``) whose ``last_audit_date``
moved since their stored software list (``device_software_audits.audited_at``), once for a
device never seen. Each device's list is replaced as one set: titles gone from the audit
are deleted, unchanged ones are not rewritten (their ``synced_at`` tells when they first
appeared or last changed). ``device_software_history`` keeps when each title and version
came and went (:mod:`etl.history.software`), written in the same transaction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Integer, String, Text, select

from etl.api.budget import Lane
from etl.db.load import replace_sets, upsert
from etl.db.schema import UTCDateTime, account_table
from etl.history import software as history
from etl.resources.base import NIGHTLY, RunContext, register
from etl.resources.convert import mapped, table_row
from etl.resources.devices import due_devices
from etl.resources.shapes import Due, PerDeviceResource, Rows

device_software = account_table(
    "device_software",
    Column("device_uid", String(64), primary_key=True),
    Column("name", Text, primary_key=True),
    Column("version", Text, primary_key=True, info={"doc": "'' when the audit gives none"}),
    doc="Software of each device's latest audit; titles that vanish are deleted.",
)

device_software_audits = account_table(
    "device_software_audits",
    Column("device_uid", String(64), primary_key=True),
    Column(
        "audited_at",
        UTCDateTime(),
        info={"doc": "the device's last_audit_date its software list belongs to"},
    ),
    Column("software_count", Integer),
    doc="When each device's software list was taken, and how long it is.",
)


def software_rows(uid: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Software items → rows (a title without a name is no title; no version is ``''``);
    a title that cannot be stored is skipped and noted."""

    def row(item: dict[str, Any]) -> dict[str, Any]:
        version = item.get("version")
        values = {
            "device_uid": uid,
            "name": item["name"],
            "version": "" if version is None else version,
        }
        return table_row(device_software, values)

    named = (i for i in items if isinstance(i, dict) and i.get("name") not in (None, ""))
    return mapped(named, row)


@register
class DeviceSoftware(PerDeviceResource):
    """Software lists of the devices (class ``device``) whose audit moved."""

    name = "device_software"
    tables = (device_software, device_software_audits)
    path = "/v2/audit/device/{uid}/software"
    items_key = "software"
    device_classes = ("device",)  # the planner counts these (etl/plan.py)
    what = "software lists"
    cadence = NIGHTLY
    lane = Lane.LOW
    cost = "one or two per device whose audit moved; its list is replaced as a set"

    def owners(self, ctx: RunContext, conn: Connection) -> list[Due]:
        return due_devices(conn, ctx.account_uid, device_software_audits, ("device",))

    def requests_needed(self, conn: Connection, account_uid: str) -> int | None:
        """A page per 250 titles each due device listed last time (one when never listed)."""
        due = due_devices(conn, account_uid, device_software_audits, ("device",))
        query = select(
            device_software_audits.c.device_uid, device_software_audits.c.software_count
        ).where(device_software_audits.c.account_uid == account_uid)
        known = {uid: count for uid, count in conn.execute(query)}
        return sum(max(1, math.ceil((known.get(d.uid) or 0) / 250)) for d in due)

    def rows(self, body: Any, owner: Due) -> Rows:
        found = software_rows(owner.uid, body)
        titles = len({(r["name"], r["version"]) for r in found})
        taken = {"device_uid": owner.uid, "audited_at": owner.last_audit_date}
        lists = [{**taken, "software_count": titles}]
        return {device_software: found, device_software_audits: lists}

    def save(
        self, ctx: RunContext, conn: Connection, rows: Rows, owners: Sequence[str] | None
    ) -> int:
        stamped = ctx.stamp(rows[device_software])
        written = replace_sets(
            conn, device_software, "device_uid", owners or [], stamped, account_uid=ctx.account_uid
        )
        upsert(conn, device_software_audits, ctx.stamp(rows[device_software_audits]))  # bookkeeping
        return written

    def track(self, ctx: RunContext, conn: Connection, rows: Rows) -> int:
        lists = rows[device_software_audits]  # one per device whose list was saved
        return history.observe(ctx, conn, rows[device_software], lists)
