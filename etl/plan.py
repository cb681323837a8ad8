"""``datto-etl plan``: the requests each resource would need now, and how long the budget makes it.

From the stored state (live sites, devices whose audit moved, cursors) and a few API calls:
``request_rate`` (the account's headroom, through the session's calibration), and the first
page of the big lists (sites, devices, open and resolved alerts, activity since the cursor),
whose ``totalCount`` gives their pages. A resource may know its own cost better:
:meth:`etl.resources.base.Resource.requests_needed` wins when it answers.

Two figures per resource: ``now`` (an incremental sync from what is stored) and ``full`` (as
if nothing were stored: first-sync cost). The ETA is the budget's floor for the total: what the
window has free goes at once, the rest at the pace the account's headroom allows.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Annotated, Any

import typer
from sqlalchemy import Connection, Engine

from etl.api.client import DattoClient
from etl.api.session import DattoSession
from etl.config import Settings
from etl.db.schema import utcnow
from etl.db.state import load_cursor
from etl.errors import APIError
from etl.resources import REGISTRY
from etl.resources.base import Resource, RunContext
from etl.resources.shapes import ListResource, PerDeviceResource, PerSiteResource, SnapshotResource

OVERHEAD = 3  # the token, the first request_rate look and GET /v2/account of every sync


@dataclass
class List:
    """What the first page of a list said: items in all, items per page, its items."""

    total: int | None
    size: int
    items: list[dict[str, Any]] = field(default_factory=list)

    def pages(self) -> int:
        """Pages a full read takes (at least one)."""
        return max(1, math.ceil((self.total or 0) / max(1, self.size)))


@dataclass
class ResourcePlan:
    """One resource: requests for a sync now (incremental) and for a full one."""

    resource: str
    now: int | None
    full: int | None
    basis: str


@dataclass
class Plan:
    """Every resource asked, the budget, the totals and their ETAs (budget seconds)."""

    account_uid: str
    resources: list[ResourcePlan] = field(default_factory=list)
    budget_per_minute: int = 0
    account_used: int | None = None
    account_limit: int | None = None
    total_now: int = 0
    total_full: int = 0
    eta_now_seconds: float = 0.0
    eta_full_seconds: float = 0.0
    plan_requests: int = 0


class Lists:
    """First pages of the lists the planner needs, each read once."""

    def __init__(self, client: DattoClient) -> None:
        self.client = client
        self.seen: dict[str, List] = {}

    def get(self, path: str, key: str, params: dict[str, Any] | None = None) -> List:
        """``totalCount`` and page size of ``path``'s first page (asked at the full size)."""
        if path not in self.seen:
            try:
                page = next(iter(self.client.paginate(path, key, params)))
                size = len(page.items) if page.next_url else self.client.page_size
                total = page.total_count if page.total_count is not None else len(page.items)
                self.seen[path] = List(total, max(1, size), page.items)
            except (APIError, StopIteration):
                self.seen[path] = List(None, self.client.page_size)
        return self.seen[path]

    def every(self, path: str, key: str) -> list[dict[str, Any]]:
        """Every item of the list at ``path`` (read once; first page shared with :meth:`get`)."""
        whole = f"{path}#all"
        if whole not in self.seen:
            try:
                items = [i for page in self.client.paginate(path, key) for i in page.items]
            except APIError:
                items = []
            self.seen[whole] = List(len(items), self.client.page_size, items)
        return self.seen[whole].items


def estimate(
    resource: Resource, ctx: RunContext, conn: Connection | None, lists: Lists
) -> tuple[int | None, str]:
    """Requests ``resource`` needs with the stored state ``conn`` (None: nothing stored)."""
    if conn is not None:
        own = resource.requests_needed(conn, ctx.account_uid)
        if own is not None and isinstance(resource, PerDeviceResource):
            return own + moved_since(resource, ctx, conn, lists), "its own estimate"
        if own is not None:
            return own, "its own estimate"
    name = resource.name
    if isinstance(resource, ListResource):
        return lists.get(resource.path, resource.items_key).pages(), "pages of totalCount"
    if isinstance(resource, SnapshotResource):
        return len(resource.paths), "a page per list"
    if isinstance(resource, PerSiteResource):
        if conn is not None:
            return len(resource.owners(ctx, conn)), "one per live site stored"
        return lists.get("/v2/account/sites", "sites").total, "one per site (totalCount)"
    if isinstance(resource, PerDeviceResource):
        if conn is not None:
            stored = len(resource.owners(ctx, conn))
            return stored + moved_since(resource, ctx, conn, lists), (
                "one per device whose audit moved (stored, and in the first devices page)"
            )
        first = lists.get("/v2/account/devices", "devices")
        classes = getattr(resource, "device_classes", None)
        if first.total is None or not first.items or classes is None:
            return first.total, "one per device (totalCount)"
        share = sum(d.get("deviceClass") in classes for d in first.items) / len(first.items)
        return round(first.total * share), "one per device of its classes (first page's share)"
    if name == "alerts":
        return alerts_estimate(ctx, conn, lists)
    if name == "activity_logs":
        return activity_estimate(ctx, conn, lists)
    if name == "account":
        return 1, "one request"
    return None, "unknown"


def moved_since(resource: Resource, ctx: RunContext, conn: Connection, lists: Lists) -> int:
    """Devices whose audit moved in Datto since the devices were last synced, of the classes
    ``resource`` asks (the devices run of the same sync stores their new audit dates, which
    makes them due). Read from the whole devices list: a sample misjudges changes that
    cluster, and the list costs one request per 250 devices.
    """
    from sqlalchemy import select

    from etl.resources.devices import SPEC, devices

    classes = getattr(resource, "device_classes", None)
    listed = [
        d
        for d in lists.every("/v2/account/devices", "devices")
        if d.get("uid") and (classes is None or d.get("deviceClass") in classes)
    ]
    query = select(devices.c.uid, devices.c.last_audit_date).where(
        devices.c.account_uid == ctx.account_uid
    )
    stored = {uid: when for uid, when in conn.execute(query)}
    return sum(
        1
        for d in listed
        if str(d["uid"]) in stored and SPEC.row(d).get("last_audit_date") != stored[str(d["uid"])]
    )


def alerts_estimate(
    ctx: RunContext, conn: Connection | None, lists: Lists
) -> tuple[int | None, str]:
    """The open list (read twice on a first run, see etl/resources/alerts.py), and the
    resolved list whole (first run) or its top page."""
    opened = lists.get("/v2/account/alerts/open", "alerts")
    cursor = load_cursor(conn, ctx.account_uid, "alerts") if conn is not None else None
    if cursor:
        return opened.pages() + 1, "the open list, the resolved list's top page"
    resolved = lists.get("/v2/account/alerts/resolved", "alerts")
    return 2 * opened.pages() + resolved.pages(), "the open list twice, the resolved list"


def activity_estimate(
    ctx: RunContext, conn: Connection | None, lists: Lists
) -> tuple[int | None, str]:
    """Pages of activity since the cursor (or the history days)."""
    from etl.resources.activity_logs import Cursor, api_time

    saved = load_cursor(conn, ctx.account_uid, "activity_logs") if conn is not None else None
    start = Cursor.load(
        saved, utcnow() - timedelta(days=ctx.settings.sync.activity_logs_history_days)
    )
    params = {"from": api_time(start.second), "order": "asc", "size": ctx.client.page_size}
    key = "/v2/activity-logs" + ("" if saved else "#full")
    if key not in lists.seen:
        lists.seen[key] = Lists(ctx.client).get("/v2/activity-logs", "activities", params)
    return lists.seen[key].pages(), "pages since the cursor" if saved else "pages of the history"


def make_plan(
    settings: Settings, engine: Engine | None, session: DattoSession, names: list[str] | None
) -> Plan:
    """The plan for ``names`` (all when empty), with ``session``'s budget after calibration."""
    from etl.sync import fetch_account_uid, resolve_order

    client = DattoClient(session)
    account_uid = fetch_account_uid(client)  # calibrates on the way: the headroom is known
    ctx = RunContext(client=client, engine=engine, account_uid=account_uid, settings=settings)  # type: ignore[arg-type]
    lists = Lists(client)
    plan = Plan(account_uid=account_uid)
    conn = engine.connect() if engine is not None else None
    try:
        for name in resolve_order(names or None):
            resource = REGISTRY[name]
            now, basis = estimate(resource, ctx, conn, lists) if conn is not None else (None, "")
            full, full_basis = estimate(resource, ctx, None, lists)
            plan.resources.append(
                ResourcePlan(name, now if conn else full, full, basis or full_basis)
            )
    finally:
        if conn is not None:
            conn.close()
    budget = session.budget
    plan.budget_per_minute = budget.limit  # per window: 60 API seconds
    if budget.last_calibration is not None:
        plan.account_used = budget.last_calibration.account_count
        plan.account_limit = budget.last_calibration.account_limit
    every = settings.budget.calibrate_every_seconds  # a request_rate look this often

    def total(requests: int) -> tuple[int, float]:
        eta = budget.eta(requests) * 60 / budget.window  # API seconds
        return requests + math.floor(eta / every), eta

    plan.total_now, plan.eta_now_seconds = total(OVERHEAD + sum(r.now or 0 for r in plan.resources))
    plan.total_full, plan.eta_full_seconds = total(
        OVERHEAD + sum(r.full or 0 for r in plan.resources)
    )
    plan.plan_requests = client.counter.count
    return plan


def render(plan: Plan) -> str:
    """The plan as text: a line per resource, then the totals and the ETAs."""
    from etl.progress import clock_text

    width = max(len(r.resource) for r in plan.resources) if plan.resources else 8
    lines = [f"{'resource':<{width}}  {'now':>7}  {'full':>7}  basis"]
    for r in plan.resources:
        now = "?" if r.now is None else str(r.now)
        full = "?" if r.full is None else str(r.full)
        lines.append(f"{r.resource:<{width}}  {now:>7}  {full:>7}  {r.basis}")
    used = (
        f"; the account used {plan.account_used}/{plan.account_limit} in the last minute"
        if plan.account_used is not None
        else ""
    )
    lines += [
        f"budget: {plan.budget_per_minute} requests/min for this tool{used}",
        f"sync now: {plan.total_now} requests, eta {clock_text(plan.eta_now_seconds)} "
        f"(API time); full sync: {plan.total_full} requests, eta "
        f"{clock_text(plan.eta_full_seconds)}",
        f"(this plan used {plan.plan_requests} requests)",
    ]
    return "\n".join(lines)


def plan(
    resources: Annotated[
        list[str] | None, typer.Argument(help="Resources to plan (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """Requests each resource needs now and for a full sync, the budget, and the ETAs."""
    from etl.cli import failures, out, settings_for_command
    from etl.db.engine import make_engine, sqlite_file

    with failures():
        settings = settings_for_command()
        settings.require_credentials()
        path = sqlite_file(settings.database.url)
        stored = path is None or path.exists()  # a missing SQLite file: nothing stored yet
        engine = make_engine(settings.database.url, readonly=True) if stored else None
        try:
            with DattoSession(settings.datto, settings.budget) as session:
                made = make_plan(settings, engine, session, resources)
        finally:
            if engine is not None:
                engine.dispose()
        if as_json:
            sys.stdout.write(json.dumps(asdict(made), indent=2) + "\n")
        else:
            out.print(render(made), markup=False, highlight=False, soft_wrap=True)
