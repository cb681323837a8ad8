"""site settings

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def JSON() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "site_mail_recipients",
        sa.Column("site_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=True),
        sa.Column("receives", sa.BigInteger(), nullable=True),
        sa.Column("receives_alerts", sa.Boolean(), nullable=True),
        sa.Column("receives_reports", sa.Boolean(), nullable=True),
        sa.Column("receives_new_devices", sa.Boolean(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("site_uid", "position", name=op.f("pk_site_mail_recipients")),
        info={"doc": "Who receives each site's mails (alerts, reports, new devices)."},
    )
    with op.batch_alter_table("site_mail_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_site_mail_recipients_account_uid"), ["account_uid"], unique=False
        )

    op.create_table(
        "site_settings",
        sa.Column("site_uid", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("on_demand", sa.Boolean(), nullable=True),
        sa.Column("proxy_host", sa.Text(), nullable=True),
        sa.Column("proxy_port", sa.Integer(), nullable=True),
        sa.Column("proxy_type", sa.String(length=16), nullable=True),
        sa.Column("proxy_username", sa.Text(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("site_uid", name=op.f("pk_site_settings")),
        info={"doc": "General and proxy settings of each site."},
    )
    with op.batch_alter_table("site_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_site_settings_account_uid"), ["account_uid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("site_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_settings_account_uid"))

    op.drop_table("site_settings")
    with op.batch_alter_table("site_mail_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_mail_recipients_account_uid"))

    op.drop_table("site_mail_recipients")
