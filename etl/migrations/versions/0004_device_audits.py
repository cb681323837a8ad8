"""device audits

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def JSON() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "device_audit_attached_devices",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("device_name", sa.Text(), nullable=True),
        sa.Column("device_type", sa.Text(), nullable=True),
        sa.Column("driver_file", sa.Text(), nullable=True),
        sa.Column("driver_file_last_modified", TS(), nullable=True),
        sa.Column("driver_manufacturer", sa.Text(), nullable=True),
        sa.Column("driver_name", sa.Text(), nullable=True),
        sa.Column("driver_version", sa.Text(), nullable=True),
        sa.Column("port_name", sa.Text(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "device_uid", "position", name=op.f("pk_device_audit_attached_devices")
        ),
        info={"doc": "Attached devices and their drivers."},
    )
    with op.batch_alter_table("device_audit_attached_devices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_audit_attached_devices_account_uid"),
            ["account_uid"],
            unique=False,
        )

    op.create_table(
        "device_audit_displays",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("instance", sa.Text(), nullable=True),
        sa.Column("screen_height", sa.Integer(), nullable=True),
        sa.Column("screen_width", sa.Integer(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("device_uid", "position", name=op.f("pk_device_audit_displays")),
        info={"doc": "Displays."},
    )
    with op.batch_alter_table("device_audit_displays", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_audit_displays_account_uid"), ["account_uid"], unique=False
        )

    op.create_table(
        "device_audit_esxi_datastores",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("datastore_name", sa.Text(), nullable=True),
        sa.Column("subscription_percent", sa.Integer(), nullable=True),
        sa.Column("free_space", sa.BigInteger(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("file_system", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("data_extents", JSON(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "device_uid", "position", name=op.f("pk_device_audit_esxi_datastores")
        ),
        info={"doc": "Datastores of an ESXi host (sizes in bytes; extents as sent)."},
    )
    with op.batch_alter_table("device_audit_esxi_datastores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_audit_esxi_datastores_account_uid"), ["account_uid"], unique=False
        )

    op.create_table(
        "device_audit_esxi_guests",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("guest_name", sa.Text(), nullable=True),
        sa.Column("processor_speed_total", sa.Integer(), nullable=True),
        sa.Column("memory_size_total", sa.BigInteger(), nullable=True),
        sa.Column("number_of_snapshots", sa.Integer(), nullable=True),
        sa.Column("datastores", sa.Text(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("device_uid", "position", name=op.f("pk_device_audit_esxi_guests")),
        info={"doc": "Virtual machines of an ESXi host."},
    )
    with op.batch_alter_table("device_audit_esxi_guests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_audit_esxi_guests_account_uid"), ["account_uid"], unique=False
        )

    op.create_table(
        "device_audit_logical_disks",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("disk_identifier", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("freespace", sa.BigInteger(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "device_uid", "position", name=op.f("pk_device_audit_logical_disks")
        ),
        info={"doc": "Logical disks (sizes in bytes)."},
    )
    with op.batch_alter_table("device_audit_logical_disks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_audit_logical_disks_account_uid"), ["account_uid"], unique=False
        )

    op.create_table(
        "device_audit_memory_modules",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("module", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("speed", sa.Text(), nullable=True),
        sa.Column("serial_number", sa.Text(), nullable=True),
        sa.Column("part_number", sa.Text(), nullable=True),
        sa.Column("bank", sa.Text(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "device_uid", "position", name=op.f("pk_device_audit_memory_modules")
        ),
        info={"doc": "Memory modules (size in bytes)."},
    )
    with op.batch_alter_table("device_audit_memory_modules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_audit_memory_modules_account_uid"), ["account_uid"], unique=False
        )

    op.create_table(
        "device_audit_nics",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("instance", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("ipv4", sa.Text(), nullable=True),
        sa.Column("ipv6", sa.Text(), nullable=True),
        sa.Column("mac_address", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("speed", sa.Text(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("device_uid", "position", name=op.f("pk_device_audit_nics")),
        info={"doc": "Network adapters from the audit (ESXi hosts: name; agents: instance)."},
    )
    with op.batch_alter_table("device_audit_nics", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_audit_nics_account_uid"), ["account_uid"], unique=False
        )

    op.create_table(
        "device_audit_printer_supplies",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("max_capacity", sa.Text(), nullable=True),
        sa.Column("supplies_level", sa.Text(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "device_uid", "position", name=op.f("pk_device_audit_printer_supplies")
        ),
        info={"doc": "Printer supplies (levels as the printer reports them; negative: unknown)."},
    )
    with op.batch_alter_table("device_audit_printer_supplies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_audit_printer_supplies_account_uid"),
            ["account_uid"],
            unique=False,
        )

    op.create_table(
        "device_audit_processors",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("frequency", sa.Float(), nullable=True),
        sa.Column("number_of_cores", sa.Integer(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("device_uid", "position", name=op.f("pk_device_audit_processors")),
        info={"doc": "Processors (ESXi hosts add frequency in GHz and cores)."},
    )
    with op.batch_alter_table("device_audit_processors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_audit_processors_account_uid"), ["account_uid"], unique=False
        )

    op.create_table(
        "device_audit_video_boards",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("display_adapter", sa.Text(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "device_uid", "position", name=op.f("pk_device_audit_video_boards")
        ),
        info={"doc": "Video boards."},
    )
    with op.batch_alter_table("device_audit_video_boards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_audit_video_boards_account_uid"), ["account_uid"], unique=False
        )

    op.create_table(
        "device_audits",
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("device_class", sa.String(length=32), nullable=True),
        sa.Column("audited_at", TS(), nullable=True),
        sa.Column("portal_url", sa.Text(), nullable=True),
        sa.Column("web_remote_url", sa.Text(), nullable=True),
        sa.Column("manufacturer", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("total_physical_memory", sa.BigInteger(), nullable=True),
        sa.Column("total_cpu_cores", sa.Integer(), nullable=True),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("dot_net_version", sa.Text(), nullable=True),
        sa.Column("system_name", sa.Text(), nullable=True),
        sa.Column("number_of_snapshots", sa.Integer(), nullable=True),
        sa.Column("service_tag", sa.Text(), nullable=True),
        sa.Column("bios_instance", sa.Text(), nullable=True),
        sa.Column("bios_release_date", TS(), nullable=True),
        sa.Column("bios_serial_number", sa.Text(), nullable=True),
        sa.Column("bios_sm_bios_version", sa.Text(), nullable=True),
        sa.Column("base_board_manufacturer", sa.Text(), nullable=True),
        sa.Column("base_board_product", sa.Text(), nullable=True),
        sa.Column("snmp_name", sa.Text(), nullable=True),
        sa.Column("snmp_contact", sa.Text(), nullable=True),
        sa.Column("snmp_description", sa.Text(), nullable=True),
        sa.Column("snmp_location", sa.Text(), nullable=True),
        sa.Column("snmp_uptime", sa.Text(), nullable=True),
        sa.Column("snmp_nic_manufacturer", sa.Text(), nullable=True),
        sa.Column("snmp_object_id", sa.Text(), nullable=True),
        sa.Column("snmp_serial", sa.Text(), nullable=True),
        sa.Column("printed_page_count", sa.BigInteger(), nullable=True),
        sa.Column("mobile_info", JSON(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("device_uid", name=op.f("pk_device_audits")),
        info={"doc": "The latest hardware audit of each device, ESXi host and printer."},
    )
    with op.batch_alter_table("device_audits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_audits_account_uid"), ["account_uid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("device_audits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_audits_account_uid"))

    op.drop_table("device_audits")
    with op.batch_alter_table("device_audit_video_boards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_audit_video_boards_account_uid"))

    op.drop_table("device_audit_video_boards")
    with op.batch_alter_table("device_audit_processors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_audit_processors_account_uid"))

    op.drop_table("device_audit_processors")
    with op.batch_alter_table("device_audit_printer_supplies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_audit_printer_supplies_account_uid"))

    op.drop_table("device_audit_printer_supplies")
    with op.batch_alter_table("device_audit_nics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_audit_nics_account_uid"))

    op.drop_table("device_audit_nics")
    with op.batch_alter_table("device_audit_memory_modules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_audit_memory_modules_account_uid"))

    op.drop_table("device_audit_memory_modules")
    with op.batch_alter_table("device_audit_logical_disks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_audit_logical_disks_account_uid"))

    op.drop_table("device_audit_logical_disks")
    with op.batch_alter_table("device_audit_esxi_guests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_audit_esxi_guests_account_uid"))

    op.drop_table("device_audit_esxi_guests")
    with op.batch_alter_table("device_audit_esxi_datastores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_audit_esxi_datastores_account_uid"))

    op.drop_table("device_audit_esxi_datastores")
    with op.batch_alter_table("device_audit_displays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_audit_displays_account_uid"))

    op.drop_table("device_audit_displays")
    with op.batch_alter_table("device_audit_attached_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_audit_attached_devices_account_uid"))

    op.drop_table("device_audit_attached_devices")
