"""``/v2/site/{uid}/settings`` of the simulated account: general, proxy and mail recipients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datto_sim.server import Request, Response, Router, error

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 70  # generation order


def recipients(sim: Simulator, site_uid: str) -> list[dict[str, Any]]:
    """The site's mail recipients (generated once per site)."""
    return sim.__dict__["mail_recipients"].get(site_uid, [])


def settings(sim: Simulator, site_uid: str) -> dict[str, Any]:
    """The settings document of a site, derived from the site itself."""
    site = sim.sites[site_uid]
    return {
        "generalSettings": {
            "name": site["name"],
            "uid": site["uid"],
            "description": site.get("description"),
            "onDemand": site.get("onDemand"),
        },
        "proxySettings": site.get("proxySettings"),
        "mailRecipients": recipients(sim, site_uid),
    }


def generate(sim: Simulator) -> None:
    """Zero to three mail recipients per site."""
    rng = sim.rng
    sim.__dict__["mail_recipients"] = {
        uid: [
            {
                "name": f"Contact {n}",
                "email": f"contact{n}@{uid[:8]}.example",
                "type": rng.choice(["to", "cc"]),
                "receives": rng.randint(0, 7),
                "receivesAlerts": rng.choice([True, False]),
                "receivesReports": rng.choice([True, False]),
                "receivesNewDevices": rng.choice([True, False, None]),
            }
            for n in range(rng.randint(0, 3))
        ]
        for uid in sim.sites
    }


def register(router: Router) -> None:
    """Routes of this module."""

    @router.get("/v2/site/{uid}/settings")
    def site_settings(sim: Simulator, req: Request) -> Response:
        if req.params["uid"] not in sim.sites:
            return error(404, "Site not found", req.path)
        return Response(200, settings(sim, req.params["uid"]))
