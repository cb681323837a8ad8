"""Default and custom device filters of the simulated account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datto_sim.server import Request, Response, Router

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 90  # generation order

DEFAULTS = [
    "All Windows Desktops",
    "All Windows Servers",
    "All Macs",
    "Offline for 30 days",
    "Reboot required",
    "Low disk space",
    "No antivirus",
    "Patches pending",
    "ESXi hosts",
    "Printers",
]
DAY_MS = 86_400_000


def filters(sim: Simulator, kind: str) -> list[dict[str, Any]]:
    """``rmm_default`` or ``custom`` filters as the API lists them."""
    return sim.__dict__["filters"][kind]


def generate(sim: Simulator) -> None:
    """Datto's default filters and a few of the MSP's own."""
    rng, now = sim.rng, sim.now_ms()

    def make(n: int, name: str, kind: str) -> dict[str, Any]:
        created = now - rng.randint(100, 2000) * DAY_MS
        return {
            "id": 100 + n if kind == "rmm_default" else 5000 + n,
            "name": name,
            "description": rng.choice([None, f"Devices: {name.lower()}"]),
            "type": kind,
            "dateCreate": created,
            "lastUpdated": created + rng.randint(0, 90) * DAY_MS,
        }

    sim.__dict__["filters"] = {
        "rmm_default": [make(n, name, "rmm_default") for n, name in enumerate(DEFAULTS)],
        "custom": [make(n, f"Customer group {n}", "custom") for n in range(rng.randint(2, 8))],
    }


def register(router: Router) -> None:
    """Routes of this module."""

    @router.get("/v2/filter/default-filters")
    def default_filters(sim: Simulator, req: Request) -> Response:
        return sim.page(req, list(filters(sim, "rmm_default")), "filters")

    @router.get("/v2/filter/custom-filters")
    def custom_filters(sim: Simulator, req: Request) -> Response:
        return sim.page(req, list(filters(sim, "custom")), "filters")
