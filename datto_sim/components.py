"""Components (ComStore and own scripts) of the simulated account, with their variables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datto_sim.server import Request, Response, Router

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 80  # generation order

TITLES = [
    ("scripts", "Clear Temp Files"),
    ("scripts", "Restart Print Spooler"),
    ("scripts", "Install Windows Updates"),
    ("applications", "Google Chrome"),
    ("applications", "7-Zip"),
    ("applications", "Adobe Acrobat Reader"),
    ("monitors", "Disk Space Monitor"),
    ("monitors", "Service Monitor"),
]
VAR_TYPES = ["string", "boolean", "date", "selection"]


def components(sim: Simulator) -> list[dict[str, Any]]:
    """The account's components as the API lists them."""
    return sim.__dict__["components"]


def generate(sim: Simulator) -> None:
    """Some sixty components, most with a few input or output variables."""
    from datto_sim.core import guid, id_rng

    rng = sim.rng
    shared = id_rng(sim, "components")
    out = []
    for n in range(60):
        category, title = TITLES[n % len(TITLES)]
        credentials, uid = rng.random() < 0.2, guid(rng)
        out.append(
            {
                "id": 900 + n,
                "credentialsRequired": credentials,
                "uid": guid(shared) if shared else uid,
                "name": f"{title} v{1 + n // len(TITLES)}",
                "description": rng.choice([None, f"{title} for every site"]),
                "categoryCode": category,
                "variables": [
                    {
                        "name": f"var{i}",
                        "defaultVal": rng.choice([None, "", "true", "C:\\Temp"]),
                        "type": rng.choice(VAR_TYPES),
                        "direction": rng.choice([True, False]),
                        "description": rng.choice([None, f"Input {i}"]),
                        "variablesIdx": i,
                    }
                    for i in range(rng.randint(0, 4))
                ],
            }
        )
    sim.__dict__["components"] = out


def register(router: Router) -> None:
    """Routes of this module."""

    @router.get("/v2/account/components")
    def account_components(sim: Simulator, req: Request) -> Response:
        return sim.page(req, list(components(sim)), "components")
