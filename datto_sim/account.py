"""``/v2/account`` and ``/v2/system/*`` of the simulated account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datto_sim.server import Request, Response, Router

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 10  # generation order (the account first)


def generate(sim: Simulator) -> None:
    """Nothing to generate: the account is derived from sites and devices."""


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
        return Response(200, {"version": "sim", "status": "OK", "started": sim.now_ms()})
