"""jobs, job results, Datto Networking mappings; the view v_job_outcomes_daily

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-02

Jobs are found through the activity log (job_targets is the to-do list of the two job
resources); v_job_outcomes_daily was waiting for job_results (its SQL lives in
etl/report/catalog.py, see etl/report/views.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from etl.report import views

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dnet_site_mappings",
        sa.Column("site_uid", sa.String(length=64), nullable=False),
        sa.Column("network_id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=True),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_uid", "site_uid", "network_id", name=op.f("pk_dnet_site_mappings")
        ),
        info={"doc": "One row per Datto Networking network id of a site."},
    )
    op.create_table(
        "job_component_variables",
        sa.Column("job_uid", sa.String(length=64), nullable=False),
        sa.Column("component_position", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("value_withheld", sa.Boolean(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_uid",
            "job_uid",
            "component_position",
            "position",
            name=op.f("pk_job_component_variables"),
        ),
        info={"doc": "The variable values each job passed to its components (secrets withheld)."},
    )
    op.create_table(
        "job_components",
        sa.Column("job_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("component_uid", sa.String(length=64), nullable=True),
        sa.Column("component_name", sa.Text(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_uid", "job_uid", "position", name=op.f("pk_job_components")
        ),
        info={"doc": "The components each job runs, in order."},
    )
    op.create_table(
        "job_result_components",
        sa.Column("job_uid", sa.String(length=64), nullable=False),
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("component_uid", sa.String(length=64), nullable=True),
        sa.Column("component_name", sa.Text(), nullable=True),
        sa.Column("component_status", sa.String(length=32), nullable=True),
        sa.Column("number_of_warnings", sa.Integer(), nullable=True),
        sa.Column("has_std_out", sa.Boolean(), nullable=True),
        sa.Column("has_std_err", sa.Boolean(), nullable=True),
        sa.Column("std_out", sa.Text(), nullable=True),
        sa.Column("std_err", sa.Text(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_uid",
            "job_uid",
            "device_uid",
            "position",
            name=op.f("pk_job_result_components"),
        ),
        info={
            "doc": "What each component of a job did on a device, with its output "
            "(cut past `sync.job_output_max_chars`)."
        },
    )
    op.create_table(
        "job_results",
        sa.Column("job_uid", sa.String(length=64), nullable=False),
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("site_uid", sa.String(length=64), nullable=True),
        sa.Column("ran_on", TS(), nullable=True),
        sa.Column("job_deployment_status", sa.String(length=32), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_uid", "job_uid", "device_uid", name=op.f("pk_job_results")
        ),
        info={"doc": "Each job's result on each device the activity log names it ran on."},
    )
    op.create_table(
        "job_targets",
        sa.Column("job_uid", sa.String(length=64), nullable=False),
        sa.Column("device_uid", sa.String(length=64), nullable=False),
        sa.Column("site_uid", sa.String(length=64), nullable=True),
        sa.Column("entry_id", sa.String(length=64), nullable=True),
        sa.Column("noted_at", TS(), nullable=True),
        sa.Column("checked_at", TS(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_uid", "job_uid", "device_uid", name=op.f("pk_job_targets")
        ),
        info={
            "doc": "The (job, device) pairs the activity log names, and whether their result "
            "is final (bookkeeping of the job resources)."
        },
    )
    op.create_table(
        "jobs",
        sa.Column("job_uid", sa.String(length=64), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("created_at", TS(), nullable=True),
        sa.Column("not_found", sa.Boolean(), nullable=True),
        sa.Column("checked_at", TS(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("account_uid", "job_uid", name=op.f("pk_jobs")),
        info={"doc": "Jobs the activity log names (no endpoint lists jobs)."},
    )

    views.create_for(revision, op)


def downgrade() -> None:
    views.drop_for(revision, op)
    op.drop_table("jobs")
    op.drop_table("job_targets")
    op.drop_table("job_results")
    op.drop_table("job_result_components")
    op.drop_table("job_components")
    op.drop_table("job_component_variables")
    op.drop_table("dnet_site_mappings")
