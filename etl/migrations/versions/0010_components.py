"""components

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def JSON() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "component_variables",
        sa.Column("component_uid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("default_val", sa.Text(), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.Column("direction", sa.Boolean(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("variables_idx", sa.Integer(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("component_uid", "position", name=op.f("pk_component_variables")),
        info={"doc": "Input and output variables of each component."},
    )
    with op.batch_alter_table("component_variables", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_component_variables_account_uid"), ["account_uid"], unique=False
        )

    op.create_table(
        "components",
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category_code", sa.String(length=64), nullable=True),
        sa.Column("credentials_required", sa.Boolean(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_components")),
        info={"doc": "Components (scripts, applications, monitors) of the account."},
    )
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_components_account_uid"), ["account_uid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_components_account_uid"))

    op.drop_table("components")
    with op.batch_alter_table("component_variables", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_component_variables_account_uid"))

    op.drop_table("component_variables")
