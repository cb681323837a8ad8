"""The simulator's alert lists behave as API_FACTS.md says the live ones do."""

from __future__ import annotations

from typing import Any

import httpx

from datto_sim import Simulator
from datto_sim import alerts as sim_alerts


def get(sim: Simulator, path: str, **params: Any) -> httpx.Response:
    token = httpx.post(
        f"{sim.url}/auth/oauth/token",
        headers={"Authorization": "Basic cHVibGljLWNsaWVudDpwdWJsaWM="},
        data={"grant_type": "password", "username": "sim-api-key", "password": "sim-api-secret"},
    ).json()["access_token"]
    return httpx.get(
        f"{sim.url}/api{path}", params=params, headers={"Authorization": f"Bearer {token}"}
    )


def test_lists_newest_first_with_their_own_page_size() -> None:
    with Simulator(devices=40, sites=4, alerts_open=30, alerts_resolved=70, alert_page_max=25) as s:
        opened = get(s, "/v2/account/alerts/open", max=250).json()
        resolved = get(s, "/v2/account/alerts/resolved", max=250, page=2).json()
        assert len(opened["alerts"]) == 25 and "totalCount" not in opened["pageDetails"]
        assert "max=25&page=1" in opened["pageDetails"]["nextPageUrl"]
        assert resolved["pageDetails"]["totalCount"] == 70
        assert len(resolved["alerts"]) == 20 and resolved["pageDetails"]["nextPageUrl"] is None
        for page in (opened["alerts"], resolved["alerts"]):
            times = [a["timestamp"] for a in page]
            assert times == sorted(times, reverse=True)
        assert all(a["resolved"] and a["resolvedOn"] >= a["timestamp"] for a in resolved["alerts"])
        muted = get(s, "/v2/account/alerts/open", muted="true").json()["alerts"]
        assert all(a["muted"] for a in muted)


def test_one_alert_site_and_device_lists() -> None:
    with Simulator(devices=40, sites=4, alerts_open=30, alerts_resolved=10) as s:
        alert = sim_alerts.book(s).listed(resolved=False)[0]
        uid, src = alert["alertUid"], alert["alertSourceInfo"]
        assert get(s, f"/v2/alert/{uid}").json() == alert
        assert get(s, "/v2/alert/nope").status_code == 404
        on_site = get(s, f"/v2/site/{src['siteUid']}/alerts/open").json()["alerts"]
        on_device = get(s, f"/v2/device/{src['deviceUid']}/alerts/open").json()["alerts"]
        assert uid in {a["alertUid"] for a in on_site} & {a["alertUid"] for a in on_device}
        assert all(a["alertSourceInfo"]["siteUid"] == src["siteUid"] for a in on_site)
        assert get(s, "/v2/site/nope/alerts/resolved").status_code == 404


def test_resolving_and_shifting_pages() -> None:
    with Simulator(devices=40, sites=4, alerts_open=30, alerts_resolved=10, alert_page_max=10) as s:
        oldest = sim_alerts.book(s).listed(resolved=False)[-1]
        sim_alerts.resolve_alert(s, oldest["alertUid"], at_ms=oldest["timestamp"] + 5)
        resolved = get(s, "/v2/account/alerts/resolved").json()["alerts"]
        at = [a["alertUid"] for a in resolved].index(oldest["alertUid"])
        assert resolved[at]["resolvedOn"] == oldest["timestamp"] + 5
        # listed at its raise time, not at its resolution
        assert all(a["timestamp"] > oldest["timestamp"] for a in resolved[:at])
        assert all(a["timestamp"] < oldest["timestamp"] for a in resolved[at + 1 :])

        before = [a["alertUid"] for a in sim_alerts.book(s).listed(resolved=False)]
        sim_alerts.shift_pages(s, add=0, resolve=1)
        first = get(s, "/v2/account/alerts/open").json()["alerts"]
        second = get(s, "/v2/account/alerts/open", page=1).json()["alerts"]
        # the newest open alert was resolved between the two requests: the list moved up
        # under the reader and the alert at the page boundary was skipped
        seen = {a["alertUid"] for a in first + second}
        assert before[9] in seen and before[11] in seen and before[10] not in seen
        assert len(sim_alerts.book(s).listed(resolved=False)) == len(before) - 2
