"""Sites of the simulated account, including the system sites Datto adds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datto_sim.server import Request, Response, Router, error

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 20  # generation order (before devices, which live in sites)

COMPANY_WORDS = [
    "Acme",
    "Bright",
    "Cedar",
    "Delta",
    "Evergreen",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Keystone",
    "Lumen",
    "Maple",
    "Northwind",
    "Orchid",
    "Pioneer",
]
KINDS = ["Dental", "Legal", "Logistics", "Bakery", "Clinic", "Builders", "Accounting", "School"]


def deleted_site_uid(sim: Simulator) -> str:
    """The uid of "Deleted Devices": not a GUID, as on live accounts."""
    return f"{sim.account_uid}-deleted-devices"


def make_site(sim: Simulator, uid: str, name: str, *, on_demand: bool = False) -> dict[str, Any]:
    """One site in the API's shape (device counts are filled in from the devices)."""
    rng = sim.rng
    proxy = None
    if rng.random() < 0.1:
        proxy = {
            "host": "proxy.example",
            "port": 3128,
            "type": "http",
            "username": "svc",
            "password": "not-stored",
        }
    return {
        "id": rng.randint(100_000, 999_999),
        "uid": uid,
        "accountUid": sim.account_uid,
        "name": name,
        "description": rng.choice([None, "", f"{name} head office"]),
        "notes": rng.choice([None, "Key holder: reception"]),
        "onDemand": on_demand,
        "splashtopAutoInstall": rng.choice([True, False, None]),
        "proxySettings": proxy,
        "devicesStatus": {
            "numberOfDevices": 0,
            "numberOfOnlineDevices": 0,
            "numberOfOfflineDevices": 0,
        },
        "autotaskCompanyName": rng.choice([None, name]),
        "autotaskCompanyId": rng.choice([None, str(rng.randint(1, 99999))]),
        "portalUrl": f"https://merlot.centrastage.net/csm/site/{uid}",
    }


def generate(sim: Simulator) -> None:
    """Customer sites plus "Deleted Devices", "Managed" and "OnDemand"."""
    from datto_sim.core import guid

    for n in range(sim.settings.sites):
        name = f"{sim.rng.choice(COMPANY_WORDS)} {sim.rng.choice(KINDS)} {n + 1}"
        uid = guid(sim.rng)
        sim.sites[uid] = make_site(sim, uid, name)
    for name, on_demand in (("Managed", False), ("OnDemand", True)):
        uid = guid(sim.rng)
        sim.sites[uid] = make_site(sim, uid, name, on_demand=on_demand)
    uid = deleted_site_uid(sim)
    sim.sites[uid] = make_site(sim, uid, "Deleted Devices")


def refresh_counts(sim: Simulator) -> None:
    """Recompute every site's ``devicesStatus`` from the devices."""
    for site in sim.sites.values():
        site["devicesStatus"] = {
            "numberOfDevices": 0,
            "numberOfOnlineDevices": 0,
            "numberOfOfflineDevices": 0,
        }
    for device in sim.devices.values():
        status = sim.sites[device["siteUid"]]["devicesStatus"]
        status["numberOfDevices"] += 1
        key = "numberOfOnlineDevices" if device.get("online") else "numberOfOfflineDevices"
        status[key] += 1


def remove_site(sim: Simulator, uid: str) -> dict[str, Any]:
    """Delete a site (its devices go to "Deleted Devices"); ``GET /v2/site/{uid}`` → 404."""
    with sim.lock:
        deleted = sim.sites[deleted_site_uid(sim)]
        for device in sim.devices.values():
            if device["siteUid"] == uid:
                device.update(
                    siteUid=deleted["uid"],
                    siteId=deleted["id"],
                    siteName=deleted["name"],
                    deleted=True,
                )
        site = sim.sites.pop(uid)
        refresh_counts(sim)
        return site


def restore_site(sim: Simulator, site: dict[str, Any]) -> None:
    """Bring a removed site back (without its devices)."""
    with sim.lock:
        sim.sites[site["uid"]] = site
        refresh_counts(sim)


def register(router: Router) -> None:
    """Routes of this module."""

    @router.get("/v2/account/sites")
    def account_sites(sim: Simulator, req: Request) -> Response:
        with sim.lock:
            items = list(sim.sites.values())
        return sim.page(req, items, "sites")

    @router.get("/v2/site/{uid}")
    def one_site(sim: Simulator, req: Request) -> Response:
        site = sim.sites.get(req.params["uid"])
        return Response(200, site) if site else error(404, "Site not found", req.path)
