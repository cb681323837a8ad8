"""alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def JSON() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("alert_uid", sa.String(length=64), nullable=False),
        sa.Column("device_uid", sa.String(length=64), nullable=True),
        sa.Column("device_name", sa.Text(), nullable=True),
        sa.Column("site_uid", sa.String(length=64), nullable=True),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("priority", sa.String(length=32), nullable=True),
        sa.Column("diagnostics", sa.Text(), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.Column("resolved_on", TS(), nullable=True),
        sa.Column("muted", sa.Boolean(), nullable=True),
        sa.Column("ticket_number", sa.Text(), nullable=True),
        sa.Column("timestamp", TS(), nullable=True),
        sa.Column("context_class", sa.String(length=128), nullable=True),
        sa.Column("context", JSON(), nullable=True),
        sa.Column("autoresolve_mins", sa.Integer(), nullable=True),
        sa.Column("sends_emails", sa.Boolean(), nullable=True),
        sa.Column("creates_ticket", sa.Boolean(), nullable=True),
        sa.Column("response_actions", JSON(), nullable=True),
        sa.Column("removed_at", TS(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("alert_uid", name=op.f("pk_alerts")),
        info={"doc": "Open and resolved alerts; rows are never deleted."},
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_account_uid"), ["account_uid"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_device_uid"), ["device_uid"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_resolved"), ["resolved"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_site_uid"), ["site_uid"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_timestamp"), ["timestamp"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_timestamp"))
        batch_op.drop_index(batch_op.f("ix_alerts_site_uid"))
        batch_op.drop_index(batch_op.f("ix_alerts_resolved"))
        batch_op.drop_index(batch_op.f("ix_alerts_device_uid"))
        batch_op.drop_index(batch_op.f("ix_alerts_account_uid"))

    op.drop_table("alerts")
