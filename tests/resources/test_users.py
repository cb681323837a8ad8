"""Users: a snapshot keyed by username; a user deleted in Datto goes."""

from __future__ import annotations

from sqlalchemy import Engine

from datto_sim import users as sim_users
from etl.api.timestamps import to_utc
from etl.resources.users import users
from tests.resources.helpers import line, rows, small_sim, sync


def test_users_mirror_the_account(engine: Engine) -> None:
    with small_sim(devices=5, sites=1) as sim:
        people = sim_users.users(sim)
        assert sync(sim, engine, ["users"]).ok
        stored = {r.username: r for r in rows(engine, users)}
        assert set(stored) == {u["username"] for u in people}
        for user in people:
            row = stored[user["username"]]
            assert (row.email, row.first_name, row.status) == (
                user["email"],
                user["firstName"],
                user["status"],
            )
            assert row.disabled is user["disabled"]
            assert row.created == to_utc(user["created"])
            assert row.last_access == to_utc(user["lastAccess"])  # 0: never → NULL
        assert any(r.last_access is None for r in stored.values())

        gone = people.pop(0)
        people[0]["email"] = "changed@msp.example"
        report = sync(sim, engine, ["users"])
        assert line(report, "users").rows_written == 2
        stored = {r.username: r for r in rows(engine, users)}
        assert gone["username"] not in stored
        assert stored[people[0]["username"]].email == "changed@msp.example"
