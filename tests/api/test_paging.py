"""Every walk through a paged list ends (etl/api/paging.py), whatever the server sends."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from datto_sim import Simulator
from etl.errors import FatalAPIError
from etl.sync import run_sync
from tests.api.test_client import wrap_route
from tests.conftest import client_for, settings_for
from tests.resources.helpers import line, small_sim

SITES = "GET /v2/account/sites"


def test_endless_junk_next_urls_stop_within_a_few_pages(engine: Engine, db_url: str) -> None:
    # every nextPageUrl is new (a junk parameter) and answers the same sites again
    with small_sim(junk_next=(SITES,)) as sim:
        report = run_sync(settings_for(sim, db_url), ["sites", "users"], engine=engine)
        sites = line(report, "sites")
        assert sites.status == "failed" and sites.error is not None
        assert "3 pages in a row brought no new item" in sites.error
        assert sim.count(SITES) == 4  # the first page, then three that bring nothing new
        assert line(report, "users").status == "ok"  # the other resources go on


def claim_total(sim: Simulator, total: int) -> None:
    """Make the device list say it holds ``total`` devices, whatever it holds."""
    wrap_route(
        sim,
        "/v2/account/devices",
        lambda b: {**b, "pageDetails": {**b["pageDetails"], "totalCount": total}},
    )


def test_a_list_read_far_past_its_total_count_stops() -> None:
    with Simulator(devices=60, sites=2) as sim, client_for(sim, page_size=5) as client:
        claim_total(sim, 3)  # new devices on every page, but the list says it holds 3
        with pytest.raises(FatalAPIError, match="10 items read where the list counts 3"):
            list(client.paginate("/v2/account/devices", "devices"))
        assert sim.count("GET /v2/account/devices") == 2  # 3 + a page of 5 + 0 may be read


def test_a_list_growing_while_it_is_read_is_read_whole() -> None:
    with Simulator(devices=60, sites=2) as sim, client_for(sim, page_size=5) as client:
        claim_total(sim, 55)  # lags behind by a few (devices added during the walk)
        pages = list(client.paginate("/v2/account/devices", "devices"))
        assert sum(len(p.items) for p in pages) == 60
