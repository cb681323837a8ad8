"""Components: ``GET /v2/account/components`` → ``components``, ``component_variables``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Integer, String, Text

from etl.resources.base import register
from etl.resources.convert import Field, Spec, mapped
from etl.resources.shapes import Rows, SnapshotResource

SPEC = Spec(
    Field("uid", String(64), key=True),
    Field("id", BigInteger),
    Field("name", Text),
    Field("description", Text),
    Field("categoryCode", String(64)),
    Field("credentialsRequired", Boolean),
)
VARIABLE = Spec(
    Field("name", Text),
    Field("defaultVal", Text),
    Field("type", String(64)),
    Field("direction", Boolean, doc="as the API gives it (true: output)"),
    Field("description", Text),
    Field("variablesIdx", Integer),
)
components = SPEC.table(
    "components", "Components (scripts, applications, monitors) of the account."
)
component_variables = VARIABLE.table(
    "component_variables",
    "Input and output variables of each component.",
    Column("component_uid", String(64), primary_key=True),
    Column("position", Integer, primary_key=True, info={"doc": "place in the component's list"}),
)


@register
class Components(SnapshotResource):
    """The account's components and their variables, as a snapshot."""

    name = "components"
    tables = (components, component_variables)
    paths = ("/v2/account/components",)
    items_key = "components"
    cost = "one page or two; kept as a snapshot (deleted in Datto, deleted here)"

    def rows(self, body: list[dict[str, Any]], owner: None) -> Rows:
        def one(item: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            row = SPEC.row(item)  # a component that cannot be stored takes its variables along
            return row, VARIABLE.numbered(item.get("variables"), {"component_uid": row["uid"]})

        out: Rows = {components: [], component_variables: []}
        listed = (i for i in body if isinstance(i, dict) and i.get("uid"))
        for row, variables in mapped(listed, one):
            out[components].append(row)
            out[component_variables] += variables
        return out
