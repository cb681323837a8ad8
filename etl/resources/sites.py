"""Sites: ``GET /v2/account/sites`` → ``sites``.

The list includes Datto's system sites ("Deleted Devices", whose uid is not a GUID, and the
default "Managed"/"OnDemand" sites); they are stored with ``system_site`` true so dashboards
can leave them out of per-customer figures. Each change of a site's name, on-demand flag or
Autotask company starts a version in ``site_history`` (:mod:`etl.history`). A stored site
the sweep did not show gets ``removed_at`` only once ``GET /v2/site/{uid}`` answers 404 (see
:mod:`etl.resources.removal`).
The proxy password is deliberately not stored: secrets stay out of the database.

The live sites are the owners of the per-site resources: :func:`live_sites`.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Boolean, Connection, Integer, String, Text, select

from etl.db.schema import UTCDateTime
from etl.history import versions
from etl.resources.base import RunContext, register
from etl.resources.convert import Field, Spec, always_none
from etl.resources.shapes import ListResource, Rows, Site

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
DELETED_DEVICES = "Deleted Devices"
SYSTEM_SITE_NAMES = frozenset({DELETED_DEVICES, "Managed", "OnDemand"})  # per API_FACTS.md


def is_system_site(item: dict[str, Any]) -> bool:
    """Deleted Devices (a non-GUID uid) and Datto's other built-in sites."""
    uid = str(item.get("uid") or "")
    return not GUID.match(uid) or item.get("name") in SYSTEM_SITE_NAMES


SPEC = Spec(
    Field("uid", String(64), key=True),
    Field("id", Integer, index=True),
    Field("name", Text),
    Field("description", Text),
    Field("notes", Text),
    Field("onDemand", Boolean),
    Field("splashtopAutoInstall", Boolean),
    Field(
        is_system_site,
        Boolean,
        column="system_site",
        nullable=False,
        doc="Datto's own site, not a customer",
    ),
    Field("devicesStatus.numberOfDevices", Integer),
    Field("devicesStatus.numberOfOnlineDevices", Integer),
    Field("devicesStatus.numberOfOfflineDevices", Integer),
    Field("autotaskCompanyId", String(64)),
    Field("autotaskCompanyName", Text),
    Field("portalUrl", Text),
    Field("proxySettings.host", Text, column="proxy_host"),
    Field("proxySettings.port", Integer, column="proxy_port"),
    Field("proxySettings.type", String(16), column="proxy_type"),
    Field("proxySettings.username", Text, column="proxy_username"),
    # seen in this sweep, so not removed (cleared if it came back)
    Field(always_none, UTCDateTime, column="removed_at", doc="set once the site is confirmed gone"),
)
sites = SPEC.table("sites", "Sites (customers) of the account, system sites flagged.")


def live_sites(conn: Connection, account_uid: str) -> list[Site]:
    """The account's sites not confirmed removed (the owners of per-site resources)."""
    query = (
        select(sites.c.uid)
        .where(sites.c.account_uid == account_uid, sites.c.removed_at.is_(None))
        .order_by(sites.c.uid)
    )
    return [Site(uid) for uid in conn.execute(query).scalars()]


@register
class Sites(ListResource):
    """Every site of the account, in one transaction; removals confirmed one by one."""

    name = "sites"
    tables = (sites,)
    spec = SPEC
    path = "/v2/account/sites"
    items_key = "sites"
    one_path = "/v2/site/{uid}"
    cost = "the list, plus one `GET` per stored site the sweep missed (404 confirms removal)"

    def track(self, ctx: RunContext, conn: Connection, rows: Rows) -> int:
        return versions.observe(ctx, conn, versions.SITES, rows.get(sites, ()))

    def untrack(self, ctx: RunContext, conn: Connection, uids: list[str]) -> int:
        return versions.close(ctx, conn, versions.SITES, uids)
