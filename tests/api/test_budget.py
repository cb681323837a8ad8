"""The rate budget: window, lanes, calibration, stopping; against the simulator and a competitor."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from datto_sim import Simulator
from datto_sim.ratelimit import limiter
from datto_sim.server import Response
from etl.api.budget import Calibration, Lane, RateBudget
from etl.api.client import DattoClient
from etl.api.clock import SystemClock
from etl.api.session import DattoSession
from etl.errors import StopRequested
from etl.progress import eta_seconds
from tests.api.clock import StepClock
from tests.conftest import client_for, settings_for


def test_never_more_than_the_limit_in_any_window() -> None:
    clock = StepClock()
    budget = RateBudget(share=10, window=60.0, clock=clock)
    times = []
    for _ in range(35):
        budget.acquire()
        times.append(clock.now())
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 60.0) <= 10
    assert times[9] == times[0]  # the first ten go at once, then one as each leaves


def test_a_slot_leaves_the_window_a_window_after_its_answer() -> None:
    clock = StepClock()
    budget = RateBudget(share=1, window=60.0, clock=clock)
    with budget.slot():
        clock.sleep(5.0)  # the request is out for 5 s: Datto may count it at any point
    start = clock.now()
    budget.acquire()
    assert clock.now() - start == pytest.approx(60.0, abs=0.1)


def test_low_lane_leaves_room_for_normal_and_high() -> None:
    clock = StepClock()
    budget = RateBudget(share=10, window=60.0, clock=clock, low_share=0.7)
    for _ in range(7):
        assert budget.acquire(Lane.LOW) == 0
    start = clock.now()
    assert budget.acquire(Lane.NORMAL) == 0 and budget.acquire(Lane.HIGH) == 0
    budget.acquire(Lane.LOW)  # the eighth low one waits for the first to leave the window
    assert clock.now() > start


def test_calibration_counts_others_and_projects_their_growth() -> None:
    budget = RateBudget(share=300, window=60.0, clock=StepClock())
    first = budget.calibrate(100, ours=0)
    assert first.others == 100 and budget.limit == 300  # 540 - 100 - margin still > 300
    busy = budget.calibrate(400, ours=50)
    # others 350, grew by 250 since the last look: 540 - 350 - 250 - 12 leaves 1
    assert busy.others == 350 and budget.limit == 1
    calm = budget.calibrate(330, ours=30)
    assert calm.limit == 540 - 300 - 12
    # the server's own cut-off and limit win when lower than the settings
    assert budget.calibrate(0, ours=0, account_limit=300).limit == 270 - 6


def test_429_pauses_and_slows_once_per_episode_then_recovers() -> None:
    clock = StepClock()
    budget = RateBudget(share=300, window=60.0, clock=clock)
    budget.on_rate_limited(60.0)
    budget.on_rate_limited(60.0)  # a request that was in flight: same episode
    assert budget.limit == 240 and budget.recently_limited()
    start = clock.now()
    budget.acquire()
    assert clock.now() - start >= 60.0
    budget.calibrate(0, ours=0)  # first look after the 429: not calm yet
    budget.calibrate(0, ours=0)
    assert budget.limit > 240


def test_window_hands_over_between_budgets() -> None:
    clock = StepClock()
    old = RateBudget(share=5, window=60.0, clock=clock)
    for _ in range(5):
        old.acquire()
    new = RateBudget(share=5, window=60.0, clock=clock)
    new.seed(old.window_ages())
    start = clock.now()
    new.acquire()
    assert clock.now() - start == pytest.approx(60.0, abs=0.1)


def test_a_stop_ends_a_budget_wait_at_once() -> None:
    budget = RateBudget(share=1, window=3600.0, clock=SystemClock())
    budget.acquire()  # the window is full for an hour
    stop = threading.Event()
    outcome: list[BaseException] = []

    def wait_for_a_slot() -> None:
        try:
            budget.acquire(stop=stop)
        except BaseException as exc:  # what ended the wait is the result
            outcome.append(exc)

    waiter = threading.Thread(target=wait_for_a_slot)
    waiter.start()
    stop.set()
    waiter.join(60)  # only guards against a hang: the wait itself is an hour
    assert not waiter.is_alive() and isinstance(outcome[0], StopRequested)
    assert budget.total == 1  # nothing more was let through


def test_a_stop_ends_a_fake_clock_wait_without_passing_time() -> None:
    clock = StepClock()
    budget = RateBudget(share=1, window=60.0, clock=clock)
    stop = threading.Event()
    budget.acquire(stop=stop)  # a free slot: no wait, stop or not
    stop.set()
    with pytest.raises(StopRequested):
        budget.acquire(stop=stop)
    assert clock.now() == 1000.0


def test_calibration_hook_runs_once_when_due_and_releases_the_others() -> None:
    clock = StepClock()
    budget = RateBudget(share=300, window=60.0, clock=clock, calibrate_every=15.0)
    looks: list[float] = []

    def look() -> Calibration | None:
        looks.append(clock.now())
        return budget.calibrate(10, ours=1)

    assert budget.calibrate_when_due(look) is not None  # the first look is due at once
    assert budget.calibrate_when_due(look) is None  # not again before calibrate_every
    clock.sleep(15.0)

    def failing() -> Calibration | None:
        raise RuntimeError("the look failed")

    with pytest.raises(RuntimeError):
        budget.calibrate_when_due(failing)
    assert looks == [1000.0]
    assert budget.acquire() == 0  # nobody waits for a look that is over


def test_eta_from_requests_left_and_the_budget() -> None:
    budget = RateBudget(share=300, window=60.0, clock=StepClock())
    assert eta_seconds(1300, budget) == 200.0  # 300 fit in the empty window, 1000 at 5/s
    assert eta_seconds(1300, budget, speed=2.0) == 650.0  # a slow API: its pace wins
    assert eta_seconds(0, budget) == 0.0


@pytest.mark.parametrize("after", [0.0, 20.0], ids=["always-on", "starts-mid-run"])
def test_competitor_never_pushes_the_account_past_the_cutoff(after: float) -> None:
    with Simulator(
        devices=450, sites=4, time_scale=30, competitor_rpm=300, competitor_after=after
    ) as sim:
        with client_for(sim) as client:
            paths = [f"/v2/device/{uid}" for uid in sim.devices]
            answers = [body for _, body in client.get_many(paths)]
        rl = limiter(sim)
        assert all(isinstance(a, dict) for a in answers)
        assert sim.count(status=429) == 0 and sim.count(status=403) == 0
        assert rl.peak <= 540 and rl.delayed == 0
        assert rl.max_in_window() <= 300
        assert sim.count("GET /v2/system/request_rate") >= 2  # calibrated again during the run


def test_the_budget_follows_every_figure_request_rate_reports() -> None:
    # an account with its own figures: 200 requests per 30 s, delays past half of them; on a
    # clock 50 times fast the simulator reports a window of 0.6 real seconds
    knobs: dict[str, Any] = {"rate_limit": 200, "rate_cutoff_ratio": 0.5, "rate_window": 30}
    with Simulator(devices=150, sites=2, time_scale=50, **knobs) as sim:
        settings = settings_for(sim)
        assert settings.budget.window_seconds == 60.0  # the fallback; no test sets it
        with DattoSession(settings.datto, settings.budget) as session:
            client = DattoClient(session)
            client.get("/v2/account")
            look = session.budget.last_calibration
            assert look is not None and session.budget.window == 0.6 == look.window
            assert (look.account_limit, look.cutoff_ratio) == (200, 0.5)
            assert session.budget.limit <= 100 - 4  # the line, less a safety margin
            answers = [a for _, a in client.get_many(f"/v2/device/{u}" for u in sim.devices)]
        assert all(isinstance(a, dict) for a in answers)
        rl = limiter(sim)
        assert sim.count(status=429) == 0 and rl.delayed == 0 and rl.peak <= 100


def test_the_window_setting_is_the_fallback_when_the_api_does_not_say() -> None:
    with Simulator(devices=10, sites=2, time_scale=50) as sim:
        sim.middlewares.insert(
            0,
            lambda s, req: (
                Response(200, {"accountCount": 1, "accountRateLimit": 600})
                if req.endpoint == "GET /v2/system/request_rate"
                else None
            ),
        )
        settings = settings_for(sim, window_seconds=7.5)
        with DattoSession(settings.datto, settings.budget) as session:
            DattoClient(session).get("/v2/account")
            assert session.budget.last_calibration is not None
            assert session.budget.window == 7.5 and session.budget.reported_window is None
