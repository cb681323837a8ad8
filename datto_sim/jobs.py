"""Jobs of the simulated account (issue 13): found through activity logs, read one by one.

As API_FACTS.md (Jobs) says, no route lists jobs. Each job targets some agent devices and
writes, per device, an activity entry (entity ``DEVICE``, category ``job``) with action
``create`` when it is created and ``deployment`` when it has run there; their ``details``
carry ``job.uid``, ``job.id``, ``job.name``, ``job.status``, ``job.deployment_id``,
``job.scheduled_job_id``/``_uid`` and ``device.uid`` (the keys DattoRMM.Core reads). Routes:

- ``GET /v2/job/{jobUid}``: ``id``, ``dateCreated`` (epoch ms), ``name``, ``uid``, ``status``
  (``active`` until every device's result is final, then ``completed``);
- ``GET /v2/job/{jobUid}/components``: paged, items key ``jobComponents``;
- ``GET /v2/job/{jobUid}/results/{deviceUid}``: ``jobDeploymentStatus`` goes Pending →
  Running → Success, Warning or Failure (or Pending → Expired/Retired, never run);
  ``componentResults`` once final; a device the job did not target answers 404;
- ``.../stdout`` and ``.../stderr``: a bare array of ``{componentUid, componentName,
  stdData}`` for the components whose flag is set (empty before the result is final).

Time: jobs follow the simulator clock only with ``jobs_follow_clock``. By default they move
on only when a test says so: :func:`advance_jobs` (``seconds`` of simulated time pass for
jobs and clock alike), :func:`add_job` (a new job, now). Everything is drawn from a
generator of its own seeded by the account's seed, so the rest of the account is as before.
Statuses are title case (``Success``, spec and API_FACTS); ``job_status_case="lower"``
sends ``success`` as the sample payload shows. Outputs are in :mod:`datto_sim.job_output`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from datto_sim.activity import HISTORY_DAYS, activities, sort_key
from datto_sim.components import components
from datto_sim.job_output import component_results, log_entry, std_data
from datto_sim.server import Request, Response, Router, error

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 112  # generation order (after activity, components and users)

MINUTE_MS, HOUR_MS, DAY_MS = 60_000, 3_600_000, 86_400_000
RAN = ("Success", "Warning", "Failure")
FINAL = (*RAN, "Expired", "Retired")
EXPIRY_MS = DAY_MS  # a device that never came online: its result expires after a day


@dataclass
class Target:
    """One device of a job: when it runs, how it ends, what its components did."""

    device: dict[str, Any]  # id, uid, hostname, siteUid as they were when the job was made
    runs_at: int  # epoch ms: Pending before, Running from here
    ends_at: int  # epoch ms: final from here (runs_at == ends_at: it never ran)
    outcome: str  # one of FINAL
    results: list[dict[str, Any]]  # componentResults once final
    deployment_id: str
    logged: bool = False  # its deployment entry is in the activity log

    def status(self, now: int) -> str:
        """``jobDeploymentStatus`` at ``now`` (title case)."""
        if now >= self.ends_at:
            return self.outcome
        return "Running" if now >= self.runs_at and self.outcome in RAN else "Pending"


@dataclass
class Job:
    """A job as the simulator keeps it."""

    uid: str
    id: int
    name: str
    created: int  # epoch ms
    components: list[dict[str, Any]]  # jobComponents items
    creator: dict[str, Any] | None  # the user (None: from a scheduled job)
    scheduled: tuple[int, str] | None  # scheduled_job_id, scheduled_job_uid
    targets: dict[str, Target] = field(default_factory=dict)

    def status(self, now: int) -> str:
        """``active`` while a device's result can still change, then ``completed``."""
        done = all(t.status(now) in FINAL for t in self.targets.values())
        return "completed" if done else "active"


class JobBook:
    """Every job of the account, the jobs' present, and their own random generator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.rng = random.Random(f"{sim.settings.seed}:jobs")
        self.jobs: dict[str, Job] = {}
        self.present = sim.now_ms()  # the jobs' now unless they follow the clock

    def now(self) -> int:
        """The jobs' present (epoch ms)."""
        return self.sim.now_ms() if self.sim.settings.jobs_follow_clock else self.present

    def case(self, status: str) -> str:
        """A status in the account's case (``job_status_case``)."""
        return status.lower() if self.sim.settings.job_status_case == "lower" else status


def book(sim: Simulator) -> JobBook:
    """The simulator's jobs (created by :func:`generate`)."""
    found: JobBook = sim.__dict__["job_book"]
    return found


def _record(sim: Simulator, entries: list[dict[str, Any]]) -> None:
    log = activities(sim)
    log.extend(entries)
    log.sort(key=sort_key)


def _outcome(rng: random.Random, device: dict[str, Any]) -> str:
    if not device.get("online") and rng.random() < 0.35:
        return "Expired"
    return rng.choices((*RAN, "Retired"), weights=(70, 12, 15, 3))[0]


def create_job(
    sim: Simulator,
    at: int,
    devices: list[dict[str, Any]],
    *,
    outcome: str | dict[str, str] | None = None,
    n_components: int | None = None,
    delay: float | None = None,
    duration: float | None = None,
) -> Job:
    """A job made at ``at`` (epoch ms) on ``devices``, with its create entries logged.

    ``outcome`` (one for all or per device uid) and ``delay``/``duration`` (simulated
    seconds before a device runs it, and how long it runs) are drawn when not given.
    """
    from datto_sim.core import guid
    from datto_sim.users import users

    jb = book(sim)
    rng = jb.rng
    catalog = components(sim)
    picked = rng.sample(catalog, min(n_components or rng.randint(1, 3), len(catalog)))
    scheduled = rng.random() < 0.3
    people = users(sim)
    job = Job(
        uid=guid(rng),
        id=5_540_000 + len(jb.jobs),
        name=rng.choice(["", "Quick job - ", "Maintenance: "]) + picked[0]["name"],
        created=at,
        components=[
            {
                "uid": c["uid"],
                "name": c["name"],
                "variables": [
                    {"name": v["name"], "value": v["defaultVal"] or ""} for v in c["variables"]
                ],
            }
            for c in picked
        ],
        creator=None if scheduled or not people else rng.choice(people),
        scheduled=(rng.randint(10_000, 99_999), guid(rng)) if scheduled else None,
    )
    for device in devices:
        wanted = outcome.get(device["uid"]) if isinstance(outcome, dict) else outcome
        end = wanted or _outcome(rng, device)
        wait = int(delay * 1000) if delay is not None else rng.randint(5_000, 20 * MINUTE_MS)
        run = int(duration * 1000) if duration is not None else rng.randint(10_000, 10 * MINUTE_MS)
        if end not in RAN:  # never ran: Pending until it expires or is retired
            wait, run = (EXPIRY_MS if end == "Expired" else rng.randint(1, 12) * HOUR_MS), 0
        snapshot = {k: device[k] for k in ("id", "uid", "hostname", "siteUid", "siteName")}
        job.targets[device["uid"]] = Target(
            device=snapshot,
            runs_at=at + wait,
            ends_at=at + wait + run,
            outcome=end,
            results=component_results(rng, job.components, end),
            deployment_id=guid(rng),
        )
    jb.jobs[job.uid] = job
    _record(sim, [log_entry(sim, job, t, "create", guid(rng)) for t in job.targets.values()])
    return job


def settle(sim: Simulator, now: int) -> list[dict[str, Any]]:
    """Log the deployment entry of every device that finished running by ``now``."""
    from datto_sim.core import guid

    new = []
    with sim.lock:
        for job in book(sim).jobs.values():
            for target in job.targets.values():
                if not target.logged and target.outcome in RAN and target.ends_at <= now:
                    target.logged = True
                    new.append(log_entry(sim, job, target, "deployment", guid(book(sim).rng)))
        if new:
            _record(sim, new)
    return new


def _catch_up(sim: Simulator) -> None:
    """Jobs that do not follow the clock stood still while it ran: what had not started yet
    (or not finished) starts (or finishes) that much later, so no entry lands in the past."""
    jb = book(sim)
    now = sim.now_ms()
    gap = now - jb.present
    if sim.settings.jobs_follow_clock or gap <= 0:
        return
    for job in jb.jobs.values():
        for target in job.targets.values():
            if target.ends_at > jb.present:
                if target.runs_at > jb.present:
                    target.runs_at += gap
                target.ends_at += gap
    jb.present = now


def advance_jobs(sim: Simulator, seconds: float = 0.0) -> list[dict[str, Any]]:
    """Let ``seconds`` of simulated time pass for the jobs (the clock moves on with them):
    results go Running and final, deployment entries land in the activity log (returned)."""
    with sim.lock:
        _catch_up(sim)
        if seconds:
            sim.clock.advance(seconds)
        jb = book(sim)
        jb.present = max(jb.present, sim.now_ms())
        return settle(sim, jb.now())


def add_job(
    sim: Simulator,
    devices: int | list[str] | None = None,
    **options: Any,
) -> Job:
    """A new job made now on ``devices`` (uids; a count, or None for 1 to 5, of random agent
    devices); ``options`` as :func:`create_job` takes them."""
    with sim.lock:
        _catch_up(sim)
        jb = book(sim)
        if isinstance(devices, list):
            chosen = [sim.devices[uid] for uid in devices]
        else:
            agents = _agents(sim)
            chosen = jb.rng.sample(agents, min(devices or jb.rng.randint(1, 5), len(agents)))
        return create_job(sim, jb.now(), chosen, **options)


def _agents(sim: Simulator) -> list[dict[str, Any]]:
    return [d for d in sim.devices.values() if d["deviceClass"] == "device" and not d["deleted"]]


def job_body(sim: Simulator, job: Job) -> dict[str, Any]:
    """``GET /v2/job/{uid}`` at the jobs' present."""
    return {
        "id": job.id,
        "dateCreated": job.created,
        "name": job.name,
        "uid": job.uid,
        "status": job.status(book(sim).now()),
    }


def result_body(sim: Simulator, job: Job, device_uid: str) -> dict[str, Any]:
    """``GET /v2/job/{uid}/results/{deviceUid}`` at the jobs' present."""
    jb = book(sim)
    target = job.targets[device_uid]
    status = target.status(jb.now())
    final = status in RAN
    return {
        "jobUid": job.uid,
        "deviceUid": device_uid,
        "ranOn": target.runs_at if status == "Running" or final else None,
        "jobDeploymentStatus": jb.case(status),
        "componentResults": [
            {**r, "componentStatus": jb.case(r["componentStatus"])} for r in target.results
        ]
        if final
        else [],
    }


def std_body(sim: Simulator, job: Job, device_uid: str, stream: str) -> list[dict[str, Any]]:
    """``.../stdout`` or ``.../stderr``: the flagged components' output, once final."""
    target = job.targets[device_uid]
    if target.status(book(sim).now()) not in RAN:
        return []
    flag = "hasStdOut" if stream == "stdout" else "hasStdErr"
    return [
        {
            "componentUid": r["componentUid"],
            "componentName": r["componentName"],
            "stdData": std_data(sim.settings.seed, job.uid, target.device, r, stream),
        }
        for r in target.results
        if r[flag]
    ]


def generate(sim: Simulator) -> None:
    """A history of jobs over the activity log's days; the newest still running."""
    jb = JobBook(sim)
    sim.__dict__["job_book"] = jb
    s = sim.settings
    count = s.jobs if s.jobs is not None else 3 + s.devices // 100
    sim.middlewares.append(_tick)
    agents = _agents(sim)
    if not agents or not components(sim):
        return
    recent = max(1, count // 5)  # made in the last half hour: some devices still to run
    ages = sorted(
        (
            jb.rng.randint(MINUTE_MS, 30 * MINUTE_MS)
            if n < recent
            else jb.rng.randint(2 * DAY_MS, (HISTORY_DAYS - 1) * DAY_MS)
        )
        for n in range(count)
    )
    for age in reversed(ages):  # oldest first: ids grow with time
        targets = jb.rng.sample(agents, min(jb.rng.randint(1, 8), len(agents)))
        create_job(sim, jb.present - age, targets)
    settle(sim, jb.present)


def _tick(sim: Simulator, req: Request) -> None:
    """Middleware: with ``jobs_follow_clock``, log what finished before answering."""
    if sim.settings.jobs_follow_clock:
        settle(sim, sim.now_ms())


def register(router: Router) -> None:
    """Routes of this module."""

    def find(sim: Simulator, req: Request) -> Job | Response:
        job = book(sim).jobs.get(req.params["jobUid"])
        return job or error(404, "Job not found", req.path)

    def on_device(sim: Simulator, req: Request) -> Job | Response:
        job = find(sim, req)
        if isinstance(job, Job) and req.params["deviceUid"] not in job.targets:
            return error(404, "Job result not found for this device", req.path)
        return job

    @router.get("/v2/job/{jobUid}")
    def one_job(sim: Simulator, req: Request) -> Response:
        job = find(sim, req)
        return job if isinstance(job, Response) else Response(200, job_body(sim, job))

    @router.get("/v2/job/{jobUid}/components")
    def job_components(sim: Simulator, req: Request) -> Response:
        job = find(sim, req)
        return job if isinstance(job, Response) else sim.page(req, job.components, "jobComponents")

    @router.get("/v2/job/{jobUid}/results/{deviceUid}")
    def job_result(sim: Simulator, req: Request) -> Response:
        job = on_device(sim, req)
        if isinstance(job, Response):
            return job
        return Response(200, result_body(sim, job, req.params["deviceUid"]))

    def output(stream: str) -> None:
        @router.get(f"/v2/job/{{jobUid}}/results/{{deviceUid}}/{stream}")
        def job_output(sim: Simulator, req: Request) -> Response:
            job = on_device(sim, req)
            if isinstance(job, Response):
                return job
            return Response(200, std_body(sim, job, req.params["deviceUid"], stream))

    for stream in ("stdout", "stderr"):
        output(stream)
