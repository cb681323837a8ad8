"""an index no query needs: alerts.resolved

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

Every index is written again with each row, so an index no query uses is pure write cost.
``ix_alerts_resolved`` is a boolean, 98 % one value: the queries that filter on it also
give ``account_uid`` (the primary key's first column serves them), and ``IS NOT TRUE``
cannot seek it anyway. The indexes the report views, status and the alert walk use stay:
``alerts.device_uid`` (``v_open_alerts``' join), ``alerts.site_uid`` (a site's pages),
``alerts.timestamp`` (the walk's counts by raise time), ``sync_runs.account_uid``
(status: the accounts, their requests of the last hour).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_alerts_resolved", table_name="alerts")


def downgrade() -> None:
    op.create_index("ix_alerts_resolved", "alerts", ["resolved"])
