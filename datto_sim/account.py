"""``/v2/account`` and ``/v2/system/*`` of the simulated account.

``GET /v2/system/status`` answers ``version`` (knob ``platform_version``), ``status`` and
``started`` (epoch ms, as the sample payload guesses; ``time_format="iso"`` sends the spec's
date-time): the platform started some days before the simulator did. :func:`upgrade_platform`
puts a new release in place mid-test, as Datto does between two syncs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datto_sim.server import Request, Response, Router

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 10  # generation order (the account first)


DAY_MS = 86_400_000


def platform(sim: Simulator) -> dict[str, Any]:
    """The body of ``GET /v2/system/status`` (the simulator's ground truth)."""
    found: dict[str, Any] = sim.__dict__["platform"]
    return dict(found)


def upgrade_platform(sim: Simulator, version: str, status: str = "OK") -> None:
    """A new platform release, started now."""
    with sim.lock:
        sim.__dict__["platform"] = {"version": version, "status": status, "started": sim.now_ms()}


def generate(sim: Simulator) -> None:
    """The platform's status; the account itself is derived from sites and devices."""
    started = sim.now_ms() - 3 * DAY_MS - 7_200_000
    sim.__dict__["platform"] = {
        "version": sim.settings.platform_version,
        "status": "OK",
        "started": started,
    }


def register(router: Router) -> None:
    """Routes of this module."""

    @router.get("/v2/account")
    def account(sim: Simulator, req: Request) -> Response:
        devices = [d for d in sim.devices.values() if not d.get("deleted")]
        online = sum(1 for d in devices if d.get("online"))
        return Response(
            200,
            {
                "id": sim.account_id,
                "uid": sim.account_uid,
                "name": f"Simulated MSP {sim.settings.seed}",
                "currency": "USD",
                "descriptor": {
                    "bilingEmail": "billing@msp.example",
                    "deviceLimit": 5000,
                    "timeZone": "Europe/London",
                },
                "devicesStatus": {
                    "numberOfDevices": len(devices),
                    "numberOfOnlineDevices": online,
                    "numberOfOfflineDevices": len(devices) - online,
                    "numberOfOnDemandDevices": 0,
                    "numberOfManagedDevices": len(devices),
                },
            },
        )

    @router.get("/v2/system/pagination")
    def pagination(sim: Simulator, req: Request) -> Response:
        return Response(200, {"max": sim.settings.page_max})

    @router.get("/v2/system/status")
    def status(sim: Simulator, req: Request) -> Response:
        return Response(200, platform(sim))
