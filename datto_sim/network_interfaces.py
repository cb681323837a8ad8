"""``/v2/site/{uid}/devices/network-interface``: a site's devices with their adapters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datto_sim.audits import nics
from datto_sim.server import Request, Response, Router, error

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 100  # generation order

FIELDS = (
    "id",
    "uid",
    "siteId",
    "siteUid",
    "siteName",
    "deviceType",
    "hostname",
    "intIpAddress",
    "extIpAddress",
)


def site_interfaces(sim: Simulator, site_uid: str) -> list[dict[str, Any]]:
    """The listing's items for one site (same adapters as the devices' audits)."""
    with sim.lock:
        devices = [d for d in sim.devices.values() if d["siteUid"] == site_uid]
    return [{**{k: d.get(k) for k in FIELDS}, "nics": nics(sim, d)} for d in devices]


def generate(sim: Simulator) -> None:
    """Nothing to generate: derived from the devices."""


def register(router: Router) -> None:
    """Routes of this module."""

    @router.get("/v2/site/{uid}/devices/network-interface")
    def network_interfaces(sim: Simulator, req: Request) -> Response:
        if req.params["uid"] not in sim.sites:
            return error(404, "Site not found", req.path)
        return sim.page(req, site_interfaces(sim, req.params["uid"]), "devices")
