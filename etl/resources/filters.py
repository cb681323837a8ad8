"""Device filters: ``/v2/filter/default-filters`` and ``/custom-filters`` → ``filters``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, String, Text

from etl.db.schema import UTCDateTime
from etl.resources.base import register
from etl.resources.convert import Field, Spec
from etl.resources.shapes import Rows, SnapshotResource

SPEC = Spec(
    Field("id", BigInteger, key=True),
    Field("name", Text),
    Field("description", Text),
    Field("type", String(32), doc="rmm_default or custom"),
    Field("dateCreate", UTCDateTime),
    Field("lastUpdated", UTCDateTime),
)
filters = SPEC.table("filters", "Default (Datto's) and custom device filters.")


@register
class Filters(SnapshotResource):
    """Both filter lists, as one snapshot."""

    name = "filters"
    tables = (filters,)
    paths = ("/v2/filter/default-filters", "/v2/filter/custom-filters")
    items_key = "filters"
    cost = "one page or two per list; kept as a snapshot (deleted in Datto, deleted here)"

    def rows(self, body: list[dict[str, Any]], owner: None) -> Rows:
        return {filters: [row for row in SPEC.rows(body) if row["id"] is not None]}
