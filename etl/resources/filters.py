"""Device filters: ``/v2/filter/default-filters`` and ``/custom-filters`` → ``filters``."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import BigInteger, Column, String, Table, Text

from etl.api.timestamps import to_utc
from etl.db.schema import UTCDateTime, account_columns, metadata
from etl.resources.base import as_int, register
from etl.resources.patterns import Rows, SnapshotResource

filters = Table(
    "filters",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("name", Text),
    Column("description", Text),
    Column("type", String(32), info={"doc": "rmm_default or custom"}),
    Column("date_create", UTCDateTime()),
    Column("last_updated", UTCDateTime()),
    *account_columns(),
    info={"doc": "Default (Datto's) and custom device filters."},
)


@register
class Filters(SnapshotResource):
    """Both filter lists, as one snapshot."""

    name = "filters"
    paths = ("/v2/filter/default-filters", "/v2/filter/custom-filters")
    items_key = "filters"
    tables: ClassVar = (filters,)

    def rows(self, items: list[dict[str, Any]]) -> Rows:
        return {
            filters: [
                {
                    "id": as_int(i.get("id")),
                    "name": i.get("name"),
                    "description": i.get("description"),
                    "type": i.get("type"),
                    "date_create": to_utc(i.get("dateCreate")),
                    "last_updated": to_utc(i.get("lastUpdated")),
                }
                for i in items
                if as_int(i.get("id")) is not None
            ]
        }
