"""The hostile server of issue 9 (``datto_sim.hostile``) against the client, over real HTTP:
every fault ends bounded, with a clear error for its resource only."""

from __future__ import annotations

import pytest

from datto_sim import Simulator
from etl.errors import MalformedResponseError
from tests.conftest import client_for

SITES = "GET /v2/account/sites"


def test_a_page_nested_a_hundred_thousand_deep_is_a_malformed_page() -> None:
    with (
        Simulator(devices=5, sites=3, deep_json=(SITES,)) as sim,
        client_for(sim, max_retries=2) as client,
        pytest.raises(MalformedResponseError, match="nested too deep") as exc,
    ):
        list(client.paginate("/v2/account/sites", "sites"))
    assert str(exc.value).startswith("/api/v2/account/sites answered JSON nested too deep")
    assert sim.count(SITES) == 3  # retried like any malformed page, then given up
