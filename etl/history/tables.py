"""The history tables (DATA_CONTRACT.md, History): versions, daily postures, software spans.

Written only by :mod:`etl.history` from what syncs see, in the transaction of the rows they
derive from; never rewritten except as the contract states (a version closed, a day's row
overwritten by a later sync of the same day, a title's ``removed_at`` set).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Index, Integer, String, Text

from etl.db.schema import UTCDateTime, account_table

VALID_FROM = "when a sync first saw these values"
VALID_TO = "when they stopped being true (a change or the removal); NULL: the current version"

device_history = account_table(
    "device_history",
    Column("device_uid", String(64), primary_key=True),
    Column("valid_from", UTCDateTime(), primary_key=True, info={"doc": VALID_FROM}),
    Column("valid_to", UTCDateTime(), info={"doc": VALID_TO}),
    Column("site_uid", String(64)),
    Column("hostname", Text),
    Column("device_class", String(32)),
    Column("device_type_category", Text),
    Column("operating_system", Text),
    Column("antivirus_product", Text),
    Column("warranty_date", Date),
    doc="One version per change of a device's slowly-changing attributes; volatile fields "
    "(online, last seen, IPs, patch counts) are in device_daily.",
)

site_history = account_table(
    "site_history",
    Column("site_uid", String(64), primary_key=True),
    Column("valid_from", UTCDateTime(), primary_key=True, info={"doc": VALID_FROM}),
    Column("valid_to", UTCDateTime(), info={"doc": VALID_TO}),
    Column("name", Text),
    Column("on_demand", Boolean),
    Column("autotask_company_id", String(64)),
    doc="One version per change of a site's name, on-demand flag or Autotask company.",
)

device_daily = account_table(
    "device_daily",
    Column("device_uid", String(64), primary_key=True),
    Column("day", Date, primary_key=True, info={"doc": "the UTC day of the sync"}),
    Column("site_uid", String(64)),
    Column("online", Boolean),
    Column("last_seen", UTCDateTime()),
    Column("patch_status", String(64)),
    Column("patches_installed", Integer),
    Column("patches_approved_pending", Integer),
    Column("patches_not_approved", Integer),
    Column("antivirus_status", String(64)),
    Column("reboot_required", Boolean),
    Column("last_audit_date", UTCDateTime()),
    Column(
        "observed_at",
        UTCDateTime(),
        info={"doc": "the devices sync these values come from (the day's first that saw them)"},
    ),
    doc="The posture of every live device on each UTC day a devices sync ran; a later sync "
    "of the same day overwrites the day's row. Retention: `[history] device_daily_days`.",
)
# The daily views group one account's days by site; retention deletes the oldest days.
Index("ix_device_daily_account_uid_day_site_uid", device_daily.c.account_uid,
      device_daily.c.day, device_daily.c.site_uid)  # fmt: skip

device_software_history = account_table(
    "device_software_history",
    Column("device_uid", String(64), primary_key=True),
    Column("name", Text, primary_key=True),
    Column("version", Text, primary_key=True, info={"doc": "'' when the audit gives none"}),
    Column(
        "first_seen_at",
        UTCDateTime(),
        primary_key=True,
        info={"doc": "last_audit_date of the first audit listing it (or when first synced)"},
    ),
    Column(
        "removed_at",
        UTCDateTime(),
        info={"doc": "last_audit_date of the audit that no longer listed it; NULL: installed"},
    ),
    doc="When each title and version appeared on, and left, each device; a reinstall "
    "starts a new row.",
)

TABLES = (device_history, site_history, device_daily, device_software_history)
