"""Devices of the simulated account: classes, nulls, 300 UDFs, epoch-ms times."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datto_sim.server import Request, Response, Router, error
from datto_sim.sites import deleted_site_uid, refresh_counts

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 30  # generation order (after sites)

DAY_MS = 86_400_000
DOTNET_MIN = -62135596800000
CLASSES = [
    ("device", 0.84),
    ("printer", 0.05),
    ("esxihost", 0.03),
    ("rmmnetworkdevice", 0.06),
    ("unknown", 0.02),
]
OSES = [
    "Microsoft Windows 11 Pro 10.0.22631",
    "Microsoft Windows 10 Pro 10.0.19045",
    "Microsoft Windows Server 2022 Standard 10.0.20348",
    "macOS Sonoma 14.5",
    "Ubuntu 22.04.4 LTS",
]
SYSTEM_SITES = ("Deleted Devices", "OnDemand", "Managed")
UDF_COUNT = 300
UDF_USED = {
    1: "Contract A",
    2: "Gold",
    7: "Rack 3",
    12: "Leased",
    45: "Asset 0042",
    299: "Legacy tag",
}


def _class(sim: Simulator) -> str:
    r, acc = sim.rng.random(), 0.0
    for name, share in CLASSES:
        acc += share
        if r < acc:
            return name
    return "device"


def make_device(sim: Simulator, site_uid: str, n: int) -> dict[str, Any]:
    """One device in the API's shape."""
    from datto_sim.core import guid

    rng, now = sim.rng, sim.now_ms()
    cls = _class(sim)
    is_agent = cls == "device"
    site = sim.sites[site_uid]
    udf: dict[str, Any] = {f"udf{i}": None for i in range(1, UDF_COUNT + 1)}
    for i, value in UDF_USED.items():
        if rng.random() < 0.3:
            udf[f"udf{i}"] = value
    warranty: Any = rng.choice(
        [
            None,
            f"{rng.randint(2024, 2030)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            now + rng.randint(-400, 900) * DAY_MS,
        ]
    )
    return {
        "id": 50_000 + n,
        "uid": guid(rng),
        "siteId": site["id"],
        "siteUid": site_uid,
        "siteName": site["name"],
        "deviceType": {
            "category": {
                "device": rng.choice(["Desktop", "Laptop", "Server"]),
                "printer": "Printer",
                "esxihost": "ESXi Host",
                "rmmnetworkdevice": "Network Device",
            }.get(cls, "Unknown"),
            "type": rng.choice(["Other", "Main System Chassis", "Notebook"]),
        },
        "hostname": f"{site['name'].split()[0].upper()}-{n:05d}",
        "intIpAddress": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "operatingSystem": rng.choice(OSES) if is_agent else None,
        "lastLoggedInUser": rng.choice([None, f"CORP\\user{rng.randint(1, 400)}"])
        if is_agent
        else None,
        "domain": rng.choice([None, "CORP"]),
        "cagVersion": "4.4.2207.2207" if is_agent else None,
        "displayVersion": "4.4.2207" if is_agent else None,
        "extIpAddress": f"203.0.113.{rng.randint(1, 254)}",
        "description": rng.choice([None, "", "Front desk PC"]),
        "a64Bit": True if is_agent else None,
        "rebootRequired": rng.choice([True, False, None]) if is_agent else None,
        "online": rng.random() < 0.7,
        "suspended": rng.random() < 0.02,
        "deleted": False,
        "lastSeen": now - rng.randint(0, 30 * DAY_MS),
        "lastReboot": rng.choice([0, DOTNET_MIN, now - rng.randint(0, 60 * DAY_MS)]),
        "lastAuditDate": (now - rng.randint(0, 7 * DAY_MS))
        if cls in ("device", "esxihost", "printer")
        else 0,
        "creationDate": now - rng.randint(30 * DAY_MS, 900 * DAY_MS),
        "udf": udf,
        "snmpEnabled": cls != "device",
        "deviceClass": cls,
        "portalUrl": "https://merlot.centrastage.net/csm/search?qs=uid%3A" + str(n),
        "warrantyDate": warranty,
        "antivirus": {
            "antivirusProduct": rng.choice(["Datto AV", "Windows Defender", None]),
            "antivirusStatus": rng.choice(
                ["RunningAndUpToDate", "RunningAndNotUpToDate", "NotRunning", "NotDetected"]
            ),
        }
        if is_agent
        else None,
        "patchManagement": {
            "patchStatus": rng.choice(
                [
                    "NoPolicy",
                    "NoData",
                    "RebootRequired",
                    "InstallError",
                    "ApprovedPending",
                    "FullyPatched",
                ]
            ),
            "patchesApprovedPending": rng.randint(0, 12),
            "patchesNotApproved": rng.randint(0, 30),
            "patchesInstalled": rng.randint(0, 400),
        }
        if is_agent
        else None,
        "softwareStatus": rng.choice(["Compliant", "NotCompliant", None]) if is_agent else None,
        "webRemoteUrl": None,
        "networkProbe": rng.random() < 0.05 if is_agent else None,
        "onboardedViaNetworkMonitor": not is_agent,
    }


def generate(sim: Simulator) -> None:
    """Spread the devices over the customer sites; a few already sit in Deleted Devices."""
    customer = [u for u, s in sim.sites.items() if s["name"] not in ("Deleted Devices", "OnDemand")]
    deleted = deleted_site_uid(sim)
    for n in range(sim.settings.devices):
        site_uid = (
            deleted
            if n % 97 == 96
            else customer[
                min(int(sim.rng.paretovariate(1.2)) - 1, len(customer) - 1)
                if n % 3 == 0
                else n % len(customer)
            ]
        )
        device = make_device(sim, site_uid, n)
        device["deleted"] = site_uid == deleted
        sim.devices[device["uid"]] = device
    refresh_counts(sim)


def add_device(sim: Simulator, site_uid: str | None = None) -> dict[str, Any]:
    """A new device on a customer site (for tests and the demo)."""
    with sim.lock:
        site_uid = site_uid or next(
            u for u, s in sim.sites.items() if s["name"] not in SYSTEM_SITES
        )
        device = make_device(sim, site_uid, len(sim.devices) + 1)
        sim.devices[device["uid"]] = device
        refresh_counts(sim)
        return device


def delete_device(sim: Simulator, uid: str) -> None:
    """Move a device to "Deleted Devices" with ``deleted: true``, as Datto does."""
    with sim.lock:
        device = sim.devices[uid]
        site = sim.sites[deleted_site_uid(sim)]
        device.update(siteUid=site["uid"], siteId=site["id"], siteName=site["name"], deleted=True)
        refresh_counts(sim)


def purge_device(sim: Simulator, uid: str) -> None:
    """Remove a device entirely (``GET /v2/device/{uid}`` answers 404 afterwards)."""
    with sim.lock:
        sim.devices.pop(uid)
        refresh_counts(sim)


def restore_device(sim: Simulator, device: dict[str, Any], site_uid: str | None = None) -> None:
    """Bring a deleted or purged device back, alive, on ``site_uid`` (default: a customer)."""
    with sim.lock:
        site_uid = site_uid or next(
            u for u, s in sim.sites.items() if s["name"] not in SYSTEM_SITES
        )
        site = sim.sites[site_uid]
        device.update(siteUid=site_uid, siteId=site["id"], siteName=site["name"], deleted=False)
        sim.devices[device["uid"]] = device
        refresh_counts(sim)


def hidden(sim: Simulator) -> set[str]:
    """Devices the lists skip although they exist (as when pages shift while read)."""
    return sim.__dict__.setdefault("hidden_devices", set())


def hide_device(sim: Simulator, uid: str, hide: bool = True) -> None:
    """Leave a live device out of every device list (``GET /v2/device/{uid}`` still answers)."""
    with sim.lock:
        if hide:
            hidden(sim).add(uid)
        else:
            hidden(sim).discard(uid)


def register(router: Router) -> None:
    """Routes of this module."""

    def listed(sim: Simulator) -> list[dict[str, Any]]:
        with sim.lock:
            items = [d for d in sim.devices.values() if d["uid"] not in hidden(sim)]
        share = sim.settings.account_devices_missing
        if share:  # the live bug: the account-wide list skips some devices
            step = max(2, round(1 / share))
            items = [d for i, d in enumerate(items) if i % step]
        return items

    @router.get("/v2/account/devices")
    def account_devices(sim: Simulator, req: Request) -> Response:
        return sim.page(req, listed(sim), "devices")

    @router.get("/v2/site/{uid}/devices")
    def site_devices(sim: Simulator, req: Request) -> Response:
        if req.params["uid"] not in sim.sites:
            return error(404, "Site not found", req.path)
        with sim.lock:
            items = [
                d
                for d in sim.devices.values()
                if d["siteUid"] == req.params["uid"] and d["uid"] not in hidden(sim)
            ]
        return sim.page(req, items, "devices")

    @router.get("/v2/device/{uid}")
    def one_device(sim: Simulator, req: Request) -> Response:
        device = sim.devices.get(req.params["uid"])
        return Response(200, device) if device else error(404, "Device not found", req.path)
