"""What a job leaves on one device: component results, output text, activity entries.

Results are drawn when the job is made (from the jobs' own generator); output text is
derived on demand from ``(seed, job, device, component, stream)``, so it is the same on
every request and costs no memory. About one output in ten is large (some hundred kB), so a
client's size cap on stored output has something to cut. A helper of :mod:`datto_sim.jobs`
(not a resource module: no data or routes of its own).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from datto_sim.activity import envelope
from datto_sim.users import user_id

if TYPE_CHECKING:
    from datto_sim.core import Simulator
    from datto_sim.jobs import Job, Target

BIG_LINES = 6_000  # lines of a large output (about 300 kB)


def component_results(
    rng: random.Random, components: list[dict[str, Any]], outcome: str
) -> list[dict[str, Any]]:
    """``componentResults`` of a device whose result ends as ``outcome`` (title case).

    Warning: every component succeeded, one with warnings (the spec's component statuses are
    only Success and Failure). Failure: one component failed, and wrote to stderr.
    """
    if outcome not in ("Success", "Warning", "Failure"):
        return []  # never ran
    odd = rng.randrange(len(components))
    out = []
    for n, comp in enumerate(components):
        failed = outcome == "Failure" and n == odd
        out.append(
            {
                "componentUid": comp["uid"],
                "componentName": comp["name"],
                "componentStatus": "Failure" if failed else "Success",
                "numberOfWarnings": rng.randint(1, 3) if outcome == "Warning" and n == odd else 0,
                "hasStdOut": rng.random() < 0.75,
                "hasStdErr": failed or rng.random() < 0.1,
            }
        )
    return out


def std_data(
    seed: int, job_uid: str, device: dict[str, Any], result: dict[str, Any], stream: str
) -> str:
    """The ``stdData`` text of one component on one device (``stream``: stdout or stderr)."""
    rng = random.Random(f"{seed}:{job_uid}:{device['uid']}:{result['componentUid']}:{stream}")
    name, host = result["componentName"], device["hostname"]
    if stream == "stderr":
        code = rng.getrandbits(32)
        return f"{name}: error 0x{code:08X} on {host}\r\nExit code {code % 9 + 1}\r\n"
    lines = BIG_LINES if rng.random() < 0.1 else rng.randint(1, 30)
    rows = "".join(f"C:\\Data\\folder{n:05d},{rng.randint(0, 99_999)}\r\n" for n in range(lines))
    return f"{name} on {host}\r\npath,sizeKB\r\n{rows}"


def _details(
    sim: Simulator, job: Job, target: Target, action: str, uid: str, status: str
) -> dict[str, Any]:
    device = target.device
    out: dict[str, Any] = {
        "device.hostname": device["hostname"],
        "device.uid": device["uid"],
        "entity": "DEVICE",
        "event.action": action,
        "event.category": "job",
        "uid": uid,
        "job.id": job.id,
        "job.name": job.name,
        "job.status": status,
        "job.uid": job.uid,
        "site.name": device["siteName"],
        "job.deployment_id": target.deployment_id,
        "job.scheduled_job_id": job.scheduled[0] if job.scheduled else None,
        "job.scheduled_job_uid": job.scheduled[1] if job.scheduled else None,
    }
    if action == "deployment":
        out["note"] = ""
    else:
        out["job.date_created"] = job.created  # inner dates: epoch ms
    if action == "create" and job.creator:
        user = job.creator
        out["user.email"] = user["email"]
        out["user.firstName"] = user["firstName"]
        out["user.id"] = user_id(sim, user)
        out["user.lastName"] = user["lastName"]
        out["user.username"] = user["username"]
    return out


def log_entry(sim: Simulator, job: Job, target: Target, action: str, uid: str) -> dict[str, Any]:
    """The activity entry ``uid`` of ``action`` (create, deployment) for one device of ``job``:
    entity DEVICE, category job, with the dotted ``details`` keys DattoRMM.Core reads."""
    if action == "create":
        at, status, user, std = job.created, "active", job.creator, (False, False)
    else:  # the sample payload shows the result in lower case here
        at, status, user = target.ends_at, target.outcome.lower(), None
        results = target.results
        std = (any(r["hasStdOut"] for r in results), any(r["hasStdErr"] for r in results))
    details = _details(sim, job, target, action, uid, status)
    site = sim.sites.get(target.device["siteUid"])
    kind = ("DEVICE", "job", action)
    return envelope(sim, at, kind, target.device, site, user, details, uid=uid, std=std)
