"""Alembic through its command API: the schema is always brought to ``head`` before a sync."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from etl.errors import DatabaseError

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"  # in the package: wheels carry it
# Alembic's migration context is module-global: accounts syncing in parallel threads of one
# process take turns to upgrade (the second finds the schema at head and does nothing).
_upgrading = threading.Lock()


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic Config pointing at ``etl/migrations/``, bound to ``engine`` if given."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def heads() -> list[str]:
    """The revision heads (there must be exactly one)."""
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to ``revision``; failures become a one-line DatabaseError."""
    try:
        with _upgrading:
            command.upgrade(alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        reason = str(orig if orig is not None else exc).splitlines()[0]
        raise DatabaseError(
            f"cannot bring the database {engine.url.render_as_string(hide_password=True)} "
            f"up to date: {reason}"
        ) from None
