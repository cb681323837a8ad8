"""Default and custom device filters."""

from __future__ import annotations

from sqlalchemy import Engine

from datto_sim import filters as sim_filters
from etl.api.timestamps import to_utc
from etl.resources.filters import filters
from tests.resources.helpers import rows, small_sim, sync


def test_default_and_custom_filters(engine: Engine) -> None:
    with small_sim(devices=5, sites=1) as sim:
        assert sync(sim, engine, ["filters"]).ok
        expected = sim_filters.filters(sim, "rmm_default") + sim_filters.filters(sim, "custom")
        stored = {r.id: r for r in rows(engine, filters)}
        assert {i: (r.name, r.type) for i, r in stored.items()} == {
            f["id"]: (f["name"], f["type"]) for f in expected
        }
        assert all(stored[f["id"]].last_updated == to_utc(f["lastUpdated"]) for f in expected)
