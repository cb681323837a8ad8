"""The views come and go with Alembic, and later migrations can rebuild the tables they read."""

from __future__ import annotations

import shutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, inspect

from etl.db.migrate import MIGRATIONS, alembic_config, heads, upgrade
from etl.report.views import family, registry

LATER = '''
"""a later migration that rebuilds the devices table (as a primary-key change would)"""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"


def upgrade():
    with op.batch_alter_table("devices", recreate="always") as batch:
        batch.alter_column("hostname", type_=sa.String(300), existing_type=sa.Text())


def downgrade():
    with op.batch_alter_table("devices", recreate="always") as batch:
        batch.alter_column("hostname", type_=sa.Text(), existing_type=sa.String(300))
'''


def views_in(engine: Engine) -> set[str]:
    return set(inspect(engine).get_view_names())


def created() -> set[str]:
    return {v.name for v in registry() if v.revision}


def test_head_has_every_view_with_its_documented_columns(engine: Engine) -> None:
    upgrade(engine)
    assert views_in(engine) == created()
    inspector = inspect(engine)
    for v in registry():
        if v.revision:
            got = inspector.get_columns(v.name)
            assert [c["name"] for c in got] == [c.name for c in v.columns], v.name
            if engine.dialect.name == "postgresql":  # SQLite views type no expression column
                kinds = [family(c["type"]) for c in got]
                assert kinds == [c.family for c in v.columns], v.name


def test_downgrade_drops_the_views_and_upgrade_brings_them_back(engine: Engine) -> None:
    upgrade(engine)
    command.downgrade(alembic_config(engine), "0012")
    assert views_in(engine) == set()
    assert "devices" in inspect(engine).get_table_names()
    upgrade(engine)
    assert views_in(engine) == created()


def test_upgrade_at_head_leaves_the_views_alone(engine: Engine) -> None:
    upgrade(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    upgrade(engine)
    assert not [s for s in statements if "VIEW" in s.upper()]


def test_a_later_migration_may_rebuild_a_table_the_views_read(
    engine: Engine, tmp_path: Path
) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_later.py").write_text(LATER.format(head=heads()[0]))
    cfg = Config()
    cfg.set_main_option("script_location", str(scripts))
    cfg.attributes["engine"] = engine
    command.upgrade(cfg, "head")  # SQLite: batch copy-drop-rename; PostgreSQL: ALTER TYPE
    assert views_in(engine) == created()
    assert "VARCHAR(300)" in str(
        next(c["type"] for c in inspect(engine).get_columns("devices") if c["name"] == "hostname")
    )
    command.downgrade(cfg, "-1")
    assert views_in(engine) == created()
