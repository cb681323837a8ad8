"""The tables reference for dashboard builders, generated from the schema (never by hand)."""

from __future__ import annotations

from sqlalchemy import Table

import etl.resources  # noqa: F401  (registers every table)
from etl.db.schema import metadata
from etl.report import reference

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
