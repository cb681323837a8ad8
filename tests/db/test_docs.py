"""docs/tables.md and docs/resources.md are generated from the code and must not drift."""

from pathlib import Path

from etl.db.docs import render, render_resources
from etl.resources import REGISTRY

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC = DOCS / "tables.md"


def test_tables_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/tables.md is stale: run `datto-etl db docs -o docs/tables.md`"
    )


def test_resources_doc_is_current() -> None:
    assert (DOCS / "resources.md").read_text(encoding="utf-8") == render_resources(), (
        "docs/resources.md is stale: run `datto-etl db docs --resources -o docs/resources.md`"
    )


def test_every_resource_says_what_it_costs_and_holds() -> None:
    for name, resource in REGISTRY.items():
        assert getattr(resource, "cost", "").strip(), f"{name}: set `cost` on the class"
        assert resource.tables, f"{name}: set `tables` on the class"
        assert all(dep in REGISTRY for dep in resource.depends_on), name
