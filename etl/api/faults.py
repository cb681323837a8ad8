"""Saying what went wrong on the wire: network errors in words, transient faults tallied.

:func:`network_message` turns an httpx exception into one line that names the host and port,
what was tried (directly or through a proxy) and the likely fix: a wrong platform or URL, a
proxy to set, a firewall, a TLS-inspecting box. Bare class names (``ConnectError``) tell an
operator nothing.

:class:`FaultTally` keeps an API that is gone mid-run from flooding the log: the first
transient fault of an endpoint family (``/v2/audit/device/*``) is one warning, the rest are
counted, and :meth:`FaultTally.drain` gives one summary line per family at the end of a
resource run.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
import urllib.request
from collections import Counter

import httpx

from etl.errors import APIError

log = logging.getLogger("etl.api.session")
PLATFORM_HINT = (
    "check DATTO_PLATFORM (pinotage, merlot, concord, vidal, zinfandel, syrah) or DATTO_API_URL"
)
_ID = re.compile(r"^(\d+|[0-9a-fA-F-]{8,}|.*\d.*\d.*\d.*)$")


def host_port(url: httpx.URL) -> str:
    """``host:port`` of ``url``, the scheme's default port spelt out."""
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"{url.host}:{port}"


def route(url: httpx.URL) -> str:
    """``https://host:443`` directly, or ``through the proxy …`` when the environment sets one
    (httpx follows HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY)."""
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(url.host):
        return f"through the proxy {httpx.URL(proxy).copy_with(username=None, password=None)}"
    return "directly (no proxy set)"


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(found) < 10:
        found.append(seen)
        seen = seen.__cause__ or seen.__context__
    return found


def network_message(url: httpx.URL, exc: httpx.TransportError, timeout: float) -> str:
    """One line for a request that got no usable answer: where, how, and the likely fix."""
    where = host_port(url)
    how = f"GET {url.path} {route(url)}"
    text = " ".join(str(e) for e in _chain(exc)).lower()
    if any(isinstance(e, ssl.SSLError) for e in _chain(exc)) or "certificate" in text:
        return (
            f"TLS with {where} failed ({how}): the certificate is not trusted; a proxy or "
            "firewall inspecting TLS? give its CA certificate with SSL_CERT_FILE"
        )
    if isinstance(exc, httpx.ConnectTimeout):
        return (
            f"no answer from {where} within {timeout:g} s while connecting ({how}): a firewall "
            "may drop outbound HTTPS, or a proxy is needed (set HTTPS_PROXY)"
        )
    if isinstance(exc, httpx.TimeoutException):
        return (
            f"{where} sent no answer within {timeout:g} s ({how}): Datto is slow or a proxy "
            "holds the request; try later or raise datto.timeout_seconds"
        )
    if isinstance(exc, httpx.ConnectError):
        if any(
            s in text
            for s in (
                "name or service not known",
                "nodename nor servname",
                "name resolution",
                "getaddrinfo",
                "no address associated",
            )
        ):
            return (
                f"cannot resolve {url.host} ({how}): wrong platform or URL? {PLATFORM_HINT}; "
                "behind a proxy, set HTTPS_PROXY"
            )
        if "refused" in text:
            return (
                f"{where} refused the connection ({how}): nothing listens there; {PLATFORM_HINT}, "
                "or a firewall rejects it"
            )
        return (
            f"cannot connect to {where} ({how}): {exc or type(exc).__name__}; {PLATFORM_HINT}, "
            "and check the proxy (HTTPS_PROXY) and firewall"
        )
    if isinstance(exc, httpx.ProxyError):
        return f"the proxy refused {how}: check HTTPS_PROXY and its credentials"
    return (
        f"{where} closed the connection without a complete answer ({how}): Datto dropped it, "
        "or a proxy or firewall in between cut it"
    )


def family(path: str) -> str:
    """The endpoint family of a path: ids replaced by ``*`` (``/v2/audit/device/*``)."""
    parts = path.removeprefix("/api").split("/")
    return "/".join("*" if part and _ID.match(part) else part for part in parts)


def kind(exc: APIError) -> str:
    """A short name of a fault for summaries: ``503``, ``no answer``, ``cut-short JSON``."""
    if exc.status is not None and exc.status != 200:
        return str(exc.status)
    name = type(exc).__name__
    return {"TransportError": "no answer", "MalformedResponseError": "cut-short JSON"}.get(
        name, name
    )


class FaultTally:
    """Transient faults per endpoint family: the first warned at once, the rest counted."""

    def __init__(self) -> None:
        self._kinds: dict[str, Counter[str]] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def add(self, path: str, exc: APIError, retry_in: float | None) -> None:
        """Count one fault of ``path``; the first of its family is one warning."""
        fam = family(path)
        with self._lock:
            self._kinds.setdefault(fam, Counter())[kind(exc)] += 1
            first = fam not in self._warned
            self._warned.add(fam)
        if first:
            then = f"retrying in {retry_in:.1f} s" if retry_in is not None else "giving up"
            log.warning(
                "Datto failed on %s: %s; %s (further faults on %s are counted, not logged)",
                fam,
                exc,
                then,
                fam,
            )
        else:
            log.debug("fault on %s: %s", path, exc)

    def drain(self) -> list[str]:
        """One line per family with faults since the last drain (the warning's count too)."""
        with self._lock:
            kinds, self._kinds = self._kinds, {}
        lines = []
        for fam, counts in sorted(kinds.items()):
            total = sum(counts.values())
            detail = ", ".join(f"{k}: {n}" for k, n in counts.most_common())
            lines.append(f"Datto failed {total} request(s) on {fam} ({detail})")
        return lines


__all__ = ["FaultTally", "family", "host_port", "network_message"]
