"""Audits of the simulated devices: hardware, software (50 to 300 titles), ESXi hosts, printers.

Audits are derived, not stored: each device has an audit *revision* (0 at start), and its
hardware and software lists are generated from ``(seed, uid, revision)`` with their own
random generator, so they are stable between requests and cheap for 2,000 devices.
:func:`reaudit` moves a device to its next revision (new ``lastAuditDate``, a few titles
removed, added and upgraded), as a device that ran its audit again.

Routes follow API_FACTS.md: ``/v2/audit/device/{uid}`` (+ ``/software``, paged) for class
``device``, ``/v2/audit/esxihost/{uid}``, ``/v2/audit/printer/{uid}``; the wrong class answers
400, an unknown device 404.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from datto_sim.server import Request, Response, Router, error

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 50  # generation order (after devices, whose audits these are)

DAY_MS = 86_400_000
GIB = 1024**3
VENDORS = [
    "Adobe",
    "Microsoft",
    "Google",
    "Mozilla",
    "Oracle",
    "Cisco",
    "Dell",
    "HP",
    "Intel",
    "NVIDIA",
    "Zoom Video Communications",
    "Citrix",
    "VMware",
    "Logitech",
    "Realtek",
    "Sophos",
    "Datto",
    "7-Zip",
    "Notepad++",
    "Python Software Foundation",
]
PRODUCTS = [
    "Acrobat Reader",
    "Visual C++ {y} Redistributable (x64)",
    "Visual C++ {y} Redistributable (x86)",
    "Chrome",
    "Firefox (x64 en-US)",
    "Java {n} Update",
    "AnyConnect Secure Mobility Client",
    "Command Update",
    "Support Assistant",
    "Graphics Driver",
    "Management Engine Components",
    "Workspace",
    "Tools",
    "Options",
    "Audio Driver",
    "Endpoint Agent",
    "Office 16 Click-to-Run Extensibility Component",
    "Edge WebView2 Runtime",
    "Teams Machine-Wide Installer",
    "Update Helper",
    "SDK {n}",
    "Runtime {n}",
    "Launcher",
    "Connector",
]
CATALOG: list[str] = sorted(
    {
        f"{vendor} {product.format(y=2008 + 2 * (i % 8), n=3 + i % 9)}"
        for i, (vendor, product) in enumerate((v, p) for v in VENDORS for p in PRODUCTS)
    }
)
MODELS = [
    ("Dell Inc.", "OptiPlex 7090"),
    ("Dell Inc.", "Latitude 5440"),
    ("HP", "EliteBook 840 G9"),
    ("LENOVO", "ThinkCentre M70q"),
    ("Microsoft Corporation", "Surface Laptop 5"),
    ("VMware, Inc.", "VMware Virtual Platform"),
]
PRINTERS = [("HP", "LaserJet Pro M404dn"), ("Brother", "MFC-L8900CDW"), ("Kyocera", "TASKalfa")]


class AuditStore:
    """Audit revisions per device, and a cache of generated audits."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.revisions: dict[str, int] = {}
        self.epoch_ms = sim.now_ms()  # audit dates count back from here: stable per request
        self._software: dict[tuple[str, int], list[dict[str, Any]]] = {}

    def revision(self, uid: str) -> int:
        """The device's current audit revision."""
        return self.revisions.get(uid, 0)

    def rng(self, uid: str, tag: str) -> random.Random:
        """A generator of its own for one device and purpose (stable across requests)."""
        return random.Random(f"{self.sim.settings.seed}:{uid}:{tag}")


def store(sim: Simulator) -> AuditStore:
    """The simulator's audit store (created by :func:`generate`)."""
    return sim.__dict__["audit_store"]


def generate(sim: Simulator) -> None:
    """Nothing up front: audits are derived on demand from each device's revision."""
    sim.__dict__["audit_store"] = AuditStore(sim)


def _version(rng: random.Random) -> str:
    return f"{rng.randint(1, 130)}.{rng.randint(0, 20)}.{rng.randint(0, 9999)}"


def software(sim: Simulator, uid: str) -> list[dict[str, Any]]:
    """The device's software list at its current revision (``name``, ``version``)."""
    st = store(sim)
    rev = st.revision(uid)
    with sim.lock:
        cached = st._software.get((uid, rev))
        if cached is not None:
            return cached
    rng = st.rng(uid, "software")
    count = int(rng.triangular(50, 300, 90))
    titles = {name: _version(rng) for name in rng.sample(CATALOG, min(count, len(CATALOG)))}
    for step in range(1, rev + 1):  # each re-audit removes, adds and upgrades a few titles
        change = st.rng(uid, f"software-{step}")
        for name in change.sample(sorted(titles), min(3, len(titles) - 50)):
            del titles[name]
        for name in change.sample([c for c in CATALOG if c not in titles], 2):
            titles[name] = _version(change)
        for name in change.sample(sorted(titles), 2):
            titles[name] = _version(change)
    items = [{"name": n, "version": v} for n, v in sorted(titles.items(), key=lambda t: t[0])]
    with sim.lock:
        st._software[(uid, rev)] = items
    return items


def _mac(rng: random.Random) -> str:
    return ":".join(f"{rng.randint(0, 255):02X}" for _ in range(6))


def _memory(rng: random.Random, n: int) -> list[dict[str, Any]]:
    return [
        {
            "module": f"DIMM{i}",
            "size": rng.choice([8, 16, 32]) * GIB,
            "type": "DDR4",
            "speed": rng.choice(["2666", "3200"]),
            "serialNumber": f"{rng.getrandbits(32):08X}",
            "partNumber": rng.choice(["M378A1K43DB2-CWE", "HMA81GU6DJR8N-XN"]),
            "bank": f"BANK {i}",
        }
        for i in range(n)
    ]


def _agent_audit(sim: Simulator, device: dict[str, Any], rev: int) -> dict[str, Any]:
    st = store(sim)
    rng = st.rng(device["uid"], "hardware")
    maker, model = rng.choice(MODELS)
    modules = _memory(rng, rng.choice([1, 2, 4]))
    disks: list[dict[str, Any]] = []
    for letter in "CDE"[: rng.randint(1, 3)]:
        size = rng.choice([128, 256, 512, 1024]) * GIB
        disks.append(
            {"diskIdentifier": f"{letter}:", "description": "Local Fixed Disk", "size": size}
        )
    drift = st.rng(device["uid"], f"hardware-{rev}")  # free space moves with every audit
    for disk in disks:
        disk["freespace"] = int(disk["size"] * drift.uniform(0.05, 0.9))
    now = st.epoch_ms
    return {
        "portalUrl": device.get("portalUrl"),
        "webRemoteUrl": device.get("webRemoteUrl"),
        "systemInfo": {
            "manufacturer": maker,
            "model": model,
            "totalPhysicalMemory": sum(m["size"] for m in modules),
            "username": device.get("lastLoggedInUser"),
            "dotNetVersion": rng.choice(["4.8.09032", "4.8.04084", None]),
            "totalCpuCores": rng.choice([2, 4, 8, 16]),
        },
        "nics": nics(sim, device),
        "bios": {
            "instance": f"{maker} BIOS",
            "releaseDate": now - rng.randint(200, 2000) * DAY_MS,
            "serialNumber": f"SN{rng.getrandbits(40):010X}",
            "smBiosVersion": f"{rng.randint(1, 3)}.{rng.randint(0, 30)}.0",
        },
        "baseBoard": {"manufacturer": maker, "product": f"0{rng.randint(100, 999)}XY"},
        "displays": [
            {"instance": f"Display {i}", "screenHeight": 1080, "screenWidth": 1920}
            for i in range(rng.randint(0, 2))
        ],
        "logicalDisks": disks,
        "mobileInfo": [],
        "processors": [{"name": rng.choice(["Intel(R) Core(TM) i5-10500", "AMD Ryzen 7 5700G"])}],
        "videoBoards": [
            {"displayAdapter": rng.choice(["Intel(R) UHD Graphics 630", "NVIDIA T400"])}
        ],
        "attachedDevices": [
            {
                "deviceName": name,
                "deviceType": kind,
                "driverFile": f"{kind.lower()}.sys",
                "driverFileLastModified": now - rng.randint(10, 900) * DAY_MS,
                "driverManufacturer": "Microsoft",
                "driverName": name,
                "driverVersion": f"10.0.{rng.randint(10000, 22631)}.1",
                "portName": rng.choice([None, "USB001"]),
            }
            for name, kind in rng.sample(
                [("USB Input Device", "HID"), ("Webcam", "Image"), ("Dock", "USB")],
                rng.randint(0, 3),
            )
        ],
        "snmpInfo": None,
        "physicalMemory": modules,
    }


def _esxi_audit(sim: Simulator, device: dict[str, Any], rev: int) -> dict[str, Any]:
    rng = store(sim).rng(device["uid"], "esxi")
    stores = []
    for i in range(rng.randint(1, 4)):
        size = rng.choice([2, 4, 8]) * 1024 * GIB
        stores.append(
            {
                "datastoreName": f"datastore{i + 1}",
                "subscriptionPercent": rng.randint(20, 140),
                "freeSpace": int(size * rng.uniform(0.05, 0.7)),
                "size": size,
                "fileSystem": rng.choice(["VMFS", "NFS"]),
                "status": "Normal",
                "dataExtents": [
                    {
                        "name": f"naa.{rng.getrandbits(64):016x}",
                        "size": size,
                        "mediaType": "SSD",
                        "status": "ok",
                    }
                ],
            }
        )
    return {
        "portalUrl": device.get("portalUrl"),
        "systemInfo": {
            "manufacturer": "Dell Inc.",
            "model": rng.choice(["PowerEdge R650", "PowerEdge R750"]),
            "name": device["hostname"],
            "numberOfSnapshots": rng.randint(0, 12) + rev,
            "serviceTag": f"{rng.getrandbits(28):07X}",
        },
        "guests": [
            {
                "guestName": f"{device['hostname']}-VM{i:02d}",
                "processorSpeedTotal": rng.choice([2400, 4800, 9600]),
                "memorySizeTotal": rng.choice([4, 8, 16, 32]) * GIB,
                "numberOfSnapshots": rng.randint(0, 3),
                "datastores": rng.choice(stores)["datastoreName"],
            }
            for i in range(rng.randint(2, 12))
        ],
        "processors": [
            {"frequency": 2.9, "name": "Intel(R) Xeon(R) Gold 6326", "numberOfCores": 16}
            for _ in range(rng.randint(1, 2))
        ],
        "nics": [{**nic, "name": nic["instance"], "speed": "10000"} for nic in nics(sim, device)],
        "physicalMemory": _memory(rng, rng.choice([4, 8])),
        "datastores": stores,
    }


def _printer_audit(sim: Simulator, device: dict[str, Any], rev: int) -> dict[str, Any]:
    st = store(sim)
    rng = st.rng(device["uid"], "printer")
    maker, model = rng.choice(PRINTERS)
    colours = ["Black Toner", "Cyan Toner", "Magenta Toner", "Yellow Toner"]
    level = st.rng(device["uid"], f"printer-{rev}")
    return {
        "portalUrl": device.get("portalUrl"),
        "snmpInfo": {
            "snmpName": device["hostname"],
            "snmpContact": rng.choice([None, "it@customer.example"]),
            "snmpDescription": f"{maker} {model}",
            "snmpLocation": rng.choice(["Floor 1", "Reception", None]),
            "snmpUptime": f"{rng.randint(1, 90)} days",
            "nicManufacturer": maker,
            "objectId": "1.3.6.1.4.1.11.2.3.9.1",
            "snmpSerial": f"PRN{rng.getrandbits(32):08X}",
        },
        "printerMarkerSupplies": [
            {"description": c, "maxCapacity": "100", "suppliesLevel": str(level.randint(0, 100))}
            for c in colours[: rng.choice([1, 4])]
        ]
        + [{"description": "Drum Unit", "maxCapacity": "-2", "suppliesLevel": "-3"}],
        "printer": {"printedPageCount": rng.randint(1_000, 90_000) + 250 * rev},
        "systemInfo": {"manufacturer": maker, "model": model},
        "nics": nics(sim, device),
    }


def nics(sim: Simulator, device: dict[str, Any]) -> list[dict[str, Any]]:
    """The device's network adapters (shared with the network-interface listing)."""
    rng = store(sim).rng(device["uid"], "nics")
    out = [
        {
            "instance": rng.choice(["Intel(R) Ethernet Connection I219-LM", "Realtek PCIe GbE"]),
            "ipv4": device.get("intIpAddress"),
            "ipv6": rng.choice([None, f"fe80::{rng.getrandbits(16):x}"]),
            "macAddress": _mac(rng),
            "type": "Ethernet",
        }
    ]
    if device.get("deviceClass") == "device" and rng.random() < 0.4:
        out.append(
            {
                "instance": "Intel(R) Wi-Fi 6 AX201 160MHz",
                "ipv4": None,
                "ipv6": None,
                "macAddress": _mac(rng),
                "type": "Wireless",
            }
        )
    return out


AUDITS = {"device": _agent_audit, "esxihost": _esxi_audit, "printer": _printer_audit}


def audit(sim: Simulator, uid: str) -> dict[str, Any]:
    """The device's audit at its current revision, shaped by its class."""
    device = sim.devices[uid]
    return AUDITS[device["deviceClass"]](sim, device, store(sim).revision(uid))


def reaudit(sim: Simulator, uid: str) -> None:
    """The device audits again: next revision, changed software, a newer ``lastAuditDate``."""
    st = store(sim)
    with sim.lock:
        device = sim.devices[uid]
        st.revisions[uid] = st.revision(uid) + 1
        device["lastAuditDate"] = max(sim.now_ms(), int(device.get("lastAuditDate") or 0) + 1)


def register(router: Router) -> None:
    """Routes of this module."""

    def find(sim: Simulator, req: Request, cls: str) -> dict[str, Any] | Response:
        device = sim.devices.get(req.params["uid"])
        if device is None:
            return error(404, "Device not found", req.path)
        if device["deviceClass"] != cls:
            return error(400, f"Device is not of class {cls}", req.path)
        return device

    def audit_route(cls: str) -> None:
        @router.get(f"/v2/audit/{cls}/{{uid}}")
        def one(sim: Simulator, req: Request) -> Response:
            found = find(sim, req, cls)
            return found if isinstance(found, Response) else Response(200, audit(sim, found["uid"]))

    for cls in AUDITS:
        audit_route(cls)

    @router.get("/v2/audit/device/{uid}/software")
    def device_software(sim: Simulator, req: Request) -> Response:
        found = find(sim, req, "device")
        if isinstance(found, Response):
            return found
        return sim.page(req, software(sim, found["uid"]), "software")
