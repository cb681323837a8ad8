"""Datto Networking: ``GET /v2/account/dnet-site-mappings`` → ``dnet_site_mappings``.

Each item is a site with its ``dattoNetworkingNetworkIds``; a row per (site, network id),
so a site without Datto Networking has none. Kept as a snapshot: a mapping removed in Datto
is deleted here once the whole list was read (as many sites as its ``totalCount``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, String, Text

from etl.resources.base import register
from etl.resources.convert import Field, Spec, as_int
from etl.resources.shapes import Rows, SnapshotResource

SPEC = Spec(
    Field("id", BigInteger, column="site_id", doc="the site's id"),
    Field("name", Text, column="site_name", doc="the site's name"),
)
dnet_site_mappings = SPEC.table(
    "dnet_site_mappings",
    "One row per Datto Networking network id of a site.",
    Column("site_uid", String(64), primary_key=True),
    Column(
        "network_id",
        BigInteger,
        primary_key=True,
        info={"doc": "a dattoNetworkingNetworkIds entry"},
    ),
)


def to_rows(item: dict[str, Any]) -> list[dict[str, Any]]:
    """One site item → a row per network id (ids that are not integers are left out)."""
    ids = item.get("dattoNetworkingNetworkIds")
    found = [as_int(n) for n in ids] if isinstance(ids, list) else []
    site = {"site_uid": str(item["uid"]), **SPEC.row(item)}
    return [{**site, "network_id": n} for n in sorted({n for n in found if n is not None})]


@register
class DnetSiteMappings(SnapshotResource):
    """The account's Datto Networking mappings, as a snapshot."""

    name = "dnet_site_mappings"
    tables = (dnet_site_mappings,)
    paths = ("/v2/account/dnet-site-mappings",)
    items_key = "dnetSiteMappings"
    count_key = "uid"  # one item per site, however many rows it gives
    cost = "one page per 250 sites; kept as a snapshot (deleted in Datto, deleted here)"

    def rows(self, body: list[dict[str, Any]], owner: None) -> Rows:
        items = [i for i in body if isinstance(i, dict) and i.get("uid")]
        return {dnet_site_mappings: [row for item in items for row in to_rows(item)]}
