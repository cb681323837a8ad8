"""users

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the schema's types: a migration must not change when etl/ does.
def TS() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def JSON() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("telephone", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=64), nullable=True),
        sa.Column("created", TS(), nullable=True),
        sa.Column("last_access", TS(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=True),
        sa.Column("account_uid", sa.String(length=64), nullable=False),
        sa.Column("synced_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_users")),
        info={"doc": "Users of the account; users deleted in Datto are deleted here too."},
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_account_uid"), ["account_uid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_account_uid"))

    op.drop_table("users")
