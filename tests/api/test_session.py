"""The shared session and its per-resource views: counting, the calibration hook, stopping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from datto_sim import Simulator
from datto_sim.server import error
from etl.api.budget import Calibration, Lane, RateBudget, Reader
from etl.api.calibrate import REQUEST_RATE
from etl.api.client import DattoClient
from etl.api.session import DattoSession
from etl.errors import StopRequested
from tests.conftest import settings_for


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A small account: these tests are about requests, not data."""
    with Simulator(devices=10, sites=2) as s:
        yield s


def wait_for(check: Callable[[], bool], what: str) -> None:
    """Poll ``check`` until it holds (the deadline only guards against a hang)."""
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[BaseException]]:
    """Run ``call`` in a thread; the list receives what it raised."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # what ended the call is the result
            raised.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, raised


def test_each_view_counts_its_own_requests(sim: Simulator) -> None:
    s = settings_for(sim)
    with DattoSession(s.datto, s.budget, calibrator=None) as session:
        first, second = DattoClient(session), DattoClient(session, Lane.HIGH)
        for _ in range(2):
            first.get("/v2/account")
        for _ in range(3):
            second.get("/v2/account")
        third = DattoClient(session)
    assert first.counter.count == 3  # the token call went out on its behalf
    assert second.counter.count == 3 and third.counter.count == 0
    assert sim.count("POST /auth/oauth/token") == 1  # one token for the whole session
    assert len(sim.records) == 6


def test_calibration_is_the_sessions_hook_counted_for_the_view(sim: Simulator) -> None:
    s = settings_for(sim)
    looks: list[Any] = []

    def hook(budget: RateBudget, read: Reader) -> Calibration | None:
        looks.append(read(REQUEST_RATE))
        return None

    with DattoSession(s.datto, s.budget, calibrator=hook) as session:
        client = DattoClient(session)
        client.get("/v2/account")
        client.get("/v2/account")  # the next look is not due yet
    assert len(looks) == 1 and "accountCount" in looks[0]
    assert sim.count(f"GET {REQUEST_RATE}") == 1
    assert client.counter.count == 4  # token, request_rate, two documents


def test_a_stop_ends_a_wait_for_the_budget() -> None:
    # request_rate reports an hour's window: two requests an hour (the token and the first
    # look) fill it
    with Simulator(devices=10, sites=2, rate_window=3600) as sim:
        stop_a_wait_for_the_budget(sim)


def stop_a_wait_for_the_budget(sim: Simulator) -> None:
    s = settings_for(sim, requests_per_minute=2)
    with DattoSession(s.datto, s.budget) as session:
        client = DattoClient(session)
        thread, raised = in_thread(lambda: client.get("/v2/account"))
        wait_for(lambda: sim.count(f"GET {REQUEST_RATE}") == 1, "the first look")
        session.stop.set()
        thread.join(60)  # only guards against a hang: the wait itself is an hour
        assert not thread.is_alive() and isinstance(raised[0], StopRequested)
    assert sim.count("GET /v2/account") == 0


def test_a_stop_ends_retrying(sim: Simulator) -> None:
    sim.middlewares.append(
        lambda s, req: error(503, "busy", req.path) if req.endpoint == "GET /v2/account" else None
    )
    s = settings_for(sim)
    datto = s.datto.model_copy(update={"max_retries": 1000})
    with DattoSession(datto, s.budget) as session:
        thread, raised = in_thread(lambda: DattoClient(session).get("/v2/account"))
        wait_for(lambda: sim.count("GET /v2/account", status=503) >= 2, "a retry")
        session.stop.set()
        thread.join(60)
        assert not thread.is_alive() and isinstance(raised[0], StopRequested)
