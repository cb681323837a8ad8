"""OAuth for Datto RMM as an ``httpx.Auth``: password grant, token cache, one refresh on 401.

The token endpoint is ``POST {origin}/auth/oauth/token`` (outside ``/api``) with the fixed
client ``public-client:public`` and ``grant_type=password``. A token lives ~100 h; it is
refreshed shortly before its ``expires_in`` runs out, and once more on a 401. The token is
only ever attached to requests for the configured origin.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Generator

import httpx

from etl.errors import CredentialsError, MalformedResponseError, ServerError
from etl.log import register_secret

TOKEN_PATH = "/auth/oauth/token"
_PUBLIC_CLIENT = "Basic " + base64.b64encode(b"public-client:public").decode()
REFRESH_MARGIN = 0.05  # refresh when 95 % of the lifetime is gone


def same_origin(url: httpx.URL, origin: httpx.URL) -> bool:
    """True when ``url`` has the scheme, host and port of ``origin``."""
    defaults = {"http": 80, "https": 443}
    return (
        url.scheme == origin.scheme
        and url.host == origin.host
        and (url.port or defaults.get(url.scheme)) == (origin.port or defaults.get(origin.scheme))
    )


def describe_origin(url: httpx.URL) -> str:
    """``scheme://host:port`` with the port always written out (default or not), so a message
    about a refused URL shows which part differs."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return f"{url.scheme}://{url.host}" + (f":{port}" if port else "")


class DattoAuth(httpx.Auth):
    """Bearer auth with a cached, refreshed password-grant token."""

    # False: the API's answers stay streams for the session to read under its size cap;
    # the token answer is read here (:meth:`_store`)
    requires_response_body = False

    def __init__(
        self,
        origin: str,
        api_key: str,
        api_secret: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.origin = httpx.URL(origin)
        self._key = api_key
        self._secret = api_secret
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.tokens_fetched = 0
        register_secret(api_key)
        register_secret(api_secret)

    def token_request(self) -> httpx.Request:
        """The password-grant request."""
        return httpx.Request(
            "POST",
            self.origin.join(TOKEN_PATH),
            headers={"Authorization": _PUBLIC_CLIENT, "Accept": "application/json"},
            data={"grant_type": "password", "username": self._key, "password": self._secret},
        )

    def _store(self, response: httpx.Response) -> None:
        response.read()  # under the transport's deadline and size cap
        if response.status_code in (400, 401):
            raise CredentialsError(
                "Datto refused the API credentials (invalid key or secret): check "
                "DATTO_API_KEY and DATTO_API_SECRET, and the platform they belong to",
                status=response.status_code,
            )
        if response.status_code >= 500:
            raise ServerError(
                f"token endpoint answered {response.status_code}", status=response.status_code
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in") or 3600)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise MalformedResponseError(
                f"token endpoint answered {response.status_code} without an access_token",
                status=response.status_code,
            ) from None
        register_secret(token)
        self._token = token
        self._expires_at = self._clock() + lifetime * (1 - REFRESH_MARGIN)
        self.tokens_fetched += 1

    def invalidate(self) -> None:
        """Forget the cached token (next request fetches a new one)."""
        with self._lock:
            self._token = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Attach the token; fetch it first if needed; refresh once on a 401."""
        if not same_origin(request.url, self.origin) or request.url.path == TOKEN_PATH:
            yield request  # never hand the bearer token to another host
            return
        with self._lock:  # one thread fetches, the others wait and reuse its token
            if self._token is None or self._clock() >= self._expires_at:
                self._store((yield self.token_request()))
            token = self._token
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        with self._lock:
            if self._token == token:  # nobody refreshed it meanwhile
                self._store((yield self.token_request()))
            token = self._token
        request.headers["Authorization"] = f"Bearer {token}"
        yield request  # a second 401 reaches the client, which gives up
