"""The simulator's rate limit and faults, seen by a plain HTTP client (no budget of ours)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from datto_sim import Simulator
from datto_sim.ratelimit import WRITE_OPERATIONS, limiter, max_in_window
from tests.datto_sim.helpers import session


def test_request_rate_counts_every_request_token_calls_included() -> None:
    with Simulator(devices=5, sites=1) as sim, session(sim) as http:
        http.get("/api/v2/account")
        body = http.get("/api/v2/system/request_rate").json()
    assert body["accountCount"] == 3  # token, account, this call
    assert body["slidingTimeWindowSizeSeconds"] == 60 and body["accountRateLimit"] == 600
    assert body["accountCutOffRatio"] == 0.9 and body["accountUid"] == sim.account_uid
    assert (body["accountWriteRateLimit"], body["accountWriteCount"]) == (600, 0)
    assert body["operationWriteStatus"] == {
        op: {"limit": limit, "count": 0} for op, limit in WRITE_OPERATIONS.items()
    }


def test_request_rate_reports_the_simulators_own_figures_in_real_seconds() -> None:
    knobs: dict[str, Any] = {"rate_limit": 50, "rate_cutoff_ratio": 0.8, "time_scale": 100}
    knobs["write_quota"] = False
    with Simulator(devices=5, sites=1, **knobs) as sim, session(sim) as http:
        body = http.get("/api/v2/system/request_rate").json()
    assert body["slidingTimeWindowSizeSeconds"] == 0.6  # 60 simulated seconds at 100x
    assert (body["accountRateLimit"], body["accountCutOffRatio"]) == (50, 0.8)
    assert "accountWriteRateLimit" not in body and "operationWriteStatus" not in body  # one bucket


@pytest.mark.parametrize("retry_after", [False, True])
def test_past_the_limit_429_and_past_the_cutoff_a_delay(retry_after: bool) -> None:
    with (
        Simulator(
            devices=5, sites=1, rate_limit=20, time_scale=60, retry_after_header=retry_after
        ) as sim,
        session(sim) as http,
    ):
        answers = [http.get("/api/v2/account") for _ in range(20)]
        assert [a.status_code for a in answers[:19]] == [200] * 19
        assert answers[19].status_code == 429
        assert ("Retry-After" in answers[19].headers) is retry_after
        assert limiter(sim).delayed == 20 - 18  # requests 19 and 20 of the window (> 90 %)


def test_hammering_after_a_429_blocks_the_ip_with_a_non_json_page() -> None:
    with (
        Simulator(devices=5, sites=1, rate_limit=10, block_after_strikes=3) as sim,
        session(sim) as http,
    ):
        for _ in range(9):
            http.get("/api/v2/account")
        assert http.get("/api/v2/account").status_code == 429
        sim.clock.advance(5)  # past the grace for requests already in flight
        statuses = [http.get("/api/v2/account").status_code for _ in range(5)]
        assert statuses == [429, 429, 429, 403, 403]
        blocked = http.get("/api/v2/account")
        assert blocked.status_code == 403 and blocked.text.startswith("<html>")
        sim.clock.advance(301)  # the block lasts about five minutes
        assert http.get("/api/v2/account").status_code == 200


def test_a_competitor_has_been_filling_the_window() -> None:
    with Simulator(devices=5, sites=1, competitor_rpm=300) as sim, session(sim) as http:
        count = http.get("/api/v2/system/request_rate").json()["accountCount"]
    assert 300 <= count <= 303


def test_forced_block_answers_429_then_blocks() -> None:
    with Simulator(devices=5, sites=1, force_block_at=3) as sim, session(sim) as http:
        assert http.get("/api/v2/account").status_code == 200
        assert http.get("/api/v2/account").status_code == 429
        assert http.get("/api/v2/account").status_code == 403


def test_faults_are_injected_as_asked() -> None:
    with (
        Simulator(devices=5, sites=1, fault_5xx=0.3, fault_drop=0.2, malformed_pages=1) as sim,
        session(sim) as http,
    ):
        page = http.get("/api/v2/account/sites")
        with pytest.raises(ValueError):
            page.json()  # cut short
        outcomes = []
        for _ in range(60):
            try:
                outcomes.append(http.get("/api/v2/account").status_code)
            except httpx.TransportError:
                outcomes.append(0)
        assert {0, 200} <= set(outcomes) and any(s >= 500 for s in outcomes)


def test_max_in_window() -> None:
    assert max_in_window([0.0, 1.0, 59.9, 60.0, 61.0, 200.0], 60.0) == 3
