"""device network interfaces

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def JSON() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "device_network_interfaces",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("site_uid", sa.String(length=64), nullable=True),
        sa.Column("instance", sa.Text(), nullable=True),
        sa.Column("ipv4", sa.Text(), nullable=True),
        sa.Column("ipv6", sa.Text(), nullable=True),
        sa.Column("mac_address", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "device_uid", "position", name=op.f("pk_device_network_interfaces")
        ),
        info={"doc": "Network adapters of every device, from the per-site listing."},
    )
    with op.batch_alter_table("device_network_interfaces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_network_interfaces_account_uid"), ["account_uid"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_device_network_interfaces_mac_address"), ["mac_address"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_device_network_interfaces_site_uid"), ["site_uid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("device_network_interfaces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_network_interfaces_site_uid"))
        batch_op.drop_index(batch_op.f("ix_device_network_interfaces_mac_address"))
        batch_op.drop_index(batch_op.f("ix_device_network_interfaces_account_uid"))

    op.drop_table("device_network_interfaces")
