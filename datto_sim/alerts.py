"""Alerts of the simulated account: open and resolved lists, newest first by raise time.

As on live Datto (API_FACTS.md): every alert list comes **newest first by raise time**
(``timestamp``), resolved ones included, with no ``since`` filter; the open list carries no
``totalCount``; an alert's page size is its own knob (``SimSettings.alert_page_max``, live
value unknown); ``muted`` filters when given, both kinds come back without it. Pages are cut
from the list as it is at each request, so alerts raised between two page requests push
items down (repeats) and alerts resolved between them pull the open list up (skips).

Helpers for tests and the demo: :func:`add_alert`, :func:`resolve_alert`,
:func:`shift_pages` (a ``sim.hooks`` entry that raises and resolves alerts between page
requests). Change alerts through them: they keep the sorted lists in step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from datto_sim.server import Request, Response, Router, error

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 120  # generation order (after devices, which raise them)

MINUTE_MS = 60_000
DAY_MS = 86_400_000
HISTORY_DAYS = 120  # resolved alerts were raised over this many days
OPEN_DAYS = 45  # open alerts over these
PRIORITIES = ["Critical", "High", "Moderate", "Low", "Information"]
RESOLVERS = ["auto", "ana.smith@msp.example", "ben.okafor@msp.example", None]
OPEN_PATH = "/v2/account/alerts/open"
RESOLVED_PATH = "/v2/account/alerts/resolved"


def _context(rng: Any) -> tuple[dict[str, Any], str]:
    """An alert context of a random class (fields vary per class, as live) and a diagnosis."""
    kind = rng.randrange(10)
    if kind == 0:
        return {"@class": "comp_script_ctx", "samples": {"exit": rng.randint(1, 9)}}, "Script"
    if kind == 1:
        code = rng.choice([7031, 41, 6008, 1001])
        ctx = {"@class": "eventlog_ctx", "logName": "System", "code": code, "type": "Error"}
        return {**ctx, "source": "Service Control Manager"}, f"Event {code}"
    if kind == 2:
        return {"@class": "patch_ctx", "patchUid": None, "result": "InstallError"}, "Patch failed"
    if kind == 3:
        ctx = {"@class": "antivirus_ctx", "status": "NotRunning", "productName": "Datto AV"}
        return ctx, "Antivirus not running"
    if kind == 4:
        return {"@class": "online_offline_status_ctx", "status": "OFFLINE"}, "Device offline"
    if kind == 5:
        pct = round(rng.uniform(90, 100), 1)
        return {"@class": "perf_resource_usage_ctx", "type": "CPU", "percentage": pct}, "CPU"
    if kind == 6:
        free = round(rng.uniform(0.5, 9.5), 2)
        ctx = {"@class": "perf_disk_usage_ctx", "diskName": "C:", "freeSpace": free}
        return {**ctx, "totalVolume": 475.9, "unitOfMeasure": "GB"}, f"C: {free} GB free"
    if kind == 7:
        return {"@class": "fs_object_ctx", "path": "C:\\Backups", "condition": "MISSING"}, "FS"
    if kind == 8:
        return {"@class": "process_status_ctx", "processName": "sqlservr.exe"}, "Process down"
    return {"@class": "srvc_status_ctx", "serviceName": "Spooler", "status": "STOPPED"}, "Svc"


class AlertBook(dict[str, dict[str, Any]]):
    """The account's alerts by ``alertUid``, with the sorted lists cached until a change."""

    def __init__(self) -> None:
        super().__init__()
        self._lists: dict[tuple[bool, str | None], list[dict[str, Any]]] = {}

    def touch(self) -> None:
        """Forget the sorted lists (call after changing an alert in place)."""
        self._lists.clear()

    def __setitem__(self, key: str, value: dict[str, Any]) -> None:
        super().__setitem__(key, value)
        self.touch()

    def listed(self, resolved: bool, muted: str | None = None) -> list[dict[str, Any]]:
        """Open or resolved alerts, newest first by raise time, optionally by ``muted``."""
        key = (resolved, muted)
        if key not in self._lists:
            items = [a for a in self.values() if a["resolved"] is resolved]
            if muted is not None:
                items = [a for a in items if a["muted"] is (muted == "true")]
            items.sort(key=lambda a: (a["timestamp"], a["alertUid"]), reverse=True)
            self._lists[key] = items
        return self._lists[key]


def book(sim: Simulator) -> AlertBook:
    """The simulator's alerts (ground truth for tests)."""
    return sim.__dict__["alerts"]


def make_alert(
    sim: Simulator, raised_ms: int, device: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One open alert in the API's shape, raised at ``raised_ms`` on ``device``."""
    from datto_sim.core import guid

    rng = sim.rng
    if device is None and sim.devices:
        device = rng.choice(list(sim.devices.values()))
    context, diagnostics = _context(rng)
    emails, ticket = rng.random() < 0.4, rng.random() < 0.2
    actions = []
    if emails:
        action = {"actionTime": raised_ms + 2000, "actionType": "EMAIL_SENT"}
        actions.append({**action, "description": "Email sent", "actionReference": None})
    return {
        "alertUid": guid(rng),
        "priority": rng.choice(PRIORITIES),
        "diagnostics": diagnostics,
        "resolved": False,
        "resolvedBy": None,
        "resolvedOn": None,
        "muted": rng.random() < 0.05,
        "ticketNumber": f"T{raised_ms // 1000}.{rng.randint(1, 999):04d}" if ticket else None,
        "timestamp": raised_ms,
        "alertMonitorInfo": {"sendsEmails": emails, "createsTicket": ticket},
        "alertContext": context,
        "alertSourceInfo": {
            "deviceUid": device["uid"] if device else None,
            "deviceName": device["hostname"] if device else None,
            "siteUid": device["siteUid"] if device else None,
            "siteName": device["siteName"] if device else None,
        },
        "responseActions": actions,
        "autoresolveMins": rng.choice([None, 15, 60, 1440]),
    }


def _close(alert: dict[str, Any], at_ms: int, by: str | None) -> None:
    alert.update(resolved=True, resolvedOn=max(at_ms, alert["timestamp"]), resolvedBy=by)


def generate(sim: Simulator) -> None:
    """``alerts_resolved`` alerts over the last 120 days, ``alerts_open`` over the last 45."""
    rng, now, alerts = sim.rng, sim.now_ms(), AlertBook()
    devices = list(sim.devices.values())
    for _ in range(sim.settings.alerts_resolved):
        raised = now - rng.randint(MINUTE_MS, HISTORY_DAYS * DAY_MS)
        alert = make_alert(sim, raised, rng.choice(devices) if devices else None)
        took = int(rng.expovariate(1 / (6 * 3_600_000)))  # most resolve within hours
        _close(alert, min(now, raised + MINUTE_MS + took), rng.choice(RESOLVERS))
        dict.__setitem__(alerts, alert["alertUid"], alert)
    for _ in range(sim.settings.alerts_open):
        raised = now - rng.randint(MINUTE_MS, OPEN_DAYS * DAY_MS)
        alert = make_alert(sim, raised, rng.choice(devices) if devices else None)
        dict.__setitem__(alerts, alert["alertUid"], alert)
    sim.__dict__["alerts"] = alerts


def add_alert(
    sim: Simulator,
    *,
    raised_ms: int | None = None,
    resolved_ms: int | None = None,
    device_uid: str | None = None,
) -> dict[str, Any]:
    """Raise an alert now (or at ``raised_ms``); resolve it at ``resolved_ms`` if given."""
    with sim.lock:
        device = sim.devices.get(device_uid) if device_uid else None
        alert = make_alert(sim, sim.now_ms() if raised_ms is None else raised_ms, device)
        if resolved_ms is not None:
            _close(alert, resolved_ms, "auto")
        book(sim)[alert["alertUid"]] = alert
        return alert


def resolve_alert(
    sim: Simulator, uid: str, *, at_ms: int | None = None, by: str | None = "tech@msp.example"
) -> dict[str, Any]:
    """Resolve an open alert now (or at ``at_ms``): it leaves the open list for the resolved."""
    with sim.lock:
        alert = book(sim)[uid]
        _close(alert, sim.now_ms() if at_ms is None else at_ms, by)
        book(sim).touch()
        return alert


def purge_alert(sim: Simulator, uid: str) -> None:
    """Remove an alert entirely (its device was deleted): ``GET /v2/alert/{uid}`` gives 404."""
    with sim.lock:
        book(sim).pop(uid)
        book(sim).touch()


def shift_pages(
    sim: Simulator,
    endpoint: str = f"GET {OPEN_PATH}",
    *,
    add: int = 1,
    resolve: int = 1,
    oldest: bool = False,
    times: int | None = None,
) -> Callable[[Simulator, Request], None]:
    """Make pages shift between two page requests of one walk; returns the hook.

    After every answered request to ``endpoint`` (a route pattern), ``resolve`` open alerts
    are resolved (the newest, so the open list moves up under the reader; or the oldest,
    long-open ones, with ``oldest``) and ``add`` new alerts are raised (the lists move down).
    ``times`` limits how often it fires. Remove it with ``sim.hooks.remove(hook)``.
    """
    fired = [0]

    def hook(s: Simulator, req: Request) -> None:
        if req.endpoint != endpoint or (times is not None and fired[0] >= times):
            return
        fired[0] += 1
        with s.lock:
            listed = book(s).listed(resolved=False)
            victims = (listed[::-1] if oldest else listed)[:resolve]
            for alert in victims:
                resolve_alert(s, alert["alertUid"])
            for _ in range(add):
                add_alert(s)

    sim.hooks.append(hook)
    return hook


def register(router: Router) -> None:
    """Routes of this module."""

    def listing(
        sim: Simulator, req: Request, resolved: bool, where: Callable | None = None
    ) -> Response:
        muted = req.query.get("muted")
        muted = muted.lower() if muted and muted.lower() in ("true", "false") else None
        with sim.lock:
            items = book(sim).listed(resolved, muted)
            if where is not None:
                items = [a for a in items if where(a["alertSourceInfo"])]
        # the open list has no totalCount on live accounts (seen); the resolved one has
        return sim.page(req, items, "alerts", total=resolved, page_max=sim.settings.alert_page_max)

    for state in ("open", "resolved"):
        resolved = state == "resolved"

        def account(sim: Simulator, req: Request, resolved: bool = resolved) -> Response:
            return listing(sim, req, resolved)

        def site(sim: Simulator, req: Request, resolved: bool = resolved) -> Response:
            uid = req.params["siteUid"]
            if uid not in sim.sites:
                return error(404, "Site not found", req.path)
            return listing(sim, req, resolved, lambda src: src.get("siteUid") == uid)

        def device(sim: Simulator, req: Request, resolved: bool = resolved) -> Response:
            uid = req.params["deviceUid"]
            if uid not in sim.devices:
                return error(404, "Device not found", req.path)
            return listing(sim, req, resolved, lambda src: src.get("deviceUid") == uid)

        router.add("GET", f"/v2/account/alerts/{state}", account)
        router.add("GET", f"/v2/site/{{siteUid}}/alerts/{state}", site)
        router.add("GET", f"/v2/device/{{deviceUid}}/alerts/{state}", device)

    @router.get("/v2/alert/{alertUid}")
    def one_alert(sim: Simulator, req: Request) -> Response:
        alert = book(sim).get(req.params["alertUid"])
        return Response(200, alert) if alert else error(404, "Alert not found", req.path)


def pages_needed(count: int, page_size: int) -> int:
    """Requests a list of ``count`` items takes at ``page_size`` (an empty list: one)."""
    return max(1, math.ceil(count / page_size))
