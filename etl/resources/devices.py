"""Devices: ``GET /v2/account/devices`` → ``devices``, completed per site where needed.

The account-wide list has been seen to miss devices that per-site listings show, so after
the sweep every site whose ``number_of_devices`` (from the sites resource) exceeds the
devices seen for it is listed again with ``GET /v2/site/{uid}/devices``. That costs nothing
on a healthy account and closes the gap on a sick one.

Removal is never read from a sweep: a device that shows up ``deleted`` (moved to the
"Deleted Devices" site) gets ``removed_at``; a stored device that no listing showed is asked
for by itself and gets ``removed_at`` only on a 404 (:mod:`etl.resources.removal`). A
device seen alive again has ``removed_at`` cleared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    String,
    Table,
    Text,
    select,
)

from etl.api.client import Page
from etl.api.timestamps import to_date, to_utc
from etl.db.schema import JSONDoc, UTCDateTime, account_columns, metadata
from etl.resources.base import (
    ListResource,
    ResourceResult,
    RunContext,
    as_bool,
    as_int,
    pick,
    register,
)
from etl.resources.removal import confirm_removed
from etl.resources.sites import sites

UDF_COLUMNS = 30  # udf1..udf30 are columns; live accounts have up to udf300 (rest: udf_extra)

devices = Table(
    "devices",
    metadata,
    Column("uid", String(64), primary_key=True),
    Column("id", BigInteger, index=True),
    Column("site_uid", String(64), index=True),
    Column("site_id", BigInteger),
    Column("site_name", Text),
    Column("hostname", Text),
    Column("description", Text),
    Column("device_class", String(32)),
    Column("device_type_category", Text),
    Column("device_type_type", Text),
    Column("operating_system", Text),
    Column("int_ip_address", Text),
    Column("ext_ip_address", Text),
    Column("last_logged_in_user", Text),
    Column("domain", Text),
    Column("cag_version", Text),
    Column("display_version", Text),
    Column("a64_bit", Boolean),
    Column("online", Boolean),
    Column("suspended", Boolean),
    Column("deleted", Boolean),
    Column("reboot_required", Boolean),
    Column("snmp_enabled", Boolean),
    Column("network_probe", Boolean),
    Column("onboarded_via_network_monitor", Boolean),
    Column("last_seen", UTCDateTime()),
    Column("last_reboot", UTCDateTime()),
    Column("last_audit_date", UTCDateTime()),
    Column("creation_date", UTCDateTime()),
    Column("warranty_date", Date),
    Column("antivirus_product", Text),
    Column("antivirus_status", String(64)),
    Column("patch_status", String(64)),
    Column("patches_installed", Integer),
    Column("patches_approved_pending", Integer),
    Column("patches_not_approved", Integer),
    Column("software_status", Text),
    Column("portal_url", Text),
    Column("web_remote_url", Text),
    *(Column(f"udf{n}", Text) for n in range(1, UDF_COLUMNS + 1)),
    Column("udf_extra", JSONDoc, info={"doc": "non-null udf31..udf300 as a JSON object"}),
    Column("removed_at", UTCDateTime(), info={"doc": "set once the device is confirmed gone"}),
    *account_columns(),
    info={"doc": "Devices of every site, with patch, antivirus and UDF fields flattened."},
)


def to_row(item: dict[str, Any]) -> dict[str, Any]:
    """A device item → a ``devices`` row (times in UTC, nested objects flattened)."""
    udf = item.get("udf") if isinstance(item.get("udf"), dict) else {}
    extra = {
        k: v
        for k, v in udf.items()
        if v is not None and k.startswith("udf") and (as_int(k[3:]) or 0) > UDF_COLUMNS
    }
    row: dict[str, Any] = {
        "uid": str(item["uid"]),
        "id": as_int(item.get("id")),
        "site_uid": item.get("siteUid"),
        "site_id": as_int(item.get("siteId")),
        "site_name": item.get("siteName"),
        "hostname": item.get("hostname"),
        "description": item.get("description"),
        "device_class": item.get("deviceClass"),
        "device_type_category": pick(item, "deviceType", "category"),
        "device_type_type": pick(item, "deviceType", "type"),
        "operating_system": item.get("operatingSystem"),
        "int_ip_address": item.get("intIpAddress"),
        "ext_ip_address": item.get("extIpAddress"),
        "last_logged_in_user": item.get("lastLoggedInUser"),
        "domain": item.get("domain"),
        "cag_version": item.get("cagVersion"),
        "display_version": item.get("displayVersion"),
        "a64_bit": as_bool(item.get("a64Bit")),
        "online": as_bool(item.get("online")),
        "suspended": as_bool(item.get("suspended")),
        "deleted": as_bool(item.get("deleted")),
        "reboot_required": as_bool(item.get("rebootRequired")),
        "snmp_enabled": as_bool(item.get("snmpEnabled")),
        "network_probe": as_bool(item.get("networkProbe")),
        "onboarded_via_network_monitor": as_bool(item.get("onboardedViaNetworkMonitor")),
        "last_seen": to_utc(item.get("lastSeen")),
        "last_reboot": to_utc(item.get("lastReboot")),
        "last_audit_date": to_utc(item.get("lastAuditDate")),
        "creation_date": to_utc(item.get("creationDate")),
        "warranty_date": to_date(item.get("warrantyDate")),
        "antivirus_product": pick(item, "antivirus", "antivirusProduct"),
        "antivirus_status": pick(item, "antivirus", "antivirusStatus"),
        "patch_status": pick(item, "patchManagement", "patchStatus"),
        "patches_installed": as_int(pick(item, "patchManagement", "patchesInstalled")),
        "patches_approved_pending": as_int(pick(item, "patchManagement", "patchesApprovedPending")),
        "patches_not_approved": as_int(pick(item, "patchManagement", "patchesNotApproved")),
        "software_status": item.get("softwareStatus"),
        "portal_url": item.get("portalUrl"),
        "web_remote_url": item.get("webRemoteUrl"),
        "udf_extra": extra or None,
        "removed_at": None,  # seen alive now, so not removed (cleared if it came back)
    }
    for n in range(1, UDF_COLUMNS + 1):
        value = udf.get(f"udf{n}")
        row[f"udf{n}"] = None if value is None else str(value)
    return row


@register
class Devices(ListResource):
    """The account-wide device list, topped up per site where it came back short."""

    name = "devices"
    depends_on = ("sites",)
    path = "/v2/account/devices"
    items_key = "devices"
    table = devices
    tables: ClassVar = (devices,)

    def to_row(self, item: dict[str, Any]) -> dict[str, Any]:
        return to_row(item)

    def run(self, ctx: RunContext) -> ResourceResult:
        result = ResourceResult()
        per_site: Counter[str] = Counter()
        seen: set[str] = set()
        with ctx.engine.begin() as conn:
            removed: dict[str, datetime | None] = dict(
                conn.execute(  # type: ignore[arg-type]
                    select(devices.c.uid, devices.c.removed_at).where(
                        devices.c.account_uid == ctx.account_uid
                    )
                ).all()
            )

            def row(item: dict[str, Any]) -> dict[str, Any]:
                out = to_row(item)
                if out["deleted"]:  # in "Deleted Devices": removal confirmed by Datto itself
                    out["removed_at"] = removed.get(out["uid"]) or ctx.started_at
                return out

            def count(item: dict[str, Any]) -> None:
                seen.add(str(item["uid"]))
                per_site[str(item.get("siteUid"))] += 1

            def save(pages: Iterable[Page]) -> None:
                self.save_pages(ctx, conn, pages, result, on_item=count, to_row=row)

            save(ctx.client.paginate(self.path, self.items_key))
            expected = conn.execute(
                select(sites.c.uid, sites.c.number_of_devices).where(
                    sites.c.account_uid == ctx.account_uid, sites.c.removed_at.is_(None)
                )
            ).all()
            short = [uid for uid, n in expected if n and per_site[uid] < n]
            for uid in short:
                save(ctx.client.paginate(f"/v2/site/{uid}/devices", self.items_key))
            found = confirm_removed(ctx, conn, devices, seen, "/v2/device/{uid}", row)
        result.rows_written += found.pop("changed")
        result.details.update(found, sites_relisted=len(short))
        return result
