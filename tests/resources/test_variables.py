"""Account and site variables: stored as the API shows them, masked values masked."""

from __future__ import annotations

from sqlalchemy import Engine

from datto_sim import variables as sim_variables
from etl.resources.variables import account_variables, site_variables
from tests.resources.helpers import rows, small_sim, sync


def test_variables_keep_masked_values_masked(engine: Engine) -> None:
    with small_sim(devices=5, sites=4) as sim:
        assert sync(sim, engine, ["sites", "account_variables", "site_variables"]).ok
        stored = {r.id: (r.name, r.value, r.masked) for r in rows(engine, account_variables)}
        assert stored == {
            v["id"]: (v["name"], v["value"], v["masked"])
            for v in sim_variables.account_variables(sim)
        }
        masked = [value for _, value, is_masked in stored.values() if is_masked]
        assert masked and set(masked) == {sim_variables.MASK}

        per_site = {(r.site_uid, r.id): (r.value, r.masked) for r in rows(engine, site_variables)}
        assert per_site == {
            (uid, v["id"]): (v["value"], v["masked"])
            for uid in sim.sites
            for v in sim_variables.site_variables(sim, uid)
        }

        site = next(u for u in sim.sites if sim_variables.site_variables(sim, u))
        dropped = sim_variables.site_variables(sim, site).pop()
        assert sync(sim, engine, ["site_variables"]).ok
        assert (site, dropped["id"]) not in {
            (r.site_uid, r.id) for r in rows(engine, site_variables)
        }
