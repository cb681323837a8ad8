"""Upserts batch under the bind-parameter limit and change only what differs."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from etl.db.load import param_limit, replace_set, upsert
from etl.db.migrate import upgrade
from etl.db.schema import utcnow
from etl.db.state import sync_state


def _rows(n: int, cursor: dict[str, int]) -> list[dict[str, object]]:
    now = utcnow()
    return [
        {"account_uid": "a", "resource": f"r{i}", "cursor": cursor, "synced_at": now}
        for i in range(n)
    ]


def test_batches_past_the_parameter_limit(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        n = param_limit(conn) // 4 + 10  # 4 columns: more than one batch
        assert upsert(conn, sync_state, _rows(n, {"x": 1})) == n
        assert upsert(conn, sync_state, _rows(n, {"x": 1})) == 0
        assert upsert(conn, sync_state, _rows(3, {"x": 2})) == 3
        assert conn.execute(select(func.count()).select_from(sync_state)).scalar_one() == n


def test_duplicates_in_one_batch_keep_the_last(engine: Engine) -> None:
    upgrade(engine)
    rows = _rows(2, {"x": 1}) + _rows(1, {"x": 9})
    with engine.begin() as conn:
        upsert(conn, sync_state, rows)
        got = conn.execute(select(sync_state.c.cursor).where(sync_state.c.resource == "r0"))
        assert got.scalar_one() == {"x": 9}


def test_replace_set_deletes_what_vanished(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        upsert(conn, sync_state, _rows(5, {"x": 1}))
        replace_set(conn, sync_state, {"account_uid": "a"}, _rows(2, {"x": 1}), account_uid="a")
        left = set(conn.execute(select(sync_state.c.resource)).scalars())
    assert left == {"r0", "r1"}


def test_odd_strings_load_on_every_dialect(engine: Engine) -> None:
    """NUL characters (refused by PostgreSQL) are dropped; a string longer than its column
    is cut, so one odd value from the API cannot stop a resource for good."""
    from etl.db.state import sync_runs

    upgrade(engine)
    now = utcnow()
    row = {
        "id": 1,
        "resource": "r\x00x",
        "started_at": now,
        "status": "ok-but-far-too-long-for-its-column",
        "details": {"k\x00": ["v\x00"]},
        "account_uid": "a",
        "synced_at": now,
    }
    with engine.begin() as conn:
        assert upsert(conn, sync_runs, [row]) == 1
        got = conn.execute(select(sync_runs)).one()
        assert upsert(conn, sync_runs, [row]) == 0  # cleaned the same way: no change
    assert got.resource == "rx" and got.details == {"k": ["v"]}
    assert got.status == row["status"][:16]


def test_replace_set_leaves_other_accounts_alone(engine: Engine) -> None:
    """Owner ids repeat across accounts sharing a database: one account's set is its own."""
    upgrade(engine)
    now = utcnow()
    rows = [
        {"account_uid": acc, "resource": f"r{n}", "cursor": {}, "synced_at": now}
        for acc in ("a", "b")
        for n in range(3)
    ]
    with engine.begin() as conn:
        upsert(conn, sync_state, rows)
        replace_set(conn, sync_state, {"resource": "r1"}, [], account_uid="a")
        left = set(conn.execute(select(sync_state.c.account_uid, sync_state.c.resource)).all())
    assert left == {("a", "r0"), ("a", "r2"), ("b", "r0"), ("b", "r1"), ("b", "r2")}
