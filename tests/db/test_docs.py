"""docs/tables.md is generated from the schema and must not drift from it."""

from pathlib import Path

from etl.db.docs import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "tables.md"


def test_tables_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/tables.md is stale: run `datto-etl db docs -o docs/tables.md`"
    )
