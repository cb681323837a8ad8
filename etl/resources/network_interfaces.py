"""Network adapters per device: ``/v2/site/{uid}/devices/network-interface``.

One paged list per site (much cheaper than an audit per device) → one row per adapter in
``device_network_interfaces``, keyed by device and place in its list, replaced per site.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Integer, String, Text

from etl.resources.base import RunContext, register
from etl.resources.convert import Field, Spec, mapped, table_row
from etl.resources.shapes import PerSiteResource, Rows, Site
from etl.resources.sites import live_sites

SPEC = Spec(  # one entry of a device's ``nics``
    Field("instance", Text),
    Field("ipv4", Text),
    Field("ipv6", Text),
    Field("macAddress", Text, index=True),
    Field("type", Text),
)
device_network_interfaces = SPEC.table(
    "device_network_interfaces",
    "Network adapters of every device, from the per-site listing.",
    Column("device_uid", String(64), primary_key=True),
    Column("position", Integer, primary_key=True, info={"doc": "place in the device's list"}),
    Column("site_uid", String(64), index=True),
)


@register
class NetworkInterfaces(PerSiteResource):
    """Each live site's devices with their adapters."""

    name = "device_network_interfaces"
    tables = (device_network_interfaces,)
    path = "/v2/site/{uid}/devices/network-interface"
    items_key = "devices"
    cost = "one per live site (a paged list of its devices' adapters)"

    def owners(self, ctx: RunContext, conn: Connection) -> list[Site]:
        return live_sites(conn, ctx.account_uid)

    def rows(self, body: Any, owner: Site) -> Rows:
        def device_rows(device: dict[str, Any]) -> list[dict[str, Any]]:
            key = {"device_uid": device["uid"], "site_uid": owner.uid}
            owns = table_row(device_network_interfaces, key)  # the uid comes from the API
            return SPEC.numbered(device.get("nics"), owns)

        listed = [d for d in body if isinstance(d, dict) and d.get("uid")]
        return {device_network_interfaces: [r for rs in mapped(listed, device_rows) for r in rs]}
