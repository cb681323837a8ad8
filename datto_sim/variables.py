"""Account and site variables of the simulated account; masked values come back masked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datto_sim.server import Request, Response, Router, error

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 60  # generation order

MASK = "*****"  # what the API shows for a masked variable's value
NAMES = ["LicenseKey", "AdminPassword", "BackupTarget", "ProxyHost", "PatchWindow", "Region"]


def account_variables(sim: Simulator) -> list[dict[str, Any]]:
    """The account's variables as the API lists them."""
    return sim.__dict__["account_variables"]


def site_variables(sim: Simulator, site_uid: str) -> list[dict[str, Any]]:
    """One site's variables as the API lists them (empty for an unknown site)."""
    return sim.__dict__["site_variables"].get(site_uid, [])


def _variable(sim: Simulator, name: str) -> dict[str, Any]:
    masked = "Password" in name or "Key" in name or sim.rng.random() < 0.15
    sim.__dict__["variable_ids"] = sim.__dict__.get("variable_ids", 3000) + 1
    return {
        "id": sim.__dict__["variable_ids"],
        "name": name,
        "value": MASK if masked else f"{name.lower()}-{sim.rng.randint(1, 99)}",
        "masked": masked,
    }


def generate(sim: Simulator) -> None:
    """A handful of account variables; zero to four per site."""
    sim.__dict__["account_variables"] = [_variable(sim, n) for n in NAMES]
    sim.__dict__["site_variables"] = {
        uid: [_variable(sim, n) for n in sim.rng.sample(NAMES, sim.rng.randint(0, 4))]
        for uid in sim.sites
    }


def register(router: Router) -> None:
    """Routes of this module."""

    @router.get("/v2/account/variables")
    def account(sim: Simulator, req: Request) -> Response:
        return sim.page(req, list(account_variables(sim)), "variables")

    @router.get("/v2/site/{uid}/variables")
    def site(sim: Simulator, req: Request) -> Response:
        if req.params["uid"] not in sim.sites:
            return error(404, "Site not found", req.path)
        return sim.page(req, list(site_variables(sim, req.params["uid"])), "variables")
