"""The shared MetaData, its naming convention, and column types every table uses.

Each resource module defines its own tables on :data:`metadata` (one room per resource);
:mod:`etl.db.state` defines ``sync_runs`` and ``sync_state``. Alembic alone creates and
changes them: the metadata is what ``alembic upgrade head`` must produce, checked by a test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every dialect.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are written in UTC
    and read back with ``tzinfo=UTC`` attached.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: JSON documents: JSONB on PostgreSQL (comparable, indexable), JSON text on SQLite.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


def account_columns(*, keyed: bool = True) -> list[Column[Any]]:
    """``account_uid`` and ``synced_at``: on every table (DATA_CONTRACT.md).

    ``keyed`` makes ``account_uid`` part of the primary key (every table but ``sync_runs``);
    build such tables with :func:`account_table`, which puts it first in the key.
    """
    if keyed:
        account_uid = Column("account_uid", String(64), nullable=False, primary_key=True)
    else:
        account_uid = Column("account_uid", String(64), nullable=False, index=True)
    return [account_uid, Column("synced_at", UTCDateTime(), nullable=False)]


def account_table(name: str, *columns: Column[Any], doc: str) -> Table:
    """A table on :data:`metadata` whose primary key begins with ``account_uid``.

    ``columns`` mark the rest of the key with ``primary_key=True``; ``account_uid`` and
    ``synced_at`` come last among the columns, but first in the key: ids such as filter ids,
    usernames and component uids repeat across accounts, and one account's rows must never
    overwrite or delete another's. The key also serves every lookup by account, so no index
    on ``account_uid`` alone is needed.
    """
    key = [c.name for c in columns if c.primary_key]
    return Table(
        name,
        metadata,
        *columns,
        *account_columns(),
        PrimaryKeyConstraint("account_uid", *key),
        info={"doc": doc},
    )


def utcnow() -> datetime:
    """Wall-clock now in UTC."""
    return datetime.now(UTC)
