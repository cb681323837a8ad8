"""``python -m bench inventory``: a 2,000-device account, every resource, on SQLite.

Four syncs: the first (everything), a second after 20 devices ran their audit again, a
third with no change at all, a fourth after jobs ran. Per-device requests (audits and
software pages) are counted against the least any client could send: one audit per live
audited device and one software request per 250 titles for the first sync, the same for the
20 devices only for the second, none for the third. Job requests likewise: two per job the
log names (the job, its components) and one per (job, device) result, plus one per flagged
stdout/stderr of a final result, for the first sync; none when no job ran; after jobs ran,
two per new job, one per active job and one per result the new log entries name, and the
flagged output of those now final. The first sync's time is set against the rate-limit floor:
its requests at the configured budget (``budget.requests_per_minute``, default 300).
Times are simulated seconds (the simulator's clock runs ``SCALE`` times faster).

Before each sync, ``datto-etl plan``'s estimate (:func:`etl.plan.make_plan`) is printed next
to the requests the sync then made.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from typing import Any

from sqlalchemy import Engine

from datto_sim import Simulator
from datto_sim import activity as sim_activity
from datto_sim import audits as sim_audits
from datto_sim import jobs as sim_jobs
from etl.api.session import DattoSession
from etl.config import Settings
from etl.db.engine import make_engine
from etl.demo import demo_settings
from etl.plan import make_plan
from etl.sync import SyncReport, run_sync

DEVICES, SITES, REAUDITED, PAGE, NEW_JOBS = 2_000, 50, 20, 250, 5
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


def job_requests(sim: Simulator) -> int:
    """Job requests the simulator answered (jobs, components, results, output)."""
    return sum(n for endpoint, n in sim.counts().items() if endpoint.startswith("GET /v2/job/"))


def least_jobs(sim: Simulator, entries: list[dict[str, Any]], known: set[str]) -> int:
    """The least job requests for the (job, device) pairs ``entries`` name, ``known`` being
    the jobs already stored: two per new job, one per known job still active when named,
    one per pair, one per flagged stdout/stderr of a pair now final."""
    book = sim_jobs.book(sim)
    pairs = set()
    for entry in entries:
        details = json.loads(entry["details"])
        pairs.add((details["job.uid"], details["device.uid"]))
    jobs = {job for job, _ in pairs}
    total = sum(1 if job in known else 2 for job in jobs) + len(pairs)
    for job, device in pairs:
        body = sim_jobs.result_body(sim, book.jobs[job], device)
        for flag in ("hasStdOut", "hasStdErr"):
            total += any(c[flag] for c in body["componentResults"])
    return total


def job_entries(sim: Simulator) -> list[dict[str, Any]]:
    """Every job entry of the activity log."""
    return [e for e in sim_activity.activities(sim) if e["category"] == "job"]


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
        made, minimum = job_requests(sim), least_jobs(sim, job_entries(sim), set())
        print(f"  job requests {made} / least {minimum} = {made / minimum:.3f}")

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
        print(f"  job requests {job_requests(sim)} (no job ran: least 0)")

        estimate = planned(settings, engine)
        sim.reset_records()
        third = run_sync(settings, engine=engine)
        rows = sum(r.rows_written for r in third.resources)
        print(f"no change: ok={third.ok} requests={third.requests} per-device={per_device(sim)}")
        print(versus(estimate, third))
        print(f"  rows written {rows}; activity-log requests {sim.count('GET /v2/activity-logs')}")
        print(f"  job requests {job_requests(sim)} (no job ran: least 0)")

        known = set(sim_jobs.book(sim).jobs)
        ran = sim_jobs.advance_jobs(sim, 3_600)  # an hour: the running jobs finish
        made_now = {sim_jobs.add_job(sim).uid for _ in range(NEW_JOBS)}
        created = [e for e in job_entries(sim) if json.loads(e["details"])["job.uid"] in made_now]
        news = ran + created
        sim.reset_records()
        fourth = run_sync(settings, engine=engine)
        made, minimum = job_requests(sim), least_jobs(sim, news, known)
        print(f"after jobs ran ({len(ran)} results) and {NEW_JOBS} new: ok={fourth.ok}")
        print(f"  job requests {made} / least {minimum} = {made / minimum:.3f}")
        engine.dispose()
