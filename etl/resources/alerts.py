"""Alerts: open and resolved lists → ``alerts`` (the incremental walk: see issue 3)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, String, Table, Text

from etl.db.schema import JSONDoc, UTCDateTime, account_columns, metadata

alerts = Table(
    "alerts",
    metadata,
    Column("alert_uid", String(64), primary_key=True),
    Column("device_uid", String(64), index=True),
    Column("device_name", Text),
    Column("site_uid", String(64), index=True),
    Column("site_name", Text),
    Column("priority", String(32)),
    Column("diagnostics", Text),
    Column("resolved", Boolean, index=True),
    Column("resolved_by", Text),
    Column("resolved_on", UTCDateTime()),
    Column("muted", Boolean),
    Column("ticket_number", Text),
    Column("timestamp", UTCDateTime(), index=True, info={"doc": "when the alert was raised"}),
    Column("context_class", String(128), info={"doc": "alertContext['@class']"}),
    Column("context", JSONDoc, info={"doc": "the whole alertContext"}),
    Column("autoresolve_mins", Integer),
    Column("sends_emails", Boolean),
    Column("creates_ticket", Boolean),
    Column("response_actions", JSONDoc),
    *account_columns(),
    info={"doc": "Open and resolved alerts; rows are never deleted."},
)
