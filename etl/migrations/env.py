"""Alembic environment: the engine comes from `datto-etl` (or the URL when run by hand)."""

from __future__ import annotations

import os

from alembic import context

import etl.resources  # noqa: F401  (registers every table on the metadata)
from etl.db.engine import make_engine
from etl.db.schema import metadata
from etl.report.views import after_step, set_aside

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    url = os.environ.get("DATTO_ETL_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(url or "sqlite:///datto_rmm.db")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
        on_version_apply=after_step,
    )
    # Views hold no data: dropped while pending migrations run, rebuilt after (see set_aside).
    with context.begin_transaction(), set_aside(context, connection):
        context.run_migrations()
    connection.commit()
