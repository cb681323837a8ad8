"""Alembic alone builds the schema, and it is exactly the SQLAlchemy metadata."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import etl.resources  # noqa: F401
from etl.db.migrate import heads, upgrade
from etl.db.schema import metadata


def test_one_head() -> None:
    assert len(heads()) == 1


def test_upgrade_head_matches_metadata(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == []
    tables = set(inspect(engine).get_table_names())
    assert {"sites", "devices", "sync_runs", "sync_state"} <= tables


def test_upgrade_is_repeatable(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
