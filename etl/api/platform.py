"""The platform's own status, ``GET /v2/system/status``, recorded with each resource run.

It holds no account data: ``version``, ``status`` and ``started``. Recording the version in
``sync_runs.details`` lets a change of behaviour be traced to a Datto release. It is asked
after a sync's first successful run (never delaying one), and by the daemon at most once per
:attr:`PlatformStatus.max_age`; a failure to read it never fails a run (the version is then
left out, with one warning).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from etl.api.client import DattoClient
from etl.api.timestamps import to_utc
from etl.errors import DattoETLError, StopRequested

log = logging.getLogger(__name__)
PATH = "/v2/system/status"


@dataclass
class PlatformStatus:
    """The last ``/v2/system/status`` read, asked again once it is ``max_age`` seconds old."""

    max_age: float = 3600.0
    body: dict[str, Any] | None = None
    fetched: float = float("-inf")
    requests: int = 0  # requests sent for it (a sync adds them to its count)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def refresh(self, client: DattoClient) -> None:
        """Ask the platform when the last answer is too old (or there is none).

        Never raises: the version is advisory, and whatever stops the sync (credentials, an
        IP block, a stop request) shows up in the next resource's run instead.
        """
        with self.lock:
            if time.monotonic() - self.fetched < self.max_age:
                return
            self.fetched = time.monotonic()  # a failure is not asked again at once either
            before = client.counter.count
            try:
                body = client.get(PATH)
            except (DattoETLError, StopRequested) as exc:
                log.warning("platform status not read (%s); runs are recorded without it", exc)
                return
            finally:
                self.requests += client.counter.count - before
            if isinstance(body, dict):
                self.body = body

    def details(self) -> dict[str, Any]:
        """What each run records: ``platform_version`` (and the platform's start), if known."""
        if not self.body or self.body.get("version") is None:
            return {}
        started = to_utc(self.body.get("started"))
        out: dict[str, Any] = {"platform_version": str(self.body["version"])}
        if started is not None:
            out["platform_started"] = started.isoformat()
        return out
