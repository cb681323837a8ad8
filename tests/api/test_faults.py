"""What the operator reads when the network or the API fails: where, how, the likely fix,
and one warning per endpoint family instead of a line per retry."""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

import httpx
import pytest

from datto_sim import Simulator
from datto_sim.server import Request, Response, error
from etl.api.faults import family, route
from etl.errors import TransportError
from etl.sync import run_sync
from tests.conftest import client_for, settings_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_connection_names_host_port_route_and_fix(sim: Simulator) -> None:
    port = free_port()  # nothing listens there any longer
    with (
        client_for(sim, api_url=f"http://127.0.0.1:{port}", max_retries=1) as client,
        pytest.raises(TransportError) as exc,
    ):
        client.get("/v2/account")
    message = str(exc.value)
    assert f"127.0.0.1:{port} refused the connection" in message
    assert "directly (no proxy set)" in message  # what was tried
    assert "DATTO_PLATFORM" in message and "DATTO_API_URL" in message  # the likely fix
    assert "firewall" in message
    assert "tried 2 times" in message
    assert "ConnectError" not in message


def test_a_name_that_does_not_resolve_points_at_the_platform(sim: Simulator) -> None:
    with (
        client_for(sim, api_url="http://no-such-platform.invalid", max_retries=0) as client,
        pytest.raises(TransportError) as exc,
    ):
        client.get("/v2/account")
    message = str(exc.value)
    assert message.startswith("cannot resolve no-such-platform.invalid")
    assert "wrong platform or URL?" in message and "HTTPS_PROXY" in message


def test_a_proxy_is_named_as_what_was_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://user:pw@proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    url = httpx.URL("https://merlot-api.centrastage.net/api/v2/account")
    assert route(url) == "through the proxy http://proxy.example:3128"  # no password shown
    monkeypatch.delenv("HTTPS_PROXY")
    assert route(url) == "directly (no proxy set)"


def test_endpoint_families() -> None:
    assert family("/api/v2/audit/device/0f3c2a9e-1b2c-4d5e-8f90-123456789abc") == (
        "/v2/audit/device/*"
    )
    assert family("/api/v2/site/8f0a1b2c-aaaa-bbbb-cccc-0123456789ab/settings") == (
        "/v2/site/*/settings"
    )
    assert family("/api/v2/account/devices") == "/v2/account/devices"


def test_an_api_gone_mid_run_is_one_warning_per_family_with_a_count(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    with Simulator(devices=60, sites=6, time_scale=60) as sim:

        def gone(sim: Simulator, req: Request) -> Response | None:
            if req.endpoint == "GET /v2/site/{uid}/settings":
                return error(503, "Service Unavailable", req.path)
            return None

        sim.middlewares.append(gone)
        with caplog.at_level(logging.INFO):
            report = run_sync(
                settings_for(sim, f"sqlite:///{tmp_path / 'e.db'}"), ["sites", "site_settings"]
            )
    failed = next(r for r in report.resources if r.resource == "site_settings")
    assert failed.status == "failed"
    family_lines = [
        r.getMessage() for r in caplog.records if "/v2/site/*/settings" in r.getMessage()
    ]
    warned = [m for m in family_lines if m.startswith("Datto failed on /v2/site/*/settings: ")]
    assert len(warned) == 1, family_lines  # one warning, not a line per retry or per site
    summary = [m for m in family_lines if "request(s) on /v2/site/*/settings" in m]
    assert len(summary) == 1, family_lines
    answered_503 = sim.count("GET /v2/site/{uid}/settings", status=503)
    counted = re.fullmatch(
        r"site_settings: Datto failed (\d+) request\(s\) on /v2/site/\*/settings \(503: \1\)",
        summary[0],
    )
    assert counted, summary
    # every retry counted (requests still out when the run gave up may land after it)
    assert 6 <= int(counted.group(1)) <= answered_503
    assert not [r for r in caplog.records if r.getMessage().startswith("retrying")]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) <= 3
