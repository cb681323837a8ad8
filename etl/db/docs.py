"""References generated from the code (never by hand): the tables, from the schema, for
dashboard builders (docs/tables.md); the resources, from their classes: tables, cadence,
lane, dependencies and cost (docs/resources.md)."""

from __future__ import annotations

from sqlalchemy import Table

import etl.resources  # noqa: F401  (registers every table)
from etl.db.schema import metadata
from etl.report import reference
from etl.resources import REGISTRY

HEADER = """# Tables reference

Generated from the schema by `datto-etl db docs -o docs/tables.md`; a test fails when this
file and the schema disagree. Times are UTC (`timestamp with time zone` on PostgreSQL, UTC
text on SQLite). Every table carries `account_uid` and `synced_at` (when the ETL last
changed the row).
"""


def _type(col: object) -> str:
    from sqlalchemy.dialects import postgresql

    return str(col.type.compile(dialect=postgresql.dialect())).lower()  # type: ignore[attr-defined]


def render_table(table: Table) -> str:
    """One table as a Markdown section."""
    lines = [f"## `{table.name}`", ""]
    if table.info.get("doc"):
        lines += [table.info["doc"], ""]
    key = ", ".join(f"`{c.name}`" for c in table.primary_key.columns)
    lines += [f"Primary key: {key}", "", "| column | type | null | notes |", "|---|---|---|---|"]
    for col in table.columns:
        notes = reference.column_note(table.name, col.name, col.info.get("doc", ""))
        lines.append(
            f"| `{col.name}` | {_type(col)} | {'yes' if col.nullable else 'no'} | {notes} |"
        )
    return "\n".join(lines) + "\n"


def render() -> str:
    """The whole reference: tables in name order, then the reporting views and value lists."""
    parts = [HEADER] + [render_table(t) for _, t in sorted(metadata.tables.items())]
    parts.append(reference.render())
    return "\n".join(parts)


RESOURCES_HEADER = """# Resources reference

Generated from the resource classes by `datto-etl db docs --resources -o docs/resources.md`;
a test fails when this file and the classes disagree. Resources are listed in the order a
sync runs them. The cadence is the default of `datto-etl run` (`[schedule]` changes it; cron
lines are local time). The lane is the budget lane the requests wait in: `high` goes first,
`low` may fill only part of the rate window. Tables are described in
[tables.md](tables.md).
"""


def render_resources() -> str:
    """Every resource as a row: tables, cadence, lane, dependencies and requests per sync."""
    from etl.sync import resolve_order  # the run order (etl.sync imports the whole pipeline)

    lines = [
        RESOURCES_HEADER,
        "| resource | tables | cadence | lane | depends on | requests per sync |",
        "|---|---|---|---|---|---|",
    ]
    for name in resolve_order(None):
        resource = REGISTRY[name]
        tables = ", ".join(f"`{t.name}`" for t in resource.tables)
        needs = ", ".join(f"`{d}`" for d in resource.depends_on)
        lines.append(
            f"| `{name}` | {tables} | `{resource.cadence}` | {resource.lane} | {needs} "
            f"| {resource.cost} |"
        )
    return "\n".join(lines) + "\n"
