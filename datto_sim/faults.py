"""Transient faults as the live API shows them: 5xx answers, dropped connections, broken pages.

A middleware after the rate limiter (so faulty answers still count against the account).
Knobs (``SimSettings``): ``fault_5xx`` (share of answers that are 500/502/503/504),
``fault_drop`` (share of connections closed without an answer), ``fault_malformed`` (share
of answers whose JSON body is cut short), ``malformed_pages`` (the first N list pages come
cut short), ``resolved_alert_drop`` (share of resolved-alert list requests dropped: those
lists are heavy and time out live), ``resolved_alert_latency`` (their extra simulated
seconds). ``latency`` (simulated seconds per answer) is applied by the core. The dice are
seeded from the account's seed; :func:`injector` counts what was injected.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import TYPE_CHECKING

from datto_sim.server import Request, Response, Router, error

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 910  # generation order (after the rate limiter)

TRUNCATED_PAGE = b'{"pageDetails": {"count": 250, "prevPageUrl": null, "nextPageUrl": "http'
SINGLE_PAGE_PATHS = ("/v2/account", "/v2/system/")


def is_list(endpoint: str) -> bool:
    """True for a paged list route such as ``GET /v2/account/devices``."""
    method, _, template = endpoint.partition(" ")
    return (
        method == "GET"
        and template.startswith("/v2/")
        and not template.endswith(("}", "/stdout", "/stderr"))  # job output: a bare array
        and template != SINGLE_PAGE_PATHS[0]
        and not template.startswith(SINGLE_PAGE_PATHS[1])
    )


class FaultInjector:
    """Decides, per request, whether to answer with a fault instead of the handler."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.rng = random.Random(sim.settings.seed * 7919 + 17)
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self._pages_left = sim.settings.malformed_pages

    def __call__(self, sim: Simulator, req: Request) -> Response | None:
        s = sim.settings
        if s.resolved_alert_latency and req.endpoint.endswith("/alerts/resolved"):
            sim.clock.sleep(s.resolved_alert_latency)
        with self._lock:
            roll = self.rng.random()
            if req.endpoint.endswith("/alerts/resolved") and roll < s.resolved_alert_drop:
                return self._hit("dropped", Response(-1))  # heavy lists time out (seen)
            if is_list(req.endpoint) and self._pages_left > 0:
                self._pages_left -= 1
                return self._hit("malformed", _truncated())
            if roll < s.fault_5xx:
                status = self.rng.choice((500, 502, 503, 504))
                return self._hit(str(status), error(status, "Internal error", req.path))
            roll -= s.fault_5xx
            if roll < s.fault_drop:
                return self._hit("dropped", Response(-1))  # the core turns -1 into a hang-up
            roll -= s.fault_drop
            if roll < s.fault_malformed:
                return self._hit("malformed", _truncated())
        return None

    def _hit(self, kind: str, resp: Response) -> Response:
        self.injected[kind] += 1
        return resp


def _truncated() -> Response:
    return Response(200, raw=TRUNCATED_PAGE, headers={"Content-Type": "application/json"})


def injector(sim: Simulator) -> FaultInjector:
    """The fault injector of ``sim``."""
    return sim.faults  # type: ignore[attr-defined]


def generate(sim: Simulator) -> None:
    """Install the injector (after the rate limiter, so faults still cost budget)."""
    sim.faults = FaultInjector(sim)  # type: ignore[attr-defined]
    sim.middlewares.append(sim.faults)  # type: ignore[attr-defined]


def register(router: Router) -> None:
    """No routes of its own."""
