"""account

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def JSON() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("currency", sa.String(length=16), nullable=True),
        sa.Column("billing_email", sa.Text(), nullable=True),
        sa.Column("device_limit", sa.Integer(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("number_of_devices", sa.Integer(), nullable=True),
        sa.Column("number_of_online_devices", sa.Integer(), nullable=True),
        sa.Column("number_of_offline_devices", sa.Integer(), nullable=True),
        sa.Column("number_of_on_demand_devices", sa.Integer(), nullable=True),
        sa.Column("number_of_managed_devices", sa.Integer(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_account")),
        info={"doc": "The Datto account: one row per account, with its device counts."},
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_account_uid"), ["account_uid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_account_uid"))

    op.drop_table("account")
