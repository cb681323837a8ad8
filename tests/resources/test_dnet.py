"""Datto Networking mappings: one row per (site, network id), kept as a snapshot."""

from __future__ import annotations

from sqlalchemy import Engine

from datto_sim import Simulator
from datto_sim import dnet as sim_dnet
from etl.resources.dnet import dnet_site_mappings
from tests.conftest import settings_for
from tests.resources.helpers import rows, small_sim, sync

NAME = ["dnet_site_mappings"]


def expected(sim: Simulator) -> set[tuple[str, int, int, str]]:
    return {
        (m["uid"], n, m["id"], m["name"])
        for m in sim_dnet.mappings(sim)
        for n in m["dattoNetworkingNetworkIds"]
    }


def stored(engine: Engine) -> set[tuple[str, int, int, str]]:
    return {
        (r.site_uid, r.network_id, r.site_id, r.site_name) for r in rows(engine, dnet_site_mappings)
    }


def test_mappings_mirror_the_account_across_pages(engine: Engine) -> None:
    with small_sim(sites=12) as sim:
        settings = settings_for(sim)
        settings = settings.model_copy(
            update={"datto": settings.datto.model_copy(update={"page_size": 5})}
        )
        assert sync(sim, engine, NAME, settings).ok
        assert sim.count("GET /v2/account/dnet-site-mappings") >= 3
        assert stored(engine) == expected(sim) and expected(sim)
        assert {r.account_uid for r in rows(engine, dnet_site_mappings)} == {sim.account_uid}

        mapped = next(m["uid"] for m in sim_dnet.mappings(sim) if m["dattoNetworkingNetworkIds"])
        bare = next(m["uid"] for m in sim_dnet.mappings(sim) if not m["dattoNetworkingNetworkIds"])
        sim_dnet.map_networks(sim, mapped, [])  # unmapped in Datto: deleted here
        sim_dnet.map_networks(sim, bare, [4711, 4712])
        assert sync(sim, engine, NAME, settings).ok
        assert stored(engine) == expected(sim)
        assert not [r for r in rows(engine, dnet_site_mappings) if r.site_uid == mapped]
