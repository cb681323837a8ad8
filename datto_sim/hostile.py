"""Hostile conditions a client must survive (issue 9), each a knob, off by default.

Every knob below takes a *selector*: a tuple of route patterns matched with ``fnmatch``
against the route (``"GET /v2/account/devices"``, ``"GET /v2/audit/*"``) or the word
``"lists"`` for every paged list. Knobs are read per request, so a test may switch one on or
off mid-run with ``sim.reconfigure(...)``. How a test triggers each:

- ``trickle=("lists",)`` (+ ``trickle_seconds``, simulated seconds per byte): the body goes
  out one byte at a time, so a per-read timeout never fires; other requests are served
  meanwhile (one thread per connection) and ``sim.stop()`` cuts the body short.
- ``oversize=(...)`` (+ ``oversize_mb``): a list page of about that many MB, its items
  repeated far past ``max`` (streamed: the simulator does not hold the page in memory).
- ``junk_next=(...)``: ``nextPageUrl`` always points to a new URL (the same query plus an
  ever-changing ``junk`` parameter), which answers the same items again: paging never ends.
- ``deep_json=(...)`` (+ ``deep_json_depth``): the page's items are one array nested
  ``deep_json_depth`` (10**5) levels deep: valid JSON that recursive parsers choke on.
- ``hang=(...)`` (+ ``hang_seconds``, ``hang_then``): the request stalls ``hang_seconds``
  of simulated time, then the connection is dropped (``"drop"``), a 504 comes
  (``"504"``) or the normal answer, late (``"answer"``). For circuit-breaker tests,
  e.g. ``hang=("GET /v2/audit/*",)``.

Spoiled items in lists (``bad_items``) live in :mod:`datto_sim.bad_items`. Requests met by
these conditions still count against the rate limit (this middleware runs after it).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import replace
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from datto_sim.faults import is_list
from datto_sim.server import Request, Response, Router, error, page_url

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 920  # generation order (middlewares after the fault injector)

JSON = {"Content-Type": "application/json"}
PIECE = 1 << 16  # bytes per write of a streamed page


def selected(patterns: tuple[str, ...], endpoint: str) -> bool:
    """True when the route ``endpoint`` matches one of ``patterns`` (``"lists"``: any list)."""
    return any(is_list(endpoint) if p == "lists" else fnmatchcase(endpoint, p) for p in patterns)


def items_key(body: dict[str, Any]) -> str | None:
    """The key of a page's item list (``devices``, ``sites``, …)."""
    return next((k for k, v in body.items() if isinstance(v, list)), None)


def stall(sim: Simulator, req: Request) -> Response | None:
    """Middleware: a hung endpoint family stalls, then drops, answers 504 or goes on."""
    s = sim.settings
    if not s.hang or not selected(s.hang, req.endpoint):
        return None
    if not sim.pause(s.hang_seconds) or s.hang_then == "drop":
        return Response(-1)  # the core turns -1 into a hang-up
    if s.hang_then == "504":
        return error(504, "Gateway Timeout", req.path)
    return None


def rework(sim: Simulator, req: Request, resp: Response) -> Response:
    """After a handler: junk links, deep nesting, oversize and trickle, as selected."""
    s = sim.settings
    body = resp.body
    paged = (
        resp.status == 200
        and isinstance(body, dict)
        and isinstance(body.get("pageDetails"), dict)
        and items_key(body) is not None
    )
    if paged and selected(s.junk_next, req.endpoint):
        resp = junk_link(sim, req, resp)
    if paged and selected(s.deep_json, req.endpoint):
        resp = deep_page(resp.body, s.deep_json_depth)
    elif paged and selected(s.oversize, req.endpoint):
        resp = oversize_page(resp, s.oversize_mb)
    if s.trickle and selected(s.trickle, req.endpoint):
        resp = replace(resp, pace=sim.clock.real_seconds(s.trickle_seconds))
    return resp


def junk_link(sim: Simulator, req: Request, resp: Response) -> Response:
    """The same page again behind a URL never seen before: a loop no URL check catches."""
    counter: itertools.count[int] = sim.__dict__.setdefault("junk_counter", itertools.count(1))
    query = {**req.query, "junk": f"{next(counter):x}{sim.settings.seed}"}
    details = {
        **resp.body["pageDetails"],
        "nextPageUrl": page_url(sim.link_origin, req.path, query),
    }
    return replace(resp, body={**resp.body, "pageDetails": details})


def _head(body: dict[str, Any], key: str, count: int | None = None) -> bytes:
    """The page's JSON up to the opening of its item list (``{"pageDetails": …, "devices": ``)."""
    details = body["pageDetails"] if count is None else {**body["pageDetails"], "count": count}
    rest = {k: (details if k == "pageDetails" else v) for k, v in body.items() if k != key}
    return (json.dumps(rest)[:-1] + f', "{key}": ').encode()


def deep_page(body: dict[str, Any], depth: int) -> Response:
    """The page with its items replaced by arrays nested ``depth`` deep (written as bytes:
    ``json.dumps`` itself could not)."""
    key = items_key(body) or "items"
    raw = _head(body, key) + b"[" * depth + b"]" * depth + b"}"
    return Response(200, raw=raw, headers=dict(JSON))


def oversize_page(resp: Response, mb: float) -> Response:
    """The page's items repeated until the body is about ``mb`` MB: far more than ``max``.

    Streamed in pieces with a Content-Length worked out beforehand, so the simulator never
    holds the page (a client's memory is what such a page tests).
    """
    body = resp.body
    key = items_key(body) or "items"
    block = ", ".join(json.dumps(i) for i in body[key]).encode()
    if not block or len(block) >= mb * 1e6:
        return resp  # an empty page stays empty; a big one is big enough
    per_piece = max(1, PIECE // (len(block) + 2))
    copies = math.ceil(mb * 1e6 / (len(block) + 2))
    head, tail = _head(body, key, count=copies * len(body[key])) + b"[", b"]}"

    def pieces() -> Iterator[bytes]:
        yield head + block
        for done in range(1, copies, per_piece):
            yield b", " + b", ".join([block] * min(per_piece, copies - done))
        yield tail

    length = len(head) + copies * len(block) + (copies - 1) * 2 + len(tail)
    return Response(200, headers=dict(JSON), chunks=pieces(), length=length)


def generate(sim: Simulator) -> None:
    """Install the stall middleware (after the rate limiter) and the answer rework."""
    sim.middlewares.append(stall)
    sim.afters.append(rework)


def register(router: Router) -> None:
    """No routes of its own."""
