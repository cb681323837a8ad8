"""API variants the facts leave open, each a SimSettings knob: the simulator offers them."""

from __future__ import annotations

import httpx
import pytest

from datto_sim import Simulator
from tests.datto_sim.test_alerts_sim import get


def test_times_as_numeric_strings() -> None:
    with Simulator(devices=5, sites=1, time_format="string") as sim:
        device = get(sim, "/v2/account/devices").json()["devices"][0]
        assert isinstance(device["lastSeen"], str) and device["lastSeen"].isdigit()


def test_relative_next_url_and_an_empty_one_on_the_last_page() -> None:
    with Simulator(devices=5, sites=1, relative_next=True, last_next="") as sim:
        first = get(sim, "/v2/account/devices", max=3).json()["pageDetails"]
        assert first["nextPageUrl"].startswith("/api/v2/account/devices?")
        last = get(sim, "/v2/account/devices", max=3, page=1).json()["pageDetails"]
        assert last["nextPageUrl"] == ""


def test_resolved_alert_lists_drop_connections_when_asked() -> None:
    with Simulator(devices=5, sites=1, resolved_alert_drop=1.0) as sim:
        assert get(sim, "/v2/account/alerts/open").status_code == 200
        with pytest.raises(httpx.TransportError):
            get(sim, "/v2/account/alerts/resolved")
