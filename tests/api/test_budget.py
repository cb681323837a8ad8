"""The rate budget: window, lanes, calibration; against the simulator with a competitor."""

from __future__ import annotations

import pytest

from datto_sim import Simulator
from datto_sim.ratelimit import limiter
from etl.api.budget import RateBudget
from etl.api.client import DattoClient
from etl.progress import eta_seconds
from tests.conftest import settings_for


class StepClock:
    """Time that only moves when someone sleeps (an injected clock, not a mock)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


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
        assert budget.acquire("low") == 0
    start = clock.now()
    assert budget.acquire("normal") == 0 and budget.acquire("high") == 0
    budget.acquire("low")  # the eighth low one waits for the first to leave the window
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
        s = settings_for(sim)
        with DattoClient(s.datto, s.budget) as client:
            paths = [f"/v2/device/{uid}" for uid in sim.devices]
            answers = [body for _, body in client.get_many(paths)]
        rl = limiter(sim)
        assert all(isinstance(a, dict) for a in answers)
        assert sim.count(status=429) == 0 and sim.count(status=403) == 0
        assert rl.peak <= 540 and rl.delayed == 0
        assert rl.max_in_window() <= 300
        assert sim.count("GET /v2/system/request_rate") >= 2  # calibrated again during the run
