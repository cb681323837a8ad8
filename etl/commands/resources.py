"""``datto-etl resources``: what each resource is, from its class (as docs/resources.md)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer


def describe() -> list[dict[str, Any]]:
    """Each resource in sync order: tables, cadence, lane, depends-on, cost per run."""
    from etl.resources import REGISTRY
    from etl.sync import resolve_order

    return [
        {
            "resource": name,
            "tables": [t.name for t in REGISTRY[name].tables],
            "cadence": REGISTRY[name].cadence,
            "lane": str(REGISTRY[name].lane),
            "depends_on": list(REGISTRY[name].depends_on),
            "cost": REGISTRY[name].cost,
        }
        for name in resolve_order(None)
    ]


def resources(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """List the resources: tables, cadence, budget lane, dependencies, cost per run."""
    from rich.console import Console
    from rich.table import Table

    found = describe()
    if as_json:
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
        return
    grid = Table(title="resources, in sync order")
    for col in ("resource", "tables", "cadence", "lane", "depends on", "requests per run"):
        grid.add_column(col, overflow="fold")
    for r in found:
        grid.add_row(
            r["resource"],
            ", ".join(r["tables"]),
            r["cadence"],
            r["lane"],
            ", ".join(r["depends_on"]),
            r["cost"],
        )
    console = Console()
    # piped: do not squeeze the table into 80 columns
    (console if console.is_terminal else Console(width=200)).print(grid, markup=False)


def register(app: typer.Typer) -> None:
    """Add ``resources`` to ``app``."""
    app.command()(resources)
