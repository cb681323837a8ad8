"""The simulator's HTTP side: a threaded server on loopback, routing, OAuth, paging.

Routes come from the per-resource modules of this package (one room each); each registers
handlers with :meth:`Router.get`. Middlewares (rate limit, faults, latency) see every request
before its handler and may answer in its place.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

if TYPE_CHECKING:
    from datto_sim.core import Simulator

log = logging.getLogger(__name__)
PUBLIC_CLIENT = "Basic " + base64.b64encode(b"public-client:public").decode()
TIME_KEYS = frozenset(
    {
        "lastSeen",
        "lastReboot",
        "lastAuditDate",
        "creationDate",
        "timestamp",
        "resolvedOn",
        "created",
        "lastAccess",
        "dateCreated",  # jobs
        "ranOn",  # job results
        "started",  # system status (the spec says date-time: time_format="iso" offers it)
    }
)


@dataclass
class Request:
    """One request as handlers see it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    endpoint: str = ""  # the route pattern, e.g. "GET /v2/device/{uid}"
    token: str | None = None


@dataclass
class Response:
    """What a handler answers: JSON (``body``), raw bytes (``raw``) or a stream of ``length``
    bytes in ``chunks`` (a body too big to hold). ``pace`` > 0 sends the body one byte per
    ``pace`` real seconds (a trickling server)."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None
    length: int = 0
    pace: float = 0.0

    def payload(self) -> tuple[Iterable[bytes], int]:
        """The body's pieces and its total length in bytes."""
        if self.chunks is not None:
            return self.chunks, self.length
        data = self.raw if self.raw is not None else json.dumps(self.body).encode()
        return (data,), len(data)


@dataclass
class RequestRecord:
    """A request as the simulator logs it for tests."""

    method: str
    path: str
    query: dict[str, str]
    endpoint: str
    status: int
    authorization: str | None
    time: float


Handler = Callable[["Simulator", Request], Response]
Middleware = Callable[["Simulator", Request], Response | None]


class Router:
    """Method + path template → handler; templates use ``{name}`` segments."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], str, Handler]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` on ``template`` (under ``/api``)."""
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self.routes.append((method, re.compile(f"^{pattern}$"), template, handler))

    def get(self, template: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`add` for GET."""

        def deco(handler: Handler) -> Handler:
            self.add("GET", template, handler)
            return handler

        return deco

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str], str] | None:
        for m, pattern, template, handler in self.routes:
            found = pattern.match(path)
            if found and m == method:
                return handler, found.groupdict(), f"{method} {template}"
        return None


def error(status: int, message: str, path: str) -> Response:
    """A Spring-style error body, as Datto answers."""
    return Response(
        status,
        {
            "timestamp": datetime.now(UTC).isoformat(),
            "status": status,
            "error": {
                400: "Bad Request",
                401: "Unauthorized",
                403: "Forbidden",
                404: "Not Found",
                429: "Too Many Requests",
                502: "Bad Gateway",
                503: "Service Unavailable",
                504: "Gateway Timeout",
            }.get(status, "Internal Server Error"),
            "message": message,
            "path": path,
        },
    )


class _HTTPHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        log.debug("sim: " + format, *args)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        req = Request(self.command, parts.path, query, dict(self.headers.items()), body)
        resp = self.server.sim.dispatch(req)
        if resp is None:  # a dropped connection: close without an answer
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            return
        pieces, length = resp.payload()
        self.send_response(resp.status)
        ctype = "text/html" if resp.raw is not None else "application/json"
        self.send_header("Content-Type", resp.headers.pop("Content-Type", ctype))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        declared = int(resp.headers.get("X-Declared-Length", length))
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        with contextlib.suppress(OSError):
            for piece in pieces:
                if not self._send(piece, resp.pace):
                    self.close_connection = True  # the simulator stops: cut the body short
                    return

    def _send(self, piece: bytes, pace: float) -> bool:
        """Write ``piece`` (byte by byte, ``pace`` seconds apart, when trickling); False if the
        simulator stopped meanwhile."""
        if not pace:
            self.wfile.write(piece)
            return True
        stopping = self.server.sim.stopping
        for i in range(len(piece)):
            self.wfile.write(piece[i : i + 1])
            if stopping.wait(pace):  # each byte resets a client's read timeout: only a total
                return False  # deadline ends this; the simulator's stop ends it here
        return True

    do_GET = _handle
    do_POST = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, sim: Simulator, port: int = 0) -> None:
        self.sim = sim
        super().__init__(("127.0.0.1", port), _HTTPHandler)


class HTTPFront:
    """Serves a :class:`Simulator` on 127.0.0.1 in a background thread."""

    def __init__(self, sim: Simulator, port: int = 0) -> None:
        self.server = _Server(sim, port)
        self.thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, name="datto-simulator"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def new_token() -> str:
    """A JWT-looking opaque token."""
    return ".".join(secrets.token_urlsafe(n) for n in (18, 60, 32))


def page_url(origin: str, path: str, query: dict[str, Any]) -> str:
    """An absolute URL as Datto builds them (``https://…/api/v2/…?max=250&page=1``)."""
    return f"{origin}/api{path}?{urlencode(query)}"


def render_times(obj: Any, fmt: str, n: list[int] | None = None) -> Any:
    """Render epoch-ms times as ISO strings (``iso``, every other one with ``mixed``) or as
    numeric strings (``string``)."""
    n = [0] if n is None else n
    if isinstance(obj, list):
        return [render_times(v, fmt, n) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for k, v in obj.items():
        if k in TIME_KEYS and isinstance(v, int) and v > 0:
            n[0] += 1
            if fmt == "string":
                v = str(v)
            elif fmt == "iso" or n[0] % 2:
                v = datetime.fromtimestamp(v / 1000, UTC).isoformat(timespec="milliseconds")
                v = v.replace("+00:00", "Z")
        out[k] = render_times(v, fmt, n)
    return out
