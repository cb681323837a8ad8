"""activity logs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def JSON() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "activity_logs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=128), nullable=True),
        sa.Column("date", TS(), nullable=True),
        sa.Column("site_id", sa.BigInteger(), nullable=True),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("device_id", sa.BigInteger(), nullable=True),
        sa.Column("hostname", sa.Text(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("user_name", sa.Text(), nullable=True),
        sa.Column("user_first_name", sa.Text(), nullable=True),
        sa.Column("user_last_name", sa.Text(), nullable=True),
        sa.Column("details", JSON(), nullable=True),
        sa.Column("has_std_out", sa.Boolean(), nullable=True),
        sa.Column("has_std_err", sa.Boolean(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_logs")),
        info={"doc": "Who did what, when (activity logs); rows are never deleted."},
    )
    with op.batch_alter_table("activity_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_logs_account_uid"), ["account_uid"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_activity_logs_date"), ["date"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_logs_device_id"), ["device_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_logs_site_id"), ["site_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("activity_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_logs_site_id"))
        batch_op.drop_index(batch_op.f("ix_activity_logs_device_id"))
        batch_op.drop_index(batch_op.f("ix_activity_logs_date"))
        batch_op.drop_index(batch_op.f("ix_activity_logs_account_uid"))

    op.drop_table("activity_logs")
