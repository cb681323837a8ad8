"""Jobs and job results: found through the activity log, each asked only while it may change.

The tables are compared with the simulator's jobs field by field; request counts are set
against the least any client could send (API_FACTS.md, Jobs): two per new job (the job, its
components), one per active job with news, one per new or changed (job, device) result,
one per flagged stdout/stderr once final, nothing when no job ran.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from sqlalchemy import Engine

from datto_sim import Simulator
from datto_sim import jobs as sim_jobs
from datto_sim.core import guid
from datto_sim.job_output import log_entry, std_data
from datto_sim.server import error
from etl.api.timestamps import to_utc
from etl.config import Settings
from etl.resources import REGISTRY
from etl.resources.job_log import job_targets
from etl.resources.job_results import cut, job_result_components, job_results
from etl.resources.jobs import job_component_variables, job_components, jobs, withheld
from etl.sync import SyncReport, run_sync
from tests.conftest import settings_for
from tests.resources.helpers import line, paths, rows, small_sim

NAMES = ["sites", "activity_logs", "jobs", "job_results"]  # sites: to know a site id's uid
JOB, COMPONENTS = "GET /v2/job/{jobUid}", "GET /v2/job/{jobUid}/components"
RESULT = "GET /v2/job/{jobUid}/results/{deviceUid}"
STD = {s: f"{RESULT}/{s}" for s in ("stdout", "stderr")}
RAN = ("Success", "Warning", "Failure")
STREAMS = (("stdout", "hasStdOut", "std_out"), ("stderr", "hasStdErr", "std_err"))


def settings(sim: Simulator, **sync: Any) -> Settings:
    base = settings_for(sim)
    return base.model_copy(update={"sync": base.sync.model_copy(update=sync)})


def run(sim: Simulator, engine: Engine, config: Settings | None = None, **kw: Any) -> SyncReport:
    sim.reset_records()
    return run_sync(config or settings(sim), NAMES, engine=engine, **kw)


def agents(sim: Simulator) -> list[str]:
    return [u for u, d in sim.devices.items() if d["deviceClass"] == "device" and not d["deleted"]]


def job_requests(sim: Simulator) -> Counter[str]:
    return Counter({e: n for e, n in sim.counts().items() if e.startswith("GET /v2/job/")})


def flagged(sim: Simulator, pairs: list[tuple[sim_jobs.Job, str]]) -> Counter[str]:
    """stdout/stderr requests the final results of ``pairs`` call for."""
    out: Counter[str] = Counter()
    for job, device in pairs:
        body = sim_jobs.result_body(sim, job, device)
        for stream, flag in (("stdout", "hasStdOut"), ("stderr", "hasStdErr")):
            out[STD[stream]] += any(c[flag] for c in body["componentResults"])
    return out


def assert_mirrors(sim: Simulator, engine: Engine, limit: int = 65_536) -> None:
    """jobs, components, variables, results and their components equal the simulator's."""
    book = sim_jobs.book(sim)
    stored = {r.job_uid: r for r in rows(engine, jobs)}
    assert set(stored) == set(book.jobs)
    for uid, job in book.jobs.items():
        body, row = sim_jobs.job_body(sim, job), stored[uid]
        assert (row.id, row.name, row.status) == (body["id"], body["name"], body["status"])
        assert row.created_at == to_utc(body["dateCreated"]) and row.not_found is False
    comps = {(r.job_uid, r.position): r for r in rows(engine, job_components)}
    assert set(comps) == {(u, n) for u, j in book.jobs.items() for n in range(len(j.components))}
    variables = {
        (r.job_uid, r.component_position, r.position): r
        for r in rows(engine, job_component_variables)
    }
    want_vars = 0
    for uid, job in book.jobs.items():
        for n, comp in enumerate(job.components):
            got_comp = comps[uid, n]
            assert (got_comp.component_uid, got_comp.component_name) == (comp["uid"], comp["name"])
            for m, var in enumerate(comp["variables"]):
                got = variables[uid, n, m]
                secret = withheld(var)
                assert (got.name, got.value_withheld) == (var["name"], secret)
                assert got.value == (None if secret else var["value"])
                want_vars += 1
    assert len(variables) == want_vars
    results = {(r.job_uid, r.device_uid): r for r in rows(engine, job_results)}
    assert set(results) == {(u, d) for u, j in book.jobs.items() for d in j.targets}
    parts = {(r.job_uid, r.device_uid, r.position): r for r in rows(engine, job_result_components)}
    want_parts = 0
    for uid, job in book.jobs.items():
        for device, target in job.targets.items():
            body, row = sim_jobs.result_body(sim, job, device), results[uid, device]
            assert row.job_deployment_status == body["jobDeploymentStatus"]
            assert row.ran_on == to_utc(body["ranOn"]) and row.site_uid == target.device["siteUid"]
            for n, comp in enumerate(body["componentResults"]):
                got = parts[uid, device, n]
                assert (got.component_uid, got.component_status, got.number_of_warnings) == (
                    comp["componentUid"], comp["componentStatus"], comp["numberOfWarnings"]
                )  # fmt: skip
                assert (got.has_std_out, got.has_std_err) == (comp["hasStdOut"], comp["hasStdErr"])
                for stream, flag, column in STREAMS:
                    text = std_data(sim.settings.seed, uid, target.device, comp, stream)
                    assert getattr(got, column) == (cut(text, limit) if comp[flag] else None)
                want_parts += 1
    assert len(parts) == want_parts


def test_jobs_and_results_mirror_the_account(engine: Engine) -> None:
    with small_sim(devices=120, sites=4) as sim:
        assert run(sim, engine, settings(sim, job_output_max_chars=500)).ok
        assert_mirrors(sim, engine, limit=500)
        texts = [r.std_out or "" for r in rows(engine, job_result_components)]
        assert [t for t in texts if t.endswith("characters]")]  # longer than 500: cut, marked
        pending = [r for r in rows(engine, job_results) if r.job_deployment_status == "Pending"]
        assert pending  # the newest jobs are still running somewhere
        # every job ran everywhere, expired or was retired; recheck every run: all of it
        sim_jobs.advance_jobs(sim, 3 * 86_400)
        sim_jobs.add_job(sim, 3)
        assert run(sim, engine, settings(sim, job_output_max_chars=500, job_recheck_hours=0)).ok
        assert_mirrors(sim, engine, limit=500)
        assert {r.status for r in rows(engine, jobs)} == {"completed", "active"}


def test_second_sync_asks_exactly_the_new_and_unfinished(engine: Engine) -> None:
    with small_sim(devices=60, sites=3, jobs=0) as sim:
        a, b, c = agents(sim)[:3], agents(sim)[3:5], agents(sim)[5:7]
        done = sim_jobs.add_job(sim, a, outcome=dict(zip(a, RAN, strict=True)), delay=5, duration=5)
        sim_jobs.advance_jobs(sim, 60)  # done ran everywhere
        later = sim_jobs.add_job(sim, b, outcome="Failure", delay=600, duration=60)
        first = run(sim, engine)
        assert first.ok
        pairs = [(done, d) for d in a] + [(later, d) for d in b]
        want = Counter({JOB: 2, COMPONENTS: 2, RESULT: 5}) + flagged(sim, pairs)
        assert job_requests(sim) == want
        assert_mirrors(sim, engine)

        sim_jobs.advance_jobs(sim, 3_600)  # later ran: its deployment entries are logged
        sim_jobs.add_job(sim, c, delay=3_600, duration=60)  # pending on both
        assert run(sim, engine).ok
        # later: asked again (active, with news), its two results and their output;
        # fresh: new (job, components, two results); done: nothing at all
        want = Counter({JOB: 2, COMPONENTS: 1, RESULT: 4}) + flagged(sim, [(later, d) for d in b])
        assert job_requests(sim) == want
        assert not [p for p in paths(sim, RESULT) if done.uid in p]
        assert_mirrors(sim, engine)

        assert run(sim, engine).ok  # nothing ran: not one job request
        assert job_requests(sim) == Counter()
        report = line(run(sim, engine), "job_results")
        assert report.requests == 0 and report.details["due"] == 0


def test_not_targeted_and_unknown_jobs_are_recorded_and_not_asked_again(engine: Engine) -> None:
    with small_sim(devices=40, sites=2, jobs=0) as sim:
        devices = agents(sim)
        job = sim_jobs.add_job(sim, devices[:1], outcome="Success", delay=1, duration=1)
        ghost = sim_jobs.add_job(sim, devices[1:2], outcome="Success", delay=1, duration=1)
        sim_jobs.advance_jobs(sim, 10)
        # the log names a device the job did not target, and a job Datto no longer knows
        stray = sim_jobs.Target(sim.devices[devices[2]], 0, 0, "Success", [], "dep")
        with sim.lock:
            entry = log_entry(sim, job, stray, "create", guid(sim.rng))
            sim_jobs._record(sim, [entry])
            del sim_jobs.book(sim).jobs[ghost.uid]
        assert run(sim, engine).ok
        states = {(r.job_uid, r.device_uid): r.state for r in rows(engine, job_targets)}
        assert states[job.uid, devices[2]] == "not_targeted"
        assert states[ghost.uid, devices[1]] == "not_targeted"
        gone = {r.job_uid: r for r in rows(engine, jobs)}[ghost.uid]
        assert gone.not_found is True and gone.status is None
        results = {(r.job_uid, r.device_uid) for r in rows(engine, job_results)}
        assert (job.uid, devices[2]) not in results
        assert run(sim, engine).ok
        assert job_requests(sim) == Counter()  # neither asked again


def test_a_failure_mid_way_loses_nothing_and_duplicates_nothing(engine: Engine) -> None:
    with small_sim(devices=120, sites=4) as sim:
        sim_jobs.advance_jobs(sim, 3 * 86_400)  # every result final
        failing = {p for job in sim_jobs.book(sim).jobs.values() for p in list(job.targets)[:1]}
        sim.middlewares.append(
            lambda s, req: (
                error(500, "boom", req.path)
                if "/results/" in req.path
                and req.path.split("/results/")[1].split("/")[0] in failing
                else None
            )
        )
        config = settings(sim)
        config = config.model_copy(
            update={"datto": config.datto.model_copy(update={"max_retries": 0})}
        )
        first = run(sim, engine, config)
        assert line(first, "job_results").status == "failed"  # some could not be read
        saved = {(r.job_uid, r.device_uid) for r in rows(engine, job_results)}
        book = sim_jobs.book(sim)
        missed = [(j, d) for j in book.jobs.values() for d in j.targets if (j.uid, d) not in saved]
        assert missed and saved
        sim.middlewares.pop()
        assert run(sim, engine).ok
        # only what was missed is asked: one result each, and their output
        want = Counter({RESULT: len(missed)}) + flagged(sim, missed)
        assert job_requests(sim) == want
        assert_mirrors(sim, engine)


def test_a_stop_mid_way_keeps_what_was_saved_and_resumes(engine: Engine) -> None:
    with small_sim(devices=120, sites=4) as sim:
        stop = threading.Event()

        def stop_after(s: Simulator, req: Any) -> None:
            if req.endpoint == RESULT and s.count(RESULT) >= 3:
                stop.set()

        sim.hooks.append(stop_after)
        first = run(sim, engine, stop=stop)
        sim.hooks.remove(stop_after)
        assert first.stopped and line(first, "job_results").status == "stopped"
        saved = len(rows(engine, job_results))
        assert run(sim, engine).ok
        # what the stopped run saved is not asked again; the rest is, once
        pairs = sum(len(j.targets) for j in sim_jobs.book(sim).jobs.values())
        assert sim.count(RESULT) == pairs - saved
        assert_mirrors(sim, engine)


def test_requests_needed_is_known_ahead(engine: Engine) -> None:
    with small_sim(devices=60, sites=3, jobs=0) as sim:
        devices = agents(sim)
        sim_jobs.add_job(sim, devices[:4], delay=600, duration=60)
        assert run_sync(settings(sim), ["activity_logs"], engine=engine).ok
        with engine.connect() as conn:
            ahead = {
                n: REGISTRY[n].requests_needed(conn, sim.account_uid)
                for n in ("jobs", "job_results")
            }
        assert ahead == {"jobs": 2, "job_results": 4}
        assert run(sim, engine).ok
        asked = job_requests(sim)
        assert asked[JOB] + asked[COMPONENTS] == 2 and asked[RESULT] == 4
        with engine.connect() as conn:
            assert REGISTRY["job_results"].requests_needed(conn, sim.account_uid) == 0


def test_statuses_in_lower_case_are_final_too(engine: Engine) -> None:
    with small_sim(devices=60, sites=3, job_status_case="lower") as sim:
        assert run(sim, engine).ok
        assert_mirrors(sim, engine)
        states = {(r.job_uid, r.device_uid): r.state for r in rows(engine, job_targets)}
        results = rows(engine, job_results)
        assert "success" in {r.job_deployment_status for r in results}
        for r in results:
            final = r.job_deployment_status != "pending" and r.job_deployment_status != "running"
            assert states[r.job_uid, r.device_uid] == ("final" if final else "due")


def test_a_stop_among_the_jobs_asks_each_job_and_its_components_once(engine: Engine) -> None:
    with small_sim(devices=200, sites=4, jobs=12) as sim:
        stop = threading.Event()

        def stop_after(s: Simulator, req: Any) -> None:
            if req.endpoint == JOB and s.count(JOB) >= 2:
                stop.set()

        sim.hooks.append(stop_after)
        first = run(sim, engine, stop=stop)
        sim.hooks.remove(stop_after)
        assert line(first, "jobs").status == "stopped"
        asked = job_requests(sim)
        stored = len(rows(engine, jobs))
        assert asked[COMPONENTS] == stored  # a stored job has its components
        assert run(sim, engine).ok
        assert_mirrors(sim, engine)
        assert job_requests(sim)[COMPONENTS] == 12 - stored  # none asked twice
