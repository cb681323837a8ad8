"""Components and their variables."""

from __future__ import annotations

from sqlalchemy import Engine

from datto_sim import components as sim_components
from etl.resources.components import component_variables, components
from tests.resources.helpers import rows, small_sim, sync


def test_components_and_variables(engine: Engine) -> None:
    with small_sim(devices=5, sites=1) as sim:
        assert sync(sim, engine, ["components"]).ok
        items = sim_components.components(sim)
        stored = {r.uid: r for r in rows(engine, components)}
        assert set(stored) == {c["uid"] for c in items}
        assert all(stored[c["uid"]].category_code == c["categoryCode"] for c in items)
        variables = {(r.component_uid, r.name, r.type) for r in rows(engine, component_variables)}
        assert variables == {
            (c["uid"], v["name"], v["type"]) for c in items for v in c["variables"]
        }
        withdrawn = items.pop()
        assert sync(sim, engine, ["components"]).ok
        assert withdrawn["uid"] not in {r.uid for r in rows(engine, components)}
        left = {r.component_uid for r in rows(engine, component_variables)}
        assert withdrawn["uid"] not in left
