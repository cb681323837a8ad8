"""device software

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def JSON() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "device_software",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("device_uid", "name", "version", name=op.f("pk_device_software")),
        info={"doc": "Software of each device's latest audit; titles that vanish are deleted."},
    )
    with op.batch_alter_table("device_software", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_software_account_uid"), ["account_uid"], unique=False
        )

    op.create_table(
        "device_software_audits",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("audited_at", TS(), nullable=True),
        sa.Column("software_count", sa.Integer(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("device_uid", name=op.f("pk_device_software_audits")),
        info={"doc": "When each device's software list was taken, and how long it is."},
    )
    with op.batch_alter_table("device_software_audits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_software_audits_account_uid"), ["account_uid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("device_software_audits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_software_audits_account_uid"))

    op.drop_table("device_software_audits")
    with op.batch_alter_table("device_software", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_software_account_uid"))

    op.drop_table("device_software")
