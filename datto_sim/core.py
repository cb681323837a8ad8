"""The simulated Datto account: settings, state, dispatch, OAuth and paging.

Everything here follows ``shared/API_FACTS.md``: tokens from ``/auth/oauth/token`` with the
``public-client`` password grant, absolute ``nextPageUrl`` with pages from 0, epoch-ms times,
Spring-style error bodies. Per-resource data and routes live in sibling modules, each with
``generate(sim)`` and ``register(router)``.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs

from datto_sim.clock import SimClock
from datto_sim.server import (
    PUBLIC_CLIENT,
    HTTPFront,
    Middleware,
    Request,
    RequestRecord,
    Response,
    Router,
    error,
    new_token,
    page_url,
    render_times,
)

BAD_KINDS = ("surrogate", "huge_id", "list_for_string", "long_uid", "bad_time")


@dataclass(frozen=True)
class SimSettings:
    """Knobs of the simulated account; every API variant in API_FACTS.md is one of them."""

    seed: int = 1
    # Two simulators with the same id_seed share usernames and component uids (filter ids and
    # variable ids repeat in every simulated account anyway), the rest differs by seed: several
    # accounts in one database whose ids collide on purpose. None: drawn from the seed.
    id_seed: int | None = None
    sites: int = 60
    devices: int = 2200
    api_key: str = "sim-api-key"
    api_secret: str = "sim-api-secret"
    token_lifetime: float = 360_000.0  # simulated seconds (Datto: 100 h)
    bad_credentials_status: int = 400  # Datto answers 400 invalid_grant; some report 401
    page_max: int = 250
    over_max: str = "clamp"  # "clamp" or "refuse" a max above page_max
    drop_filters: bool = False  # nextPageUrl forgets the query filters
    time_format: str = "ms"  # "ms", "iso", "mixed" or "string" (numeric strings of epoch ms)
    next_origin: str | None = None  # put this origin in nextPageUrl (a hostile server)
    relative_next: bool = False  # nextPageUrl as a path ("/api/v2/…") instead of absolute
    last_next: str | None = None  # nextPageUrl of the last page: null (seen) or "" (treat alike)
    account_devices_missing: float = 0.0  # share of devices /v2/account/devices leaves out
    time_scale: float = 1.0
    latency: float = 0.0  # simulated seconds per answer
    # rate limit (datto_sim/ratelimit.py)
    rate_limit_enabled: bool = True
    rate_limit: int = 600  # requests per rolling window, whole account
    rate_cutoff_ratio: float = 0.9  # past this share every answer is delayed
    rate_window: float = 60.0
    rate_delay: float = 1.0  # simulated seconds of delay past the cut-off
    retry_after_header: bool = False  # Retry-After on 429 (unknown live: offer both)
    block_after_strikes: int = 5  # requests still sent into a 429 before the IP is blocked
    block_seconds: float = 300.0
    competitor_rpm: int = 0  # another integration's requests per minute on the account
    competitor_after: float = 0.0  # it starts then (simulated s); 0: it has always run
    force_429_at: tuple[int, ...] = ()  # these request numbers (from 1) answer 429
    force_block_at: int = 0  # this request answers 429 and the IP is blocked from then on
    # transient faults (datto_sim/faults.py)
    fault_5xx: float = 0.0  # share of answers that are 500/502/503/504
    fault_drop: float = 0.0  # share of connections dropped without an answer
    fault_malformed: float = 0.0  # share of answers whose JSON is cut short
    malformed_pages: int = 0  # the first N list pages are cut short
    resolved_alert_drop: float = 0.0  # share of resolved-alert list requests dropped (seen)
    resolved_alert_latency: float = 0.0  # extra simulated seconds per resolved-alert page
    # alerts (datto_sim/alerts.py)
    alerts_open: int = 120
    alerts_resolved: int = 1000
    alert_page_max: int = 100  # alert lists have their own page size (live: unknown)
    # activity logs (datto_sim/activity.py)
    activity_date_unit: str = "s"  # "s": epoch seconds with a fraction (seen); "ms": epoch ms
    # request_rate (datto_sim/ratelimit.py)
    write_quota: bool = True  # request_rate reports write counters (False: the older bucket)
    # jobs, Datto Networking, platform status (datto_sim/jobs.py, dnet.py, account.py)
    jobs: int | None = None  # jobs in the generated history; None: 3 + devices // 100
    jobs_follow_clock: bool = False  # False: jobs move on only by jobs.advance_jobs()
    job_status_case: str = "title"  # "title": Success (spec, API_FACTS); "lower": success
    platform_version: str = "2.0.0-sim.1"  # GET /v2/system/status → version
    # hostile conditions (datto_sim/hostile.py, bad_items.py): each selector is a tuple of
    # route patterns (fnmatch: "GET /v2/audit/*") or "lists" (every list page); () is off.
    # Read per request, so sim.reconfigure() switches them mid-test.
    trickle: tuple[str, ...] = ()  # bodies sent one byte per trickle_seconds
    trickle_seconds: float = 1.0  # simulated seconds per body byte
    oversize: tuple[str, ...] = ()  # list pages padded far past max
    oversize_mb: float = 20.0  # the padded page's size in MB (10**6 bytes)
    bad_items: tuple[str, ...] = ()  # lists with a few spoiled items (bad_items.py)
    bad_item_count: int = 5  # spoiled items per list
    bad_item_kinds: tuple[str, ...] = BAD_KINDS  # which spoils, in turn
    junk_next: tuple[str, ...] = ()  # nextPageUrl: the same page again, a new junk parameter
    deep_json: tuple[str, ...] = ()  # list pages nested deep_json_depth levels deep
    deep_json_depth: int = 100_000
    hang: tuple[str, ...] = ()  # requests stall hang_seconds, then hang_then
    hang_seconds: float = 3600.0  # simulated seconds
    hang_then: str = "drop"  # "drop" (no answer), "504" or "answer" (the normal answer, late)


# (simulator, request, the whole list, one page of it) → the page as served
Shaper = Callable[["Simulator", Request, list[dict[str, Any]], list[dict[str, Any]]], list[Any]]


def guid(rng: random.Random) -> str:
    """A seeded GUID."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def id_rng(sim: Simulator, what: str) -> random.Random | None:
    """The generator of shared ids of kind ``what`` (None unless ``id_seed`` is set).

    Callers still draw from ``sim.rng`` as before, so the rest of the seeded account stays put.
    """
    seed = sim.settings.id_seed
    return None if seed is None else random.Random(f"{seed}:{what}")


class Simulator:
    """A fake Datto account served over real HTTP on 127.0.0.1."""

    def __init__(self, settings: SimSettings | None = None, **overrides: Any) -> None:
        self.settings = replace(settings or SimSettings(), **overrides)
        self.clock = SimClock(self.settings.time_scale)
        self.rng = random.Random(self.settings.seed)
        self.lock = threading.RLock()
        self.router = Router()
        self.middlewares: list[Middleware] = []
        self.records: list[RequestRecord] = []
        self.tokens: dict[str, float] = {}  # token → simulated expiry
        self.account_uid = guid(self.rng).replace("-", "")[:12]
        self.account_id = 1000 + self.settings.seed
        self.sites: dict[str, dict[str, Any]] = {}
        self.devices: dict[str, dict[str, Any]] = {}
        self.hooks: list[Callable[[Simulator, Request], None]] = []
        # after a handler: may rework its answer (oversize, trickle, junk links, …)
        self.afters: list[Callable[[Simulator, Request, Response], Response]] = []
        # on a list page, given the whole list too: may rework its items (spoiled items)
        self.shapers: list[Shaper] = []
        self.stopping = threading.Event()  # set while stopping: stalled answers give up
        self._front: HTTPFront | None = None
        from datto_sim import modules

        for module in modules():
            module.register(self.router)
        for module in modules():
            module.generate(self)

    # -- serving ---------------------------------------------------------------------------

    def start(self, port: int = 0) -> Simulator:
        """Serve on 127.0.0.1 (a free port unless given); returns self."""
        self.stopping.clear()
        self._front = HTTPFront(self, port)
        self._front.start()
        return self

    def stop(self) -> None:
        """Stop serving (answers still stalling or trickling are cut short)."""
        self.stopping.set()
        if self._front:
            self._front.stop()
            self._front = None

    def pause(self, sim_seconds: float) -> bool:
        """Wait ``sim_seconds`` of simulated time; False if the simulator stopped meanwhile."""
        return not self.stopping.wait(self.clock.real_seconds(sim_seconds))

    def reconfigure(self, **changes: Any) -> None:
        """Change knobs while serving (those read per request: the hostile ones, the time
        formats, the activity date unit, the job status case)."""
        self.settings = replace(self.settings, **changes)

    def __enter__(self) -> Simulator:
        return self.start() if self._front is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The origin to point the client at (``DATTO_API_URL``)."""
        assert self._front, "simulator not started"
        return self._front.url

    @property
    def link_origin(self) -> str:
        """The origin written into ``nextPageUrl`` ("" makes the links relative)."""
        if self.settings.relative_next:
            return ""
        return self.settings.next_origin or self.url

    # -- request handling ------------------------------------------------------------------

    def dispatch(self, req: Request) -> Response | None:
        """Answer one request (None drops the connection)."""
        if self.settings.latency:
            self.clock.sleep(self.settings.latency)
        resp: Response | None
        if req.method == "POST" and req.path == "/auth/oauth/token":
            req.endpoint = "POST /auth/oauth/token"
            resp = self._middle(req) or self.token(req)
        elif req.path.startswith("/api/"):
            path = req.path[len("/api") :]
            found = self.router.match(req.method, path)
            req.endpoint = found[2] if found else f"{req.method} ?"
            resp = self._middle(req) or self._authorize(req)
            if resp is None and found:
                inner = replace(req, path=path, params=found[1])
                resp = self.render(found[0](self, inner))
                for after in self.afters:
                    resp = after(self, inner, resp)
            elif resp is None:
                resp = error(404, "No handler found", req.path)
        else:
            req.endpoint = f"{req.method} ?"
            resp = error(404, "Not Found", req.path)
        for hook in list(self.hooks):
            hook(self, req)
        with self.lock:
            self.records.append(
                RequestRecord(
                    req.method,
                    req.path,
                    req.query,
                    req.endpoint,
                    resp.status if resp else 0,
                    req.headers.get("Authorization"),
                    self.clock.now(),
                )
            )
        return None if resp is None or resp.status == -1 else resp

    def _middle(self, req: Request) -> Response | None:
        for mw in self.middlewares:
            resp = mw(self, req)
            if resp is not None:
                return resp
        return None

    def render(self, resp: Response) -> Response:
        """Apply the time format setting to a JSON body."""
        if self.settings.time_format == "ms" or resp.body is None:
            return resp
        return replace(resp, body=render_times(resp.body, self.settings.time_format))

    def token(self, req: Request) -> Response:
        """``POST /auth/oauth/token``: the password grant of the public client."""
        form = {k: v[-1] for k, v in parse_qs(req.body.decode(errors="replace")).items()}
        if (
            req.headers.get("Authorization") != PUBLIC_CLIENT
            or form.get("grant_type") != "password"
        ):
            return Response(
                401,
                {"error": "unauthorized", "error_description": "Full authentication is required"},
            )
        if (
            form.get("username") != self.settings.api_key
            or form.get("password") != self.settings.api_secret
        ):
            return Response(
                self.settings.bad_credentials_status,
                {"error": "invalid_grant", "error_description": "Bad credentials"},
            )
        token = new_token()
        with self.lock:
            self.tokens[token] = self.clock.now() + self.settings.token_lifetime
        return Response(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": int(self.settings.token_lifetime),
                "scope": "default",
                "jti": str(uuid.uuid4()),
            },
        )

    def _authorize(self, req: Request) -> Response | None:
        auth = req.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        expiry = self.tokens.get(token or "")
        if expiry is None or expiry < self.clock.now():
            return Response(
                401,
                {"error": "invalid_token", "error_description": "Access token expired or invalid"},
            )
        req.token = token
        return None

    def expire_tokens(self) -> None:
        """Make every issued token answer 401 from now on."""
        with self.lock:
            self.tokens = {t: 0.0 for t in self.tokens}

    # -- paging ----------------------------------------------------------------------------

    def page(
        self,
        req: Request,
        items: list[dict[str, Any]],
        key: str,
        *,
        total: bool = True,
        page_max: int | None = None,
    ) -> Response:
        """One page of ``items`` as Datto pages them (``page`` from 0, ``max`` ≤ 250)."""
        limit = page_max or self.settings.page_max
        try:
            size = int(req.query.get("max", limit))
            number = int(req.query.get("page", 0))
        except ValueError:
            return error(400, "max and page must be integers", req.path)
        if size > limit and self.settings.over_max == "refuse":
            return error(400, f"max must not exceed {limit}", req.path)
        size = max(1, min(size, limit))
        chunk = self.shape(req, items, items[number * size : (number + 1) * size])
        filters = (
            {}
            if self.settings.drop_filters
            else {k: v for k, v in req.query.items() if k not in ("max", "page")}
        )
        more = (number + 1) * size < len(items)
        details: dict[str, Any] = {
            "count": len(chunk),
            "prevPageUrl": page_url(
                self.link_origin, req.path, {**filters, "max": size, "page": number - 1}
            )
            if number
            else None,
            "nextPageUrl": page_url(
                self.link_origin, req.path, {**filters, "max": size, "page": number + 1}
            )
            if more
            else self.settings.last_next,
        }
        if total:
            details["totalCount"] = len(items)
        return Response(200, {"pageDetails": details, key: chunk})

    def shape(
        self, req: Request, universe: list[dict[str, Any]], page: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """``page`` (of the list ``universe``) as the shapers rework it (spoiled items)."""
        for shaper in self.shapers:
            page = shaper(self, req, universe, page)
        return page

    # -- helpers for tests and the demo ----------------------------------------------------

    def count(self, endpoint: str | None = None, status: int | None = None) -> int:
        """Requests received, optionally for one route pattern and/or status."""
        with self.lock:
            return sum(
                1
                for r in self.records
                if (endpoint is None or r.endpoint == endpoint)
                and (status is None or r.status == status)
            )

    def counts(self) -> Counter[str]:
        """Requests per route pattern."""
        with self.lock:
            return Counter(r.endpoint for r in self.records)

    def reset_records(self) -> None:
        """Forget the request log (counts start again from 0)."""
        with self.lock:
            self.records.clear()

    def now_ms(self) -> int:
        """Simulated now, epoch ms."""
        return self.clock.now_ms()
