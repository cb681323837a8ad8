"""API variants the facts leave open, each a SimSettings knob: the simulator offers them."""

from __future__ import annotations

import json

import httpx
import pytest

from datto_sim import Simulator
from datto_sim.activity import activities
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


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_activity_dates_in_seconds_or_milliseconds_inner_dates_in_ms(unit: str) -> None:
    with Simulator(devices=40, sites=2, activity_date_unit=unit) as sim:
        params = {"from": "2000-01-01T00:00:00Z", "size": 500, "order": "asc"}
        got = get(sim, "/v2/activity-logs", **params).json()["activities"]
        truth = {e["id"]: e["date"] for e in activities(sim)}
        assert len(got) == len(truth)
        inner: list[float] = []
        for entry in got:
            seconds = truth[entry["id"]]
            if unit == "ms":
                assert entry["date"] == round(seconds * 1000) and entry["date"] > 1e11
            else:
                assert entry["date"] == seconds and entry["date"] < 1e11
            details = json.loads(entry["details"])
            inner += [v for k, v in details.items() if "date" in k.lower() and v]
        assert inner and all(v > 1e11 for v in inner)  # epoch ms either way
