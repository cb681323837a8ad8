"""The views' figures worked out from the simulator's own data, by plain Python.

Independent of the view SQL on purpose: if a view and this code disagree, one of them has
the KPI rule wrong. Times that depend on "now" are given as (low, high) bounds taken before
and after the query, so a test never races the clock.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from typing import Any

from datto_sim import Simulator
from datto_sim import alerts as sim_alerts
from datto_sim import audits as sim_audits

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
SYSTEM_NAMES = {"Deleted Devices", "Managed", "OnDemand"}  # DATA_CONTRACT / API_FACTS


def when(ms: Any) -> datetime | None:
    """Epoch ms → aware UTC datetime (0, None and .NET MinValue: no date)."""
    if not ms or int(ms) <= 0:
        return None
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


def warranty(value: Any) -> date | None:
    """``yyyy-mm-dd`` or epoch ms → a date."""
    if isinstance(value, str):
        return date.fromisoformat(value)
    moment = when(value)
    return moment.date() if moment else None


def customer_sites(sim: Simulator) -> dict[str, str]:
    """uid → name of the customer (non-system) sites."""
    return {
        uid: s["name"]
        for uid, s in sim.sites.items()
        if GUID.match(uid) and s["name"] not in SYSTEM_NAMES
    }


def live_devices(sim: Simulator) -> dict[str, dict[str, Any]]:
    """The simulator's devices on customer sites (purged ones are gone from it)."""
    sites = customer_sites(sim)
    return {uid: d for uid, d in sim.devices.items() if d["siteUid"] in sites}


def status(device: dict[str, Any], block: str, key: str) -> str | None:
    """A status inside a nullable sub-object (``patchManagement``, ``antivirus``)."""
    return (device.get(block) or {}).get(key)


def kpi_flags(device: dict[str, Any]) -> tuple[bool, bool, bool, bool]:
    """(patch managed, fully patched, antivirus expected, protected) of one device."""
    patch = status(device, "patchManagement", "patchStatus")
    av = status(device, "antivirus", "antivirusStatus")
    return (
        patch is not None and patch != "NoPolicy",
        patch == "FullyPatched",
        device["deviceClass"] == "device",
        av == "RunningAndUpToDate",
    )


def open_alerts(sim: Simulator) -> dict[str, dict[str, Any]]:
    """Open alerts of live devices by uid."""
    live = live_devices(sim)
    return {
        a["alertUid"]: a
        for a in sim_alerts.book(sim).values()
        if not a["resolved"] and a["alertSourceInfo"]["deviceUid"] in live
    }


def hours_since(moment: datetime, now: datetime) -> float:
    """``age_hours``: one decimal, never negative."""
    return max(0.0, round((now - moment).total_seconds() / 3600, 1))


def whole_since(moment: datetime | None, now: datetime, seconds: int) -> int | None:
    """Whole days (86400) or minutes (60) since ``moment``, never negative."""
    if moment is None:
        return None
    return max(0, math.floor((now - moment).total_seconds() / seconds))


def alerts_resolved_daily(sim: Simulator) -> dict[tuple[date, str], tuple[int, float]]:
    """(day, site) → (resolved, mean hours to resolve) for customer sites."""
    sites, spans = customer_sites(sim), defaultdict(list)
    for a in sim_alerts.book(sim).values():
        site, resolved_on = a["alertSourceInfo"]["siteUid"], when(a["resolvedOn"])
        if a["resolved"] and resolved_on and site in sites:
            hours = (resolved_on - when(a["timestamp"])).total_seconds() / 3600  # type: ignore[operator]
            spans[(resolved_on.date(), site)].append(hours)
    return {k: (len(v), round(sum(v) / len(v), 1)) for k, v in spans.items()}


def alerts_raised_daily(sim: Simulator) -> Counter[tuple[date, str, str]]:
    """(day, site, priority) → alerts raised, for customer sites."""
    sites = customer_sites(sim)
    return Counter(
        (when(a["timestamp"]).date(), a["alertSourceInfo"]["siteUid"], a["priority"])  # type: ignore[union-attr]
        for a in sim_alerts.book(sim).values()
        if a["alertSourceInfo"]["siteUid"] in sites
    )


def antivirus_coverage(sim: Simulator) -> dict[str, tuple[int, int, float]]:
    """site → (agents, protected, coverage %)."""
    agents: dict[str, list[bool]] = defaultdict(list)
    for d in live_devices(sim).values():
        _, _, expected, protected = kpi_flags(d)
        if expected:
            agents[d["siteUid"]].append(protected)
    return {s: (len(v), sum(v), round(100 * sum(v) / len(v), 1)) for s, v in agents.items()}


def software_inventory(sim: Simulator) -> Counter[tuple[str, str]]:
    """(name, version) → live agent devices whose software list has it."""
    counts: Counter[tuple[str, str]] = Counter()
    for uid, d in live_devices(sim).items():
        if d["deviceClass"] == "device" and when(d["lastAuditDate"]):
            titles = {
                (str(t["name"]), str(t.get("version") or ""))
                for t in sim_audits.software(sim, uid)
                if t.get("name")
            }
            counts.update(titles)
    return counts


def manufacturer(sim: Simulator, uid: str) -> str | None:
    """The agent audit's ``systemInfo.manufacturer``."""
    return (sim_audits.audit(sim, uid).get("systemInfo") or {}).get("manufacturer")
