"""A bare HTTP session against the simulator (no client of ours: no budget, no retries)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

from datto_sim import Simulator
from datto_sim.core import PUBLIC_CLIENT


@contextlib.contextmanager
def session(sim: Simulator, **options: Any) -> Iterator[httpx.Client]:
    """A client with a token, sending as fast as it is asked to (``options`` go to httpx)."""
    with httpx.Client(base_url=sim.url, **options) as http:
        token = http.post(
            "/auth/oauth/token",
            headers={"Authorization": PUBLIC_CLIENT},
            data={
                "grant_type": "password",
                "username": sim.settings.api_key,
                "password": sim.settings.api_secret,
            },
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        yield http
