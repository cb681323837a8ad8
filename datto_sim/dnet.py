"""Datto Networking site mappings: ``GET /v2/account/dnet-site-mappings`` (paged).

Items key ``dnetSiteMappings``: each of the account's sites (``id``, ``uid``, ``accountUid``,
``name``, ``description``, ``portalUrl``) with its ``dattoNetworkingNetworkIds``, a list of
integer network ids, empty for most sites (no Datto Networking there). Drawn from a
generator of its own, so the rest of the seeded account is as before. :func:`mappings` is the
ground truth; :func:`map_networks` changes a site's list.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from datto_sim.server import Request, Response, Router

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 114  # generation order

SITE_FIELDS = ("id", "uid", "accountUid", "name", "description")


def networks(sim: Simulator) -> dict[str, list[int]]:
    """Network ids per site uid (sites not in it have none)."""
    found: dict[str, list[int]] = sim.__dict__["dnet_networks"]
    return found


def mappings(sim: Simulator) -> list[dict[str, Any]]:
    """The list's items, in site order (the simulator's ground truth)."""
    with sim.lock:
        ids = networks(sim)
        return [
            {
                **{k: site.get(k) for k in SITE_FIELDS},
                "dattoNetworkingNetworkIds": list(ids.get(uid, [])),
                "portalUrl": site.get("portalUrl"),
            }
            for uid, site in sim.sites.items()
        ]


def map_networks(sim: Simulator, site_uid: str, ids: list[int]) -> None:
    """Give a site these network ids (an empty list: none)."""
    with sim.lock:
        networks(sim)[site_uid] = list(ids)


def generate(sim: Simulator) -> None:
    """About a third of the customer sites have one to three networks."""
    rng = random.Random(f"{sim.settings.seed}:dnet")
    out: dict[str, list[int]] = {}
    for uid, site in sim.sites.items():
        if site["name"] not in ("Deleted Devices", "Managed", "OnDemand") and rng.random() < 0.35:
            out[uid] = sorted(rng.sample(range(80_000, 90_000), rng.randint(1, 3)))
    sim.__dict__["dnet_networks"] = out


def register(router: Router) -> None:
    """Routes of this module."""

    @router.get("/v2/account/dnet-site-mappings")
    def dnet_site_mappings(sim: Simulator, req: Request) -> Response:
        return sim.page(req, mappings(sim), "dnetSiteMappings")
