"""Components: ``GET /v2/account/components`` → ``components``, ``component_variables``."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import BigInteger, Boolean, Column, Integer, String, Table, Text

from etl.db.schema import account_columns, metadata
from etl.resources.base import as_bool, as_int, register
from etl.resources.common import numbered
from etl.resources.patterns import Rows, SnapshotResource

components = Table(
    "components",
    metadata,
    Column("uid", String(64), primary_key=True),
    Column("id", BigInteger),
    Column("name", Text),
    Column("description", Text),
    Column("category_code", String(64)),
    Column("credentials_required", Boolean),
    *account_columns(),
    info={"doc": "Components (scripts, applications, monitors) of the account."},
)

component_variables = Table(
    "component_variables",
    metadata,
    Column("component_uid", String(64), primary_key=True),
    Column("position", Integer, primary_key=True, info={"doc": "place in the component's list"}),
    Column("name", Text),
    Column("default_val", Text),
    Column("type", String(64)),
    Column("direction", Boolean, info={"doc": "as the API gives it (true: output)"}),
    Column("description", Text),
    Column("variables_idx", Integer),
    *account_columns(),
    info={"doc": "Input and output variables of each component."},
)


@register
class Components(SnapshotResource):
    """The account's components and their variables, as a snapshot."""

    name = "components"
    paths = ("/v2/account/components",)
    items_key = "components"
    tables: ClassVar = (components, component_variables)

    def rows(self, items: list[dict[str, Any]]) -> Rows:
        out: Rows = {components: [], component_variables: []}
        for item in items:
            if not item.get("uid"):
                continue
            uid = str(item["uid"])
            out[components].append(
                {
                    "uid": uid,
                    "id": as_int(item.get("id")),
                    "name": item.get("name"),
                    "description": item.get("description"),
                    "category_code": item.get("categoryCode"),
                    "credentials_required": as_bool(item.get("credentialsRequired")),
                }
            )
            out[component_variables] += [
                {
                    **key,
                    "name": var.get("name"),
                    "default_val": var.get("defaultVal"),
                    "type": var.get("type"),
                    "direction": as_bool(var.get("direction")),
                    "description": var.get("description"),
                    "variables_idx": as_int(var.get("variablesIdx")),
                }
                for var, key in numbered(item.get("variables"), {"component_uid": uid})
            ]
        return out
