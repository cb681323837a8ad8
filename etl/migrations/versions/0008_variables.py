"""variables

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def JSON() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "account_variables",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("masked", sa.Boolean(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_variables")),
        info={"doc": "Account-level variables."},
    )
    with op.batch_alter_table("account_variables", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_variables_account_uid"), ["account_uid"], unique=False
        )

    op.create_table(
        "site_variables",
        sa.Column("site_uid", sa.String(length=64), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("masked", sa.Boolean(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("site_uid", "id", name=op.f("pk_site_variables")),
        info={"doc": "Site-level variables."},
    )
    with op.batch_alter_table("site_variables", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_site_variables_account_uid"), ["account_uid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("site_variables", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_variables_account_uid"))

    op.drop_table("site_variables")
    with op.batch_alter_table("account_variables", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_variables_account_uid"))

    op.drop_table("account_variables")
