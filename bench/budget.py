"""``python -m bench budget``: a 5,000-device sync with per-device calls against the budget.

The simulated account answers after 150 ms (simulated) of latency; the sync lists sites and
devices, then fetches ``GET /v2/device/{uid}`` for every device with ``get_many``. Figures:
requests, 429s, 403s, the most requests in any 60 s window against the budget, and the
elapsed time over the floor (requests ÷ budget per second), which must stay ≤ 1.10. The
simulator runs on a scaled clock; every time below is simulated seconds.
"""

from __future__ import annotations

import tempfile
import time

from datto_sim import Simulator
from datto_sim.ratelimit import limiter
from etl.api.client import DattoClient
from etl.api.session import DattoSession
from etl.db.engine import make_engine
from etl.demo import demo_settings
from etl.sync import run_sync

DEVICES = 5000
SITES = 120
LATENCY = 0.15  # simulated seconds per answer
SCALE = 10.0  # 60 simulated seconds pass in 6 real ones
TARGET = 1.10


def main() -> None:
    """Run the scenario once and print its figures."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        Simulator(devices=DEVICES, sites=SITES, latency=LATENCY, time_scale=SCALE) as sim,
    ):
        settings = demo_settings(sim, f"sqlite:///{tmp}/bench.db", state_dir=tmp)
        engine = make_engine(settings.database.url)
        session = DattoSession(settings.datto, settings.budget)
        started = time.monotonic()
        try:
            report = run_sync(settings, ["sites", "devices"], engine=engine, session=session)
            uids = list(sim.devices)
            answered = sum(
                1
                for _, body in DattoClient(session).get_many(f"/v2/device/{uid}" for uid in uids)
                if isinstance(body, dict)
            )
        finally:
            elapsed = (time.monotonic() - started) * SCALE
            session.close()
            engine.dispose()
        share = settings.budget.requests_per_minute
        requests = len(sim.records)
        floor = requests / (share / 60.0)
        ratio = elapsed / floor
        rl = limiter(sim)
        print(f"devices            {DEVICES} (answered {answered}, sync ok: {report.ok})")
        print(
            f"latency            {LATENCY * 1000:.0f} ms, concurrency {settings.budget.concurrency}"
        )
        print(f"requests           {requests}")
        print(f"429s               {sim.count(status=429)}")
        print(f"403s               {sim.count(status=403)}")
        print(f"max in any 60 s    {rl.max_in_window(60.0)} (budget {share})")
        print(f"account peak       {rl.peak} (cut-off {int(rl.cutoff * rl.limit)})")
        print(f"elapsed            {elapsed:.0f} s simulated")
        print(f"floor              {floor:.0f} s (requests / {share / 60:.0f} per s)")
        print(f"elapsed / floor    {ratio:.3f} (target <= {TARGET})")


if __name__ == "__main__":
    main()
