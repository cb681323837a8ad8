"""reporting views

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

The views whose tables exist already (v_patch_compliance_daily and v_job_outcomes_daily
wait for device_daily and job_results). Their SQL lives in etl/report/catalog.py: views hold
no data, so env.py sets them aside while later migrations run and rebuilds them from there
(see etl/report/views.py).
"""

from collections.abc import Sequence

from alembic import op

from etl.report import views

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    views.create_for(revision, op)


def downgrade() -> None:
    views.drop_for(revision, op)
