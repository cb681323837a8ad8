"""``python -m datto_sim`` and ``serve()``: the simulator on its own, stopped cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import httpx
import pytest

from datto_sim import SimSettings, Simulator
from datto_sim.core import PUBLIC_CLIENT
from datto_sim.standalone import parse_knob, serve


def exported(lines: list[str]) -> dict[str, str]:
    """The ``export NAME=VALUE`` lines printed, as a dict."""
    pairs = (line.split()[1].split("=", 1) for line in lines if line.startswith("export "))
    return dict(pairs)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_python_m_datto_sim_serves_until_a_signal(sig: int) -> None:
    argv = [sys.executable, "-m", "datto_sim", "--devices", "20", "--sites", "2"]
    argv += ["--time-scale", "100", "--set", "activity_date_unit=ms"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("Press Ctrl-C"):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "no output"
            lines.append(line.strip())
        env = exported(lines)
        # the window is not exported: the ETL reads it from request_rate
        assert "DATTO_ETL_BUDGET_WINDOW_SECONDS" not in env
        token = httpx.post(
            f"{env['DATTO_API_URL']}/auth/oauth/token",
            headers={"Authorization": PUBLIC_CLIENT},
            data={
                "grant_type": "password",
                "username": env["DATTO_API_KEY"],
                "password": env["DATTO_API_SECRET"],
            },
        ).json()["access_token"]
        sites = httpx.get(
            f"{env['DATTO_API_URL']}/api/v2/account/sites",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert len(sites.json()["sites"]) == 2 + 3  # and the three system sites
        os.kill(proc.pid, sig)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_hands_over_the_simulator_and_stops_on_request() -> None:
    stop = threading.Event()
    urls: list[str] = []

    def on_ready(sim: Simulator) -> None:
        urls.append(sim.url)
        assert httpx.get(f"{sim.url}/api/v2/account").status_code == 401  # up, no token
        stop.set()

    options = {"on_ready": on_ready, "stop": stop}
    server = threading.Thread(target=serve, args=(SimSettings(devices=5, sites=1),), kwargs=options)
    server.start()
    server.join(30)
    assert not server.is_alive() and len(urls) == 1
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{urls[0]}/api/v2/account")


def test_knobs_parse_into_their_types() -> None:
    assert parse_knob("trickle=lists, GET /v2/audit/*") == ("trickle", ("lists", "GET /v2/audit/*"))
    assert parse_knob("force_429_at=3,4") == ("force_429_at", (3, 4))
    assert parse_knob("jobs=none") == ("jobs", None)
    assert parse_knob("jobs=7") == ("jobs", 7)
    assert parse_knob("write_quota=false") == ("write_quota", False)
    assert parse_knob("time_scale=2.5") == ("time_scale", 2.5)
