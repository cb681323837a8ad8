"""The HTTP client against the simulator: token flow, paging, the origin guard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from datto_sim import Simulator
from datto_sim.server import Request, Response
from datto_sim.users import users
from etl.api.client import DattoClient
from etl.api.session import DattoSession
from etl.errors import CredentialsError, MalformedResponseError, NotFoundError, UnsafeURLError
from tests.api.clock import StepClock
from tests.conftest import client_for, settings_for


def test_token_is_fetched_once_and_reused(sim: Simulator) -> None:
    with client_for(sim) as client:
        for _ in range(3):
            client.get("/v2/account")
    assert sim.count("POST /auth/oauth/token") == 1
    assert sim.count("GET /v2/account") == 3


def test_one_refresh_on_401_then_go_on(sim: Simulator) -> None:
    with client_for(sim) as client:
        client.get("/v2/account")
        sim.expire_tokens()
        assert client.get("/v2/account")["uid"] == sim.account_uid
    assert sim.count("POST /auth/oauth/token") == 2


def test_token_refreshed_before_it_expires() -> None:
    clock = StepClock()
    with Simulator(devices=10, sites=2, token_lifetime=1.0) as sim:
        s = settings_for(sim)
        with DattoSession(s.datto, s.budget, clock=clock) as session:
            client = DattoClient(session)
            client.get("/v2/account")
            clock.sleep(1.1)  # the token's expires_in (1 s) has run out on the session's clock
            client.get("/v2/account")
        assert sim.count("GET /v2/account", status=401) == 0
        assert sim.count("POST /auth/oauth/token") == 2


@pytest.mark.parametrize("status", [400, 401])
def test_bad_credentials(status: int) -> None:
    with Simulator(devices=10, sites=2, bad_credentials_status=status) as sim:
        from pydantic import SecretStr

        with (
            client_for(sim, api_secret=SecretStr("wrong")) as client,
            pytest.raises(CredentialsError) as exc,
        ):
            client.get("/v2/account")
        assert "wrong" not in str(exc.value)
        assert sim.count("GET /v2/account") == 0


def test_secret_with_trailing_newline_works(sim: Simulator) -> None:
    from pydantic import SecretStr

    from etl.config import DattoSettings

    fixed = DattoSettings.model_validate(
        {
            "api_url": sim.url,
            "api_key": sim.settings.api_key,
            "api_secret": SecretStr(sim.settings.api_secret + "\n"),
        }
    )
    with DattoSession(fixed) as session:
        assert DattoClient(session).get("/v2/account")["uid"] == sim.account_uid


def test_paging_follows_absolute_next_urls(sim: Simulator) -> None:
    with client_for(sim) as client:
        pages = list(client.paginate("/v2/account/devices", "devices"))
    assert [p.number for p in pages] == list(range(len(pages)))
    assert sum(len(p.items) for p in pages) == len(sim.devices)
    assert {
        r.query.get("page") for r in sim.records if r.endpoint == "GET /v2/account/devices"
    } == {None, *(str(n) for n in range(1, len(pages)))}


def test_filters_are_reapplied_when_next_url_drops_them() -> None:
    with Simulator(devices=600, sites=5, drop_filters=True) as sim, client_for(sim) as client:
        list(client.paginate("/v2/account/sites", "sites", {"siteName": "a"}))
        list(client.paginate("/v2/account/devices", "devices", {"siteName": "x"}))
        pages = [r for r in sim.records if r.endpoint == "GET /v2/account/devices"]
        assert len(pages) > 1 and all(r.query.get("siteName") == "x" for r in pages)


def test_next_page_on_another_host_is_refused_without_the_token() -> None:
    with (
        Simulator(devices=10, sites=2) as evil,
        Simulator(devices=600, sites=3, next_origin=evil.url) as sim,
        client_for(sim) as client,
    ):
        with pytest.raises(UnsafeURLError) as exc:
            list(client.paginate("/v2/account/devices", "devices"))
        assert "nothing was sent" in str(exc.value)
        assert evil.records == []  # not a single request reached the other host
        assert sim.count("GET /v2/account/devices") == 1


def test_next_page_with_other_scheme_or_port_is_refused(sim: Simulator) -> None:
    with client_for(sim) as client:
        for bad in (
            "https://127.0.0.1/api/v2/x",
            sim.url.replace("http:", "https:") + "/api/v2/x",
            "http://127.0.0.1:1/api/v2/x",
            "//evil.example/api/v2/x",
            sim.url + "/auth/oauth/token",
        ):
            with pytest.raises(UnsafeURLError):
                client.next_url(bad, {})
        assert client.next_url(sim.url + "/api/v2/a?page=1", {"f": "1"}).params["f"] == "1"


def test_a_next_page_on_another_port_names_both_ports(sim: Simulator) -> None:
    with client_for(sim) as client, pytest.raises(UnsafeURLError) as exc:
        client.next_url("http://127.0.0.1:1/api/v2/x", {})
    port = sim.url.rsplit(":", 1)[1]
    assert "http://127.0.0.1:1/api/v2/x" in str(exc.value)  # the port refused
    assert f"configured origin http://127.0.0.1:{port}" in str(exc.value)


def wrap_route(sim: Simulator, template: str, change: Callable[[Any], Any]) -> None:
    """Make the simulator's handler of ``template`` answer ``change(body)`` (a hostile API)."""
    for n, (method, pattern, tmpl, handler) in enumerate(sim.router.routes):
        if tmpl == template:

            def hostile(s: Simulator, req: Request, handler: Any = handler) -> Response:
                resp = handler(s, req)
                return Response(resp.status, change(resp.body), resp.raw, resp.headers)

            sim.router.routes[n] = (method, pattern, tmpl, hostile)


def test_relative_next_urls_and_an_empty_last_one() -> None:
    with (
        Simulator(devices=40, sites=2, relative_next=True, last_next="") as sim,
        client_for(sim, page_size=10) as client,
    ):
        pages = list(client.paginate("/v2/account/devices", "devices"))
        assert sum(len(p.items) for p in pages) == 40
        assert sim.count("GET /v2/account/devices") == 4


def test_a_list_without_page_details_is_walked_by_page_number() -> None:
    with Simulator(devices=40, sites=2) as sim, client_for(sim, page_size=10) as client:
        wrap_route(sim, "/v2/account/devices", lambda b: {"devices": b["devices"]})
        uids = [
            d["uid"] for p in client.paginate("/v2/account/devices", "devices") for d in p.items
        ]
        assert sorted(uids) == sorted(sim.devices)  # nothing lost
        assert sim.count("GET /v2/account/devices") == 5  # the fifth page is empty
        # a server that also ignores ``page`` is an error, not an endless walk
        wrap_route(sim, "/v2/account/users", lambda b: {"users": users(sim)[:3]})
        with pytest.raises(MalformedResponseError, match="ignores 'page'"):
            list(client.paginate("/v2/account/users", "users"))


def test_items_that_are_not_objects_are_a_malformed_page() -> None:
    with Simulator(devices=10, sites=2) as sim, client_for(sim) as client:
        wrap_route(sim, "/v2/account/sites", lambda b: {**b, "sites": [*b["sites"], None]})
        with pytest.raises(MalformedResponseError, match="not a JSON object"):
            list(client.paginate("/v2/account/sites", "sites"))


def test_many_lists_walk_by_the_same_rules() -> None:
    from etl.resources.common import fetch_lists

    with Simulator(devices=60, sites=3) as sim, client_for(sim, page_size=5) as client:
        wrap_route(
            sim,
            "/v2/site/{uid}/devices",
            lambda b: {"devices": b.get("devices")} if "devices" in b else b,
        )
        paths = [f"/v2/site/{uid}/devices" for uid in sim.sites]
        got = dict(fetch_lists(client, [*paths, "/v2/site/nope/devices"], "devices"))
        assert isinstance(got.pop("/v2/site/nope/devices"), NotFoundError)
        for path in paths:  # no pageDetails: walked by page number, nothing lost
            uid = path.split("/")[3]
            want = {d["uid"] for d in sim.devices.values() if d["siteUid"] == uid}
            assert {d["uid"] for d in got[path]} == want
        wrap_route(sim, "/v2/site/{uid}/devices", lambda b: {"devices": [None]})
        got = dict(fetch_lists(client, paths[:1], "devices"))
        assert isinstance(got[paths[0]], MalformedResponseError)
