"""history: device and site versions, daily device postures, software spans

``device_history`` and ``site_history`` (a version per change of the tracked attributes),
``device_daily`` (each live device's posture per UTC day a devices sync ran, with the index
the daily views and retention use), ``device_software_history`` (when each title came and
went), and the view ``v_patch_compliance_daily`` that waited for ``device_daily`` (its SQL
lives in etl/report/catalog.py, see 0013). The tables start empty: the first sync after the
upgrade opens the current version of every device and site.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from etl.report import views

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def UID() -> sa.String:
    return sa.String(length=64)


def ACCOUNT() -> list[sa.Column]:
    return [
        sa.Column("account_uid", UID(), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
    ]


VALID_FROM = "when a sync first saw these values"
VALID_TO = "when they stopped being true (a change or the removal); NULL: the current version"


def upgrade() -> None:
    op.create_table(
        "device_history",
        sa.Column("device_uid", UID(), nullable=False),
        sa.Column("valid_from", TS(), nullable=False, info={"doc": VALID_FROM}),
        sa.Column("valid_to", TS(), nullable=True, info={"doc": VALID_TO}),
        sa.Column("site_uid", UID(), nullable=True),
        sa.Column("hostname", sa.Text(), nullable=True),
        sa.Column("device_class", sa.String(length=32), nullable=True),
        sa.Column("device_type_category", sa.Text(), nullable=True),
        sa.Column("operating_system", sa.Text(), nullable=True),
        sa.Column("antivirus_product", sa.Text(), nullable=True),
        sa.Column("warranty_date", sa.Date(), nullable=True),
        *ACCOUNT(),
        sa.PrimaryKeyConstraint(
            "account_uid", "device_uid", "valid_from", name=op.f("pk_device_history")
        ),
    )
    op.create_table(
        "site_history",
        sa.Column("site_uid", UID(), nullable=False),
        sa.Column("valid_from", TS(), nullable=False, info={"doc": VALID_FROM}),
        sa.Column("valid_to", TS(), nullable=True, info={"doc": VALID_TO}),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("on_demand", sa.Boolean(), nullable=True),
        sa.Column("autotask_company_id", UID(), nullable=True),
        *ACCOUNT(),
        sa.PrimaryKeyConstraint(
            "account_uid", "site_uid", "valid_from", name=op.f("pk_site_history")
        ),
    )
    op.create_table(
        "device_daily",
        sa.Column("device_uid", UID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("site_uid", UID(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=True),
        sa.Column("last_seen", TS(), nullable=True),
        sa.Column("patch_status", sa.String(length=64), nullable=True),
        sa.Column("patches_installed", sa.Integer(), nullable=True),
        sa.Column("patches_approved_pending", sa.Integer(), nullable=True),
        sa.Column("patches_not_approved", sa.Integer(), nullable=True),
        sa.Column("antivirus_status", sa.String(length=64), nullable=True),
        sa.Column("reboot_required", sa.Boolean(), nullable=True),
        sa.Column("last_audit_date", TS(), nullable=True),
        sa.Column("observed_at", TS(), nullable=True),
        *ACCOUNT(),
        sa.PrimaryKeyConstraint("account_uid", "device_uid", "day", name=op.f("pk_device_daily")),
    )
    op.create_index(
        op.f("ix_device_daily_account_uid_day_site_uid"),
        "device_daily",
        ["account_uid", "day", "site_uid"],
        unique=False,
    )
    op.create_table(
        "device_software_history",
        sa.Column("device_uid", UID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("first_seen_at", TS(), nullable=False),
        sa.Column("removed_at", TS(), nullable=True),
        *ACCOUNT(),
        sa.PrimaryKeyConstraint(
            "account_uid",
            "device_uid",
            "name",
            "version",
            "first_seen_at",
            name=op.f("pk_device_software_history"),
        ),
    )
    views.create_for(revision, op)


def downgrade() -> None:
    views.drop_for(revision, op)
    op.drop_table("device_software_history")
    op.drop_index(op.f("ix_device_daily_account_uid_day_site_uid"), table_name="device_daily")
    op.drop_table("device_daily")
    op.drop_table("site_history")
    op.drop_table("device_history")
