"""``python -m bench inventory``: a 2,000-device account, every resource, on SQLite.

Three syncs: the first (everything), a second after 20 devices ran their audit again, a
third with no change at all. Per-device requests (audits and software pages) are counted
against the least any client could send: one audit per live audited device and one
software request per 250 titles for the first sync, the same for the 20 devices only for
the second, none for the third. The first sync's time is set against the rate-limit floor:
its requests at the configured budget (``budget.requests_per_minute``, default 300).
Times are simulated seconds (the simulator's clock runs ``SCALE`` times faster).

Before each sync, ``datto-etl plan``'s estimate (:func:`etl.plan.make_plan`) is printed next
to the requests the sync then made.
"""

from __future__ import annotations

import math
import tempfile
import time

from sqlalchemy import Engine

from datto_sim import Simulator
from datto_sim import audits as sim_audits
from etl.api.session import DattoSession
from etl.config import Settings
from etl.db.engine import make_engine
from etl.demo import demo_settings
from etl.plan import make_plan
from etl.sync import SyncReport, run_sync

DEVICES, SITES, REAUDITED, PAGE = 2_000, 50, 20, 250
SCALE = 10.0  # 60 simulated seconds pass in 6 real ones: local work weighs little


def per_device(sim: Simulator) -> int:
    """Audit and software requests the simulator answered."""
    return sum(n for endpoint, n in sim.counts().items() if endpoint.startswith("GET /v2/audit/"))


def least(sim: Simulator, uids: list[str]) -> int:
    """One audit per device, one software request per started page of 250 titles."""
    agents = [u for u in uids if sim.devices[u]["deviceClass"] == "device"]
    return len(uids) + sum(math.ceil(len(sim_audits.software(sim, u)) / PAGE) for u in agents)


def planned(settings: Settings, engine: Engine | None) -> int:
    """The plan's estimate of the next sync's requests (``engine`` None: nothing stored)."""
    with DattoSession(settings.datto, settings.budget) as session:
        return make_plan(settings, engine, session, None).total_now


def versus(estimate: int, report: SyncReport) -> str:
    """``plan 612 / real 598 = 1.023``."""
    return f"  plan {estimate} / real {report.requests} = {estimate / report.requests:.3f}"


def main() -> None:
    """Print the figures."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        Simulator(devices=DEVICES, sites=SITES, time_scale=SCALE) as sim,
    ):
        settings = demo_settings(sim, f"sqlite:///{tmp}/bench.db", state_dir=tmp)
        engine = make_engine(settings.database.url)
        audited = [
            u
            for u, d in sim.devices.items()
            if d["deviceClass"] in sim_audits.AUDITS and not d["deleted"]
        ]
        estimate = planned(settings, None)
        started = time.monotonic()
        first = run_sync(settings, engine=engine)
        seconds = (time.monotonic() - started) * SCALE
        floor = first.requests / settings.budget.requests_per_minute * 60
        print(f"first sync: ok={first.ok} requests={first.requests}")
        print(versus(estimate, first))
        made, minimum = per_device(sim), least(sim, audited)
        print(f"  per-device requests {made} / least {minimum} = {made / minimum:.3f}")
        print(f"  time {seconds:.0f} s / rate-limit floor {floor:.0f} s = {seconds / floor:.2f}")

        chosen = audited[:REAUDITED]
        for uid in chosen:
            sim_audits.reaudit(sim, uid)
        estimate = planned(settings, engine)
        sim.reset_records()
        second = run_sync(settings, engine=engine)
        made, minimum = per_device(sim), least(sim, chosen)
        print(f"after {REAUDITED} re-audits: ok={second.ok} requests={second.requests}")
        print(versus(estimate, second))
        print(f"  per-device requests {made} / least {minimum} = {made / minimum:.3f}")

        estimate = planned(settings, engine)
        sim.reset_records()
        third = run_sync(settings, engine=engine)
        rows = sum(r.rows_written for r in third.resources)
        print(f"no change: ok={third.ok} requests={third.requests} per-device={per_device(sim)}")
        print(versus(estimate, third))
        print(f"  rows written {rows}; activity-log requests {sim.count('GET /v2/activity-logs')}")
        engine.dispose()
