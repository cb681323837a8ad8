"""initial sites devices sync tables

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def JSON() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=True),
        sa.Column("site_uid", sa.String(length=64), nullable=True),
        sa.Column("site_id", sa.BigInteger(), nullable=True),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("hostname", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("device_class", sa.String(length=32), nullable=True),
        sa.Column("device_type_category", sa.Text(), nullable=True),
        sa.Column("device_type_type", sa.Text(), nullable=True),
        sa.Column("operating_system", sa.Text(), nullable=True),
        sa.Column("int_ip_address", sa.Text(), nullable=True),
        sa.Column("ext_ip_address", sa.Text(), nullable=True),
        sa.Column("last_logged_in_user", sa.Text(), nullable=True),
        sa.Column("domain", sa.Text(), nullable=True),
        sa.Column("cag_version", sa.Text(), nullable=True),
        sa.Column("display_version", sa.Text(), nullable=True),
        sa.Column("a64_bit", sa.Boolean(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=True),
        sa.Column("suspended", sa.Boolean(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=True),
        sa.Column("reboot_required", sa.Boolean(), nullable=True),
        sa.Column("snmp_enabled", sa.Boolean(), nullable=True),
        sa.Column("network_probe", sa.Boolean(), nullable=True),
        sa.Column("onboarded_via_network_monitor", sa.Boolean(), nullable=True),
        sa.Column("last_seen", TS(), nullable=True),
        sa.Column("last_reboot", TS(), nullable=True),
        sa.Column("last_audit_date", TS(), nullable=True),
        sa.Column("creation_date", TS(), nullable=True),
        sa.Column("warranty_date", sa.Date(), nullable=True),
        sa.Column("antivirus_product", sa.Text(), nullable=True),
        sa.Column("antivirus_status", sa.String(length=64), nullable=True),
        sa.Column("patch_status", sa.String(length=64), nullable=True),
        sa.Column("patches_installed", sa.Integer(), nullable=True),
        sa.Column("patches_approved_pending", sa.Integer(), nullable=True),
        sa.Column("patches_not_approved", sa.Integer(), nullable=True),
        sa.Column("software_status", sa.Text(), nullable=True),
        sa.Column("portal_url", sa.Text(), nullable=True),
        sa.Column("web_remote_url", sa.Text(), nullable=True),
        *(sa.Column(f"udf{n}", sa.Text(), nullable=True) for n in range(1, 31)),
        sa.Column("udf_extra", JSON(), nullable=True),
        sa.Column("removed_at", TS(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_devices")),
        info={"doc": "Devices of every site, with patch, antivirus and UDF fields flattened."},
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_account_uid"), ["account_uid"], unique=False)
        batch_op.create_index(batch_op.f("ix_devices_id"), ["id"], unique=False)
        batch_op.create_index(batch_op.f("ix_devices_site_uid"), ["site_uid"], unique=False)

    op.create_table(
        "sites",
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("on_demand", sa.Boolean(), nullable=True),
        sa.Column("splashtop_auto_install", sa.Boolean(), nullable=True),
        sa.Column("system_site", sa.Boolean(), nullable=False),
        sa.Column("number_of_devices", sa.Integer(), nullable=True),
        sa.Column("number_of_online_devices", sa.Integer(), nullable=True),
        sa.Column("number_of_offline_devices", sa.Integer(), nullable=True),
        sa.Column("autotask_company_id", sa.String(length=64), nullable=True),
        sa.Column("autotask_company_name", sa.Text(), nullable=True),
        sa.Column("portal_url", sa.Text(), nullable=True),
        sa.Column("proxy_host", sa.Text(), nullable=True),
        sa.Column("proxy_port", sa.Integer(), nullable=True),
        sa.Column("proxy_type", sa.String(length=16), nullable=True),
        sa.Column("proxy_username", sa.Text(), nullable=True),
        sa.Column("removed_at", TS(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_sites")),
        info={"doc": "Sites (customers) of the account, system sites flagged."},
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sites_account_uid"), ["account_uid"], unique=False)
        batch_op.create_index(batch_op.f("ix_sites_id"), ["id"], unique=False)

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("resource", sa.String(length=64), nullable=False),
        sa.Column("started_at", TS(), nullable=False),
        sa.Column("finished_at", TS(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_written", sa.Integer(), nullable=False),
        sa.Column("rows_seen", sa.Integer(), nullable=False),
        sa.Column("requests_made", sa.Integer(), nullable=False),
        sa.Column("pages_read", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("details", JSON(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
        info={"doc": "One row per resource per run: what it did and how it ended."},
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_runs_account_uid"), ["account_uid"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_runs_resource"), ["resource"], unique=False)

    op.create_table(
        "sync_state",
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("resource", sa.String(length=64), nullable=False),
        sa.Column("cursor", JSON(), nullable=True),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("account_uid", "resource", name=op.f("pk_sync_state")),
        info={"doc": "The incremental cursor of each resource, written with the rows it covers."},
    )


def downgrade() -> None:
    op.drop_table("sync_state")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_runs_resource"))
        batch_op.drop_index(batch_op.f("ix_sync_runs_account_uid"))

    op.drop_table("sync_runs")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sites_id"))
        batch_op.drop_index(batch_op.f("ix_sites_account_uid"))

    op.drop_table("sites")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_site_uid"))
        batch_op.drop_index(batch_op.f("ix_devices_id"))
        batch_op.drop_index(batch_op.f("ix_devices_account_uid"))

    op.drop_table("devices")
