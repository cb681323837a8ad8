"""every primary key begins with account_uid

Filter ids, variable ids, usernames and component uids repeat across Datto accounts: with
keys that left the account out, one account's sync overwrote or deleted another's rows.
Every table's primary key now begins with ``account_uid`` (``sync_runs`` keeps its serial
id), converted in place with its rows; the index on ``account_uid`` alone goes, since the
key now leads with it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: a migration must not change when etl/ does. table → key after account_uid.
KEYS: dict[str, tuple[str, ...]] = {
    "account": ("uid",),
    "account_variables": ("id",),
    "activity_logs": ("id",),
    "alerts": ("alert_uid",),
    "component_variables": ("component_uid", "position"),
    "components": ("uid",),
    "device_audit_attached_devices": ("device_uid", "position"),
    "device_audit_displays": ("device_uid", "position"),
    "device_audit_esxi_datastores": ("device_uid", "position"),
    "device_audit_esxi_guests": ("device_uid", "position"),
    "device_audit_logical_disks": ("device_uid", "position"),
    "device_audit_memory_modules": ("device_uid", "position"),
    "device_audit_nics": ("device_uid", "position"),
    "device_audit_printer_supplies": ("device_uid", "position"),
    "device_audit_processors": ("device_uid", "position"),
    "device_audit_video_boards": ("device_uid", "position"),
    "device_audits": ("device_uid",),
    "device_network_interfaces": ("device_uid", "position"),
    "device_software": ("device_uid", "name", "version"),
    "device_software_audits": ("device_uid",),
    "devices": ("uid",),
    "filters": ("id",),
    "site_mail_recipients": ("site_uid", "position"),
    "site_settings": ("site_uid",),
    "site_variables": ("site_uid", "id"),
    "sites": ("uid",),
    "users": ("username",),
}


def _rekey(table: str, key: tuple[str, ...], drop_index: bool) -> None:
    name = f"pk_{table}"
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(name, table, type_="primary")
        op.create_primary_key(name, table, list(key))
        if drop_index:
            op.drop_index(f"ix_{table}_account_uid", table_name=table)
        else:
            op.create_index(f"ix_{table}_account_uid", table, ["account_uid"])
        return
    # SQLite cannot alter a key: batch mode copies the table into one with the new key.
    with op.batch_alter_table(table, recreate="always") as batch:
        batch.drop_constraint(name, type_="primary")
        batch.create_primary_key(name, list(key))
        if drop_index:
            batch.drop_index(f"ix_{table}_account_uid")
        else:
            batch.create_index(f"ix_{table}_account_uid", ["account_uid"])


def upgrade() -> None:
    for table, key in KEYS.items():
        _rekey(table, ("account_uid", *key), drop_index=True)


def downgrade() -> None:
    # Fails with a duplicate-key error once two accounts share an id: that data cannot go back.
    for table, key in KEYS.items():
        _rekey(table, key, drop_index=False)
