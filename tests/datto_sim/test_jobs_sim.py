"""Jobs, Datto Networking mappings and the platform status, as API_FACTS.md describes them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from datto_sim import Simulator
from datto_sim import account as sim_account
from datto_sim import activity as sim_activity
from datto_sim import dnet as sim_dnet
from datto_sim import jobs as sim_jobs
from datto_sim.ratelimit import limiter
from tests.datto_sim.helpers import session

EVER: dict[str, Any] = {"from": "2000-01-01T00:00:00Z", "size": 1000, "order": "asc"}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(devices=120, sites=4, time_scale=100) as s:
        yield s


@pytest.fixture
def http(sim: Simulator) -> Iterator[httpx.Client]:
    with session(sim) as client:
        yield client


def job_log(http: httpx.Client) -> list[dict[str, Any]]:
    """The job entries of the activity log, details parsed."""
    params = {**EVER, "categories": "job"}
    entries = http.get("/api/v2/activity-logs", params=params).json()["activities"]
    return [{**e, "details": json.loads(e["details"])} for e in entries]


def test_jobs_are_found_through_activity_logs_only(sim: Simulator, http: httpx.Client) -> None:
    book = sim_jobs.book(sim)
    assert len(book.jobs) == 3 + 120 // 100
    log = job_log(http)
    assert {e["action"] for e in log} == {"create", "deployment"}
    for entry in log:
        d = entry["details"]
        job = book.jobs[d["job.uid"]]
        assert entry["entity"] == "DEVICE" and d["device.uid"] in job.targets
        assert (d["job.name"], d["job.id"]) == (job.name, job.id)
        assert {"job.status", "job.deployment_id", "job.scheduled_job_uid"} <= set(d)
        assert entry["deviceId"] == job.targets[d["device.uid"]].device["id"]
    pairs = {(e["details"]["job.uid"], e["details"]["device.uid"]) for e in log}
    assert pairs == {(j.uid, d) for j in book.jobs.values() for d in j.targets}
    assert http.get("/api/v2/job").status_code == 404  # no route lists jobs


def test_job_components_and_results(sim: Simulator, http: httpx.Client) -> None:
    book = sim_jobs.book(sim)
    statuses = set()
    for job in book.jobs.values():
        body = http.get(f"/api/v2/job/{job.uid}").json()
        assert body == sim_jobs.job_body(sim, job)
        assert isinstance(body["dateCreated"], int) and body["status"] in ("active", "completed")
        parts = http.get(f"/api/v2/job/{job.uid}/components").json()
        assert parts["jobComponents"] == job.components and parts["pageDetails"]["count"]
        for device_uid in job.targets:
            result = http.get(f"/api/v2/job/{job.uid}/results/{device_uid}").json()
            assert result == sim_jobs.result_body(sim, job, device_uid)
            statuses.add(result["jobDeploymentStatus"])
            final = result["jobDeploymentStatus"] in ("Success", "Warning", "Failure")
            assert bool(result["componentResults"]) is final
            never_ran = result["jobDeploymentStatus"] in ("Pending", "Expired", "Retired")
            assert (result["ranOn"] is None) is never_ran
            for stream, flag in (("stdout", "hasStdOut"), ("stderr", "hasStdErr")):
                out = http.get(f"/api/v2/job/{job.uid}/results/{device_uid}/{stream}").json()
                flagged = [r["componentUid"] for r in result["componentResults"] if r[flag]]
                assert [o["componentUid"] for o in out] == flagged
                assert all(o["stdData"] and o["componentName"] for o in out)
    assert {"Success", "Pending"} <= statuses
    job = next(iter(book.jobs.values()))
    elsewhere = next(u for u in sim.devices if u not in job.targets)
    assert http.get(f"/api/v2/job/{job.uid}/results/{elsewhere}").status_code == 404
    assert http.get(f"/api/v2/job/{job.uid}/results/{elsewhere}/stdout").status_code == 404
    assert http.get("/api/v2/job/no-such-job").status_code == 404


def test_results_move_on_only_when_told(sim: Simulator, http: httpx.Client) -> None:
    agents = [u for u, d in sim.devices.items() if d["deviceClass"] == "device"][:2]
    outcome = {agents[0]: "Success", agents[1]: "Failure"}
    job = sim_jobs.add_job(sim, agents, outcome=outcome, delay=60, duration=60)
    result = f"/api/v2/job/{job.uid}/results/{{}}"

    def statuses() -> list[str]:
        return [http.get(result.format(u)).json()["jobDeploymentStatus"] for u in agents]

    creates = [e for e in job_log(http) if e["details"]["job.uid"] == job.uid]
    assert [e["action"] for e in creates] == ["create", "create"]
    assert all(e["user"] or e["details"]["job.scheduled_job_uid"] for e in creates)
    assert statuses() == ["Pending", "Pending"]
    sim.clock.advance(86_400)  # the clock alone does not move jobs (jobs_follow_clock off)
    assert statuses() == ["Pending", "Pending"]
    ours = job.uid
    assert [e for e in sim_jobs.advance_jobs(sim, 90) if ours in e["details"]] == []
    assert statuses() == ["Running", "Running"]
    assert http.get(f"/api/v2/job/{job.uid}").json()["status"] == "active"
    new = [e for e in sim_jobs.advance_jobs(sim, 60) if ours in e["details"]]
    assert statuses() == ["Success", "Failure"]
    assert http.get(f"/api/v2/job/{job.uid}").json()["status"] == "completed"
    assert [e["action"] for e in new] == ["deployment", "deployment"]
    assert {e["id"] for e in new} <= {e["id"] for e in job_log(http)}
    assert all(e["date"] * 1000 <= sim.now_ms() for e in new)  # logged when it happened
    failed = http.get(result.format(agents[1]) + "/stderr").json()
    assert failed and all(o["stdData"] for o in failed)  # a failed component wrote to stderr


def test_jobs_follow_the_clock_when_asked() -> None:
    with Simulator(devices=30, sites=2, time_scale=100, jobs_follow_clock=True) as sim:
        agent = next(u for u, d in sim.devices.items() if d["deviceClass"] == "device")
        job = sim_jobs.add_job(sim, [agent], outcome="Warning", delay=10, duration=10)
        sim.clock.advance(3600)
        with session(sim) as http:
            body = http.get(f"/api/v2/job/{job.uid}/results/{agent}").json()
            assert body["jobDeploymentStatus"] == "Warning"
            assert sum(r["numberOfWarnings"] for r in body["componentResults"]) > 0
            log = job_log(http)
        assert any(e["action"] == "deployment" and e["details"]["job.uid"] == job.uid for e in log)


def test_statuses_in_lower_case_and_the_same_jobs_from_the_same_seed() -> None:
    with Simulator(devices=60, sites=2, job_status_case="lower") as sim, session(sim) as http:
        job = next(iter(sim_jobs.book(sim).jobs.values()))
        device = next(iter(job.targets))
        result = http.get(f"/api/v2/job/{job.uid}/results/{device}").json()
        assert result["jobDeploymentStatus"].islower()
        assert all(r["componentStatus"].islower() for r in result["componentResults"])
    again = Simulator(devices=60, sites=2)
    assert list(sim_jobs.book(again).jobs) == list(sim_jobs.book(sim).jobs)


def test_job_requests_count_against_the_rate_limit(sim: Simulator, http: httpx.Client) -> None:
    job = next(iter(sim_jobs.book(sim).jobs.values()))
    before = limiter(sim).count()
    for _ in range(5):
        http.get(f"/api/v2/job/{job.uid}")
    assert limiter(sim).count() >= before + 5


def test_dnet_site_mappings(sim: Simulator, http: httpx.Client) -> None:
    body = http.get("/api/v2/account/dnet-site-mappings", params={"max": 250}).json()
    items = body["dnetSiteMappings"]
    assert items == sim_dnet.mappings(sim) and len(items) == len(sim.sites)
    assert body["pageDetails"]["totalCount"] == len(sim.sites)
    ids = [i["dattoNetworkingNetworkIds"] for i in items]
    assert any(ids) and not all(ids) and all(isinstance(n, int) for i in ids for n in i)
    sim_dnet.map_networks(sim, items[0]["uid"], [4711])
    again = http.get("/api/v2/account/dnet-site-mappings").json()["dnetSiteMappings"]
    assert again[0]["dattoNetworkingNetworkIds"] == [4711]


def test_system_status_and_a_new_release(sim: Simulator, http: httpx.Client) -> None:
    first = http.get("/api/v2/system/status").json()
    assert first == http.get("/api/v2/system/status").json()  # stable between calls
    assert first["version"] == sim.settings.platform_version and first["status"] == "OK"
    assert isinstance(first["started"], int) and first["started"] < sim.now_ms()
    sim_account.upgrade_platform(sim, "2.0.1-sim.2")
    second = http.get("/api/v2/system/status").json()
    assert second["version"] == "2.0.1-sim.2" and second["started"] > first["started"]
    sim.reconfigure(time_format="iso")
    assert http.get("/api/v2/system/status").json()["started"].endswith("Z")


def test_activity_older_than_datto_s_retention_is_gone(sim: Simulator) -> None:
    def answered() -> int:
        with session(sim) as http:  # a new token: the old one expires as the days pass
            body = http.get("/api/v2/activity-logs", params=EVER).json()
        return int(body["pageDetails"]["totalCount"])

    everything = len(sim_activity.activities(sim))
    assert answered() == everything  # 120 days of history: all within 180 days
    sim.clock.advance(90 * 86_400)
    kept = answered()
    assert 0 < kept < everything  # the oldest fell out of the 180-day window
    sim.clock.advance(100 * 86_400)
    assert answered() == 0
