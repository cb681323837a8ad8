"""The circuit breaker (etl/api/breaker.py): a hung endpoint family stops its resource with
one clear error after a few failures in a row; the other resources go on."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from datto_sim import Simulator
from datto_sim.server import Request, Response
from etl.api.breaker import endpoint_family
from etl.sync import run_sync
from tests.api.test_transport import with_datto
from tests.conftest import settings_for
from tests.resources.helpers import line, small_sim

N = 5  # datto.breaker_failures, the default


def test_a_hung_endpoint_family_opens_the_circuit(engine: Engine, db_url: str) -> None:
    # every audit call stalls (then the connection drops); 40 devices to audit
    with small_sim(devices=40, hang=("GET /v2/audit/*",)) as sim:
        arrived: list[str] = []  # stalled calls are logged only once answered: count arrivals

        def arrival(sim: Simulator, req: Request) -> Response | None:
            arrived.append(req.endpoint)
            return None

        sim.middlewares.insert(0, arrival)
        settings = with_datto(settings_for(sim, db_url), timeout_seconds=0.5, max_retries=1)
        assert settings.datto.breaker_failures == N
        report = run_sync(settings, ["sites", "devices", "device_audits", "users"], engine=engine)
        audits = line(report, "device_audits")
        assert audits.status == "failed" and audits.error is not None
        assert audits.error.startswith(f"GET /v2/audit/device/* failed {N} times in a row")
        assert "datto.breaker_failures" in audits.error
        sent = sum(e.startswith("GET /v2/audit/") for e in arrived)
        # at most N failed calls and those already out (concurrency 8), two attempts each;
        # without the breaker: every device, two attempts each
        assert sent <= 2 * (N + settings.budget.concurrency) < 2 * 40
        for other in ("sites", "devices", "users"):
            assert line(report, other).status == "ok"


def test_endpoint_families_put_ids_aside() -> None:
    def fam(path: str) -> str:
        return endpoint_family(httpx.URL("https://x" + path))

    uid = "6f0b4e3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    assert fam(f"/api/v2/audit/device/{uid}") == "GET /v2/audit/device/*"
    assert fam(f"/api/v2/audit/device/{uid}/software") == "GET /v2/audit/device/*/software"
    assert fam("/api/v2/device/12345/alerts/open") == "GET /v2/device/*/alerts/open"
    assert fam("/api/v2/account/devices") != fam("/api/v2/account/sites")
