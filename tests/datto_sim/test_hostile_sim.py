"""The hostile conditions of issue 9, each a knob of the simulator, seen by a bare client."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest

from datto_sim import Simulator
from datto_sim import bad_items as sim_bad
from datto_sim.activity import activities
from datto_sim.ratelimit import limiter
from tests.datto_sim.helpers import session

SITES = "/api/v2/account/sites"
DEVICES = "/api/v2/account/devices"


def test_trickle_sends_byte_by_byte_serves_others_meanwhile_and_ends_on_stop() -> None:
    sim = Simulator(devices=5, sites=3, trickle=("lists",), trickle_seconds=0.02).start()
    try:
        with session(sim) as http, session(sim) as other:
            patient = httpx.Timeout(30.0, read=2.0)  # each byte comes well within a read
            with http.stream("GET", SITES, timeout=patient) as resp:
                assert int(resp.headers["Content-Length"]) > 1000
                raw = resp.iter_raw()
                got = b"".join(next(raw) for _ in range(5))
                assert got.startswith(b"{") and len(got) < 100  # a trickle, not the page
                assert other.get("/api/v2/account").status_code == 200  # not a list: at once
                sim.stop()  # must cut the body short, not leave the reader to its timeout
                with pytest.raises(httpx.RemoteProtocolError):
                    for _ in raw:
                        pass
    finally:
        sim.stop()


def test_oversize_page_holds_far_more_than_max() -> None:
    with (
        Simulator(devices=30, sites=2, oversize=("GET /v2/account/devices",), oversize_mb=3) as sim,
        session(sim) as http,
    ):
        resp = http.get(DEVICES, params={"max": 10})
        assert len(resp.content) >= 3_000_000
        body = resp.json()
        assert len(body["devices"]) > 300 and body["pageDetails"]["count"] == len(body["devices"])
        assert len(http.get(SITES, params={"max": 10}).content) < 100_000  # others as usual


def spoiled_as_told(item: dict[str, Any], kind: str) -> bool:
    values = list(item.values())
    return {
        "surrogate": any(isinstance(v, str) and "\ud800" in v for v in values),
        "huge_id": 10**30 in values,
        "list_for_string": any(isinstance(v, list) and len(v) == 2 for v in values),
        "long_uid": any(isinstance(v, str) and len(v) >= 10_240 for v in values),
        "bad_time": "yesterday" in values,
    }[kind]


def test_bad_items_spoil_a_few_items_the_same_way_on_every_page_size() -> None:
    knobs: dict[str, Any] = {"bad_items": ("GET /v2/account/devices",), "bad_item_count": 6}
    with Simulator(devices=40, sites=4, **knobs) as sim, session(sim) as http:
        truth = {d["uid"]: d for d in sim.devices.values()}
        want = sim_bad.pick_bad(sim, list(truth.values()))
        assert len(want) == 6 and set(want.values()) == set(sim.settings.bad_item_kinds)
        expected = {
            uid: sim_bad.spoil(d, want[uid]) if uid in want else d for uid, d in truth.items()
        }
        for uid, kind in want.items():
            assert spoiled_as_told(expected[uid] or {}, kind), kind
        for size in (7, 250):
            items: list[dict[str, Any]] = []
            for page in range(0, 40 // size + 1):
                items += http.get(DEVICES, params={"max": size, "page": page}).json()["devices"]
            assert sorted(map(canonical, items)) == sorted(map(canonical, expected.values()))
            assert sim_bad.served(sim)["/v2/account/devices"] == want
        assert "\\ud800" in http.get(DEVICES).text  # the lone surrogate, as JSON writes it
        assert "/v2/account/sites" not in sim_bad.served(sim)


def canonical(item: Any) -> str:
    return json.dumps(item, sort_keys=True)


def test_bad_items_in_activity_logs_keep_paging_whole() -> None:
    knobs: dict[str, Any] = {"bad_items": ("lists",), "bad_item_count": 5, "time_scale": 100}
    with Simulator(devices=40, sites=4, **knobs) as sim, session(sim) as http:
        url = "/api/v2/activity-logs"
        params: Any = {"from": "2000-01-01T00:00:00Z", "size": 9, "order": "asc"}
        seen = 0
        while True:
            page = http.get(url, params=params).json()
            if not page["activities"]:
                break
            seen += len(page["activities"])
            url, params = page["pageDetails"]["nextPageUrl"], None
        assert seen == len(activities(sim))
        assert len(sim_bad.served(sim)["/v2/activity-logs"]) == 5


def test_junk_next_urls_never_end_and_bring_the_same_items() -> None:
    with Simulator(devices=5, sites=3, junk_next=("lists",)) as sim, session(sim) as http:
        url: str = SITES
        urls, pages = set(), []
        for _ in range(6):
            body = http.get(url, params={"max": 2} if url == SITES else None).json()
            pages.append([s["uid"] for s in body["sites"]])
            url = body["pageDetails"]["nextPageUrl"]
            assert url and url not in urls and "junk=" in url
            urls.add(url)
        assert all(p == pages[0] for p in pages)


def test_a_page_nested_a_hundred_thousand_deep() -> None:
    with (
        Simulator(devices=5, sites=3, deep_json=("GET /v2/account/sites",)) as sim,
        session(sim) as http,
    ):
        resp = http.get(SITES)
        assert resp.status_code == 200 and resp.content.startswith(b'{"pageDetails": ')
        assert resp.content.count(b"[") == 100_000
        with pytest.raises(RecursionError):
            json.loads(resp.content)
        assert http.get(DEVICES).json()["devices"]  # the others stay flat


@pytest.mark.parametrize("then", ["drop", "504", "answer"])
def test_a_hung_family_stalls_then_drops_fails_or_answers(then: str) -> None:
    knobs: dict[str, Any] = {"hang": ("GET /v2/audit/*",), "hang_seconds": 0.2, "hang_then": then}
    with Simulator(devices=20, sites=2, **knobs) as sim, session(sim) as http:
        uid = next(u for u, d in sim.devices.items() if d["deviceClass"] == "device")
        assert http.get(SITES).status_code == 200
        if then == "drop":
            with pytest.raises(httpx.RemoteProtocolError):
                http.get(f"/api/v2/audit/device/{uid}")
        else:
            status = http.get(f"/api/v2/audit/device/{uid}").status_code
            assert status == {"504": 504, "answer": 200}[then]


def test_a_hung_request_times_out_and_stopping_releases_the_stalled_ones() -> None:
    sim = Simulator(devices=20, sites=2, hang=("GET /v2/audit/*",)).start()  # an hour's stall
    try:
        uid = next(u for u, d in sim.devices.items() if d["deviceClass"] == "device")
        outcome: list[BaseException] = []
        with session(sim) as http:
            with pytest.raises(httpx.ReadTimeout):
                http.get(f"/api/v2/audit/device/{uid}", timeout=0.3)

            def wait_long() -> None:
                try:
                    http.get(f"/api/v2/audit/device/{uid}", timeout=60)
                except httpx.HTTPError as exc:
                    outcome.append(exc)

            arrived = limiter(sim).arrivals
            waiter = threading.Thread(target=wait_long)
            waiter.start()
            while limiter(sim).arrivals == arrived:  # until the second one stalls too
                threading.Event().wait(0.01)
            sim.stop()
            waiter.join(30)
        assert len(outcome) == 1 and isinstance(outcome[0], httpx.RemoteProtocolError)
    finally:
        sim.stop()
