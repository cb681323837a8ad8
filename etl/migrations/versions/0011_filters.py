"""filters

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def JSON() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "filters",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=True),
        sa.Column("date_create", TS(), nullable=True),
        sa.Column("last_updated", TS(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filters")),
        info={"doc": "Default (Datto's) and custom device filters."},
    )
    with op.batch_alter_table("filters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_filters_account_uid"), ["account_uid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("filters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filters_account_uid"))

    op.drop_table("filters")
