"""Network adapters per device: ``/v2/site/{uid}/devices/network-interface``.

One paged list per site (much cheaper than an audit per device) → one row per adapter in
``device_network_interfaces``, keyed by device and place in its list, replaced per site.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Column, Integer, String, Table, Text

from etl.db.schema import account_columns, metadata
from etl.resources.base import register
from etl.resources.common import numbered
from etl.resources.patterns import PerSiteResource, Rows

device_network_interfaces = Table(
    "device_network_interfaces",
    metadata,
    Column("device_uid", String(64), primary_key=True),
    Column("position", Integer, primary_key=True, info={"doc": "place in the device's list"}),
    Column("site_uid", String(64), index=True),
    Column("instance", Text),
    Column("ipv4", Text),
    Column("ipv6", Text),
    Column("mac_address", Text, index=True),
    Column("type", Text),
    *account_columns(),
    info={"doc": "Network adapters of every device, from the per-site listing."},
)


@register
class NetworkInterfaces(PerSiteResource):
    """Each live site's devices with their adapters."""

    name = "device_network_interfaces"
    path = "/v2/site/{uid}/devices/network-interface"
    items_key = "devices"
    tables: ClassVar = (device_network_interfaces,)

    def rows(self, site_uid: str, body: Any) -> Rows:
        out = []
        for device in body:
            if not isinstance(device, dict) or not device.get("uid"):
                continue
            owner = {"device_uid": str(device["uid"]), "site_uid": site_uid}
            out += [
                {
                    **key,
                    "instance": nic.get("instance"),
                    "ipv4": nic.get("ipv4"),
                    "ipv6": nic.get("ipv6"),
                    "mac_address": nic.get("macAddress"),
                    "type": nic.get("type"),
                }
                for nic, key in numbered(device.get("nics"), owner)
            ]
        return {device_network_interfaces: out}
