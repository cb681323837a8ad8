"""Sites: ``GET /v2/account/sites`` → ``sites``.

The list includes Datto's system sites ("Deleted Devices", whose uid is not a GUID, and the
default "Managed"/"OnDemand" sites); they are stored with ``system_site`` true so dashboards
can leave them out of per-customer figures. A stored site the sweep did not show gets
``removed_at`` only once ``GET /v2/site/{uid}`` answers 404 (see :mod:`etl.resources.removal`).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from sqlalchemy import Boolean, Column, Integer, String, Table, Text

from etl.db.schema import UTCDateTime, account_columns, metadata
from etl.resources.base import (
    ListResource,
    ResourceResult,
    RunContext,
    as_bool,
    as_int,
    as_str,
    pick,
    register,
)
from etl.resources.removal import confirm_removed

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
DELETED_DEVICES = "Deleted Devices"
SYSTEM_SITE_NAMES = frozenset({DELETED_DEVICES, "Managed", "OnDemand"})  # per API_FACTS.md

sites = Table(
    "sites",
    metadata,
    Column("uid", String(64), primary_key=True),
    Column("id", Integer, index=True),
    Column("name", Text),
    Column("description", Text),
    Column("notes", Text),
    Column("on_demand", Boolean),
    Column("splashtop_auto_install", Boolean),
    Column(
        "system_site", Boolean, nullable=False, info={"doc": "Datto's own site, not a customer"}
    ),
    Column("number_of_devices", Integer),
    Column("number_of_online_devices", Integer),
    Column("number_of_offline_devices", Integer),
    Column("autotask_company_id", String(64)),
    Column("autotask_company_name", Text),
    Column("portal_url", Text),
    Column("proxy_host", Text),
    Column("proxy_port", Integer),
    Column("proxy_type", String(16)),
    Column("proxy_username", Text),
    Column("removed_at", UTCDateTime(), info={"doc": "set once the site is confirmed gone"}),
    *account_columns(),
    info={"doc": "Sites (customers) of the account, system sites flagged."},
)


def is_system_site(item: dict[str, Any]) -> bool:
    """Deleted Devices (a non-GUID uid) and Datto's other built-in sites."""
    uid = str(item.get("uid") or "")
    return not GUID.match(uid) or item.get("name") in SYSTEM_SITE_NAMES


@register
class Sites(ListResource):
    """Every site of the account, in one transaction; removals confirmed one by one."""

    name = "sites"
    path = "/v2/account/sites"
    items_key = "sites"
    table = sites
    tables: ClassVar = (sites,)

    def to_row(self, item: dict[str, Any]) -> dict[str, Any]:
        # proxySettings.password is deliberately not stored: secrets stay out of the database.
        return {
            "uid": str(item["uid"]),
            "id": as_int(item.get("id")),
            "name": item.get("name"),
            "description": item.get("description"),
            "notes": item.get("notes"),
            "on_demand": as_bool(item.get("onDemand")),
            "splashtop_auto_install": as_bool(item.get("splashtopAutoInstall")),
            "system_site": is_system_site(item),
            "number_of_devices": as_int(pick(item, "devicesStatus", "numberOfDevices")),
            "number_of_online_devices": as_int(
                pick(item, "devicesStatus", "numberOfOnlineDevices")
            ),
            "number_of_offline_devices": as_int(
                pick(item, "devicesStatus", "numberOfOfflineDevices")
            ),
            "autotask_company_id": as_str(item.get("autotaskCompanyId")),
            "autotask_company_name": item.get("autotaskCompanyName"),
            "portal_url": item.get("portalUrl"),
            "proxy_host": pick(item, "proxySettings", "host"),
            "proxy_port": as_int(pick(item, "proxySettings", "port")),
            "proxy_type": pick(item, "proxySettings", "type"),
            "proxy_username": pick(item, "proxySettings", "username"),
            "removed_at": None,  # seen in this sweep, so not removed (cleared if it came back)
        }

    def run(self, ctx: RunContext) -> ResourceResult:
        result = ResourceResult()
        seen: set[str] = set()
        with ctx.engine.begin() as conn:
            pages = ctx.client.paginate(self.path, self.items_key)
            self.save_pages(ctx, conn, pages, result, on_item=lambda i: seen.add(str(i["uid"])))
            found = confirm_removed(ctx, conn, sites, seen, "/v2/site/{uid}", self.to_row)
        result.rows_written += found.pop("changed")
        result.details.update(found)
        return result
