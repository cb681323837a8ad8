"""Revision 0014 re-keys every table by account in place, keeping every row."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    Table,
    func,
    inspect,
    select,
)

import etl.resources  # noqa: F401  (every table on the metadata)
from etl.db.migrate import upgrade
from etl.db.schema import metadata

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _value(column: Any, n: int) -> Any:
    kind = column.type
    kind = getattr(kind, "impl", kind)
    if isinstance(kind, Boolean):
        return n % 2 == 0
    if isinstance(kind, BigInteger | Integer):
        return n
    if isinstance(kind, Float):
        return n / 2
    if isinstance(kind, DateTime):
        return NOW
    if isinstance(kind, Date):
        return date(2027, 1, n + 1)
    if isinstance(kind, JSON):
        return {"n": n}
    return f"{column.name}-{n}"


def _rows(table: Table, account: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            **{c.name: _value(c, n) for c in table.columns},
            "account_uid": account,
            "synced_at": NOW,
        }
        for n in range(count)
    ]


def test_every_row_survives_and_keys_lead_with_the_account(engine: Engine) -> None:
    upgrade(engine, "0013")
    there = set(inspect(engine).get_table_names())  # tables of later revisions are not yet
    tables = [t for name, t in sorted(metadata.tables.items()) if name in there - {"sync_runs"}]
    with engine.begin() as conn:
        for table in tables:
            conn.execute(table.insert(), _rows(table, "acc-1", 3))
    upgrade(engine)
    found = inspect(engine)
    for table in tables:
        assert found.get_pk_constraint(table.name)["constrained_columns"][0] == "account_uid"
    with engine.begin() as conn:
        for table in tables:
            count = conn.execute(select(func.count()).select_from(table)).scalar_one()
            assert count == 3, table.name
            # the same ids in a second account are now rows of their own
            conn.execute(table.insert(), _rows(table, "acc-2", 3))
            count = conn.execute(select(func.count()).select_from(table)).scalar_one()
            assert count == 6, table.name
