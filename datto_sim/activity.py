"""Activity logs of the simulated account, paged as the live API pages them.

``GET /v2/activity-logs?from=…&until=…&size=N&order=asc|desc`` (times ``yyyy-MM-ddTHH:mm:ssZ``;
without ``from`` only the last 15 minutes). Pages are ``size`` long (``max`` is ignored);
``nextPageUrl`` carries ``searchAfter=epochMs,uuid&page=next`` and is present on every
non-empty page, the last one included, where it leads to an empty list (API_FACTS.md).
Entries older than :data:`RETENTION_DAYS` (Datto keeps 180 days) are no longer answered.
``date`` is epoch seconds with a fraction (seen) or, with ``activity_date_unit="ms"``,
epoch ms (what Datto's documentation says); ``details`` is a JSON *string* whose dates are
epoch ms either way. Job entries (entity ``DEVICE``, category ``job``) come from
:mod:`datto_sim.jobs`, which builds them with :func:`envelope`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from datto_sim.server import Request, Response, Router, error, page_url

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 110  # generation order

HISTORY_DAYS = 120  # days of generated entries
RETENTION_DAYS = 180  # Datto answers no entry older than this (API_FACTS.md, issue 13)
DEFAULT_SIZE = 20
KINDS = [
    ("DEVICE", "patch", "audit"),  # job entries come from datto_sim.jobs, with real jobs
    ("DEVICE", "device", "move.device"),
    ("DEVICE", "remote", "remote.session"),
    ("DEVICE", "device", "note"),
    ("USER", "user", "login"),
    ("USER", "user", "update"),
]
FILTERS = ("from", "until", "entities", "categories", "actions", "siteIds", "userIds")


def activities(sim: Simulator) -> list[dict[str, Any]]:
    """Every entry, oldest first by (date, id): the simulator's ground truth."""
    return sim.__dict__["activities"]


def sort_key(entry: dict[str, Any]) -> tuple[int, str]:
    """The (epoch ms, id) pair searchAfter points at."""
    return round(entry["date"] * 1000), entry["id"]


def envelope(
    sim: Simulator,
    at_ms: int,
    kind: tuple[str, str, str],
    device: dict[str, Any] | None,
    site: dict[str, Any] | None,
    user: dict[str, Any] | None,
    details: dict[str, Any],
    *,
    uid: str,
    std: tuple[bool, bool] = (False, False),
) -> dict[str, Any]:
    """One entry in the API's shape: ``kind`` is (entity, category, action); ``details``
    goes out as a JSON string."""
    from datto_sim.users import user_id

    entity, category, action = kind
    return {
        "id": uid,
        "entity": entity,
        "category": category,
        "action": action,
        "date": at_ms / 1000,  # epoch seconds with a fraction, as live
        "site": {"id": site["id"], "name": site["name"]} if site else None,
        "deviceId": device["id"] if device else None,
        "hostname": device["hostname"] if device else None,
        "user": {
            "id": user_id(sim, user),
            "userName": user["username"],
            "firstName": user["firstName"],
            "lastName": user["lastName"],
        }
        if user
        else None,
        "details": json.dumps(details),
        "hasStdOut": std[0],
        "hasStdErr": std[1],
    }


def make_entry(
    sim: Simulator, at_ms: int, devices: list[dict[str, Any]], sites: list[dict[str, Any]]
) -> dict[str, Any]:
    """One entry at ``at_ms`` in the API's shape, about one of ``devices`` or ``sites``."""
    from datto_sim.core import guid
    from datto_sim.users import users

    rng = sim.rng
    kind = rng.choice(KINDS)
    entity, category, action = kind
    device = rng.choice(devices) if devices and entity == "DEVICE" else None
    site = sim.sites.get(device["siteUid"]) if device else rng.choice(sites)
    people = users(sim)
    user = rng.choice(people) if people else None
    details = {
        "entity": entity,
        "event.action": action,
        "event.category": category,
        "ref.uid": guid(rng),
        "ref.date": at_ms - rng.randint(0, 3_600_000),  # inner dates: epoch ms
    }
    if action == "login":
        details = {"ip": f"198.51.100.{rng.randint(1, 254)}", "loginDate": at_ms}
    uid = guid(rng)
    if action == "audit":
        rng.random()  # the draw of the old job entries' hasStdErr: the seeded data stays put
    return envelope(sim, at_ms, kind, device, site, user, details, uid=uid)


def generate(sim: Simulator) -> None:
    """A spread of entries over the last :data:`HISTORY_DAYS` days."""
    now = sim.now_ms()
    span = HISTORY_DAYS * 86_400_000
    count = sim.settings.sites * 8 + sim.settings.devices // 4
    devices, sites = list(sim.devices.values()), list(sim.sites.values())
    entries = [
        make_entry(sim, now - sim.rng.randint(1, span), devices, sites) for _ in range(count)
    ]
    entries.sort(key=sort_key)
    sim.__dict__["activities"] = entries


def add_activity(sim: Simulator, n: int = 1, at_ms: int | None = None) -> list[dict[str, Any]]:
    """``n`` new entries, at ``at_ms`` (all the same moment) or at the simulated now."""
    with sim.lock:
        devices, sites = list(sim.devices.values()), list(sim.sites.values())
        new = [make_entry(sim, at_ms or sim.now_ms(), devices, sites) for _ in range(n)]
        entries = activities(sim)
        entries.extend(new)
        entries.sort(key=sort_key)
    return new


def _parse_time(value: str) -> float:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def register(router: Router) -> None:
    """Routes of this module."""

    @router.get("/v2/activity-logs")
    def activity_logs(sim: Simulator, req: Request) -> Response:
        q = req.query
        try:
            since = _parse_time(q["from"]) if q.get("from") else sim.clock.now() - 900
            until = _parse_time(q["until"]) if q.get("until") else None
            size = max(1, min(int(q.get("size") or DEFAULT_SIZE), 1000))
            after = q["searchAfter"].split(",", 1) if q.get("searchAfter") else None
            after_key = (int(after[0]), after[1]) if after else None
        except (ValueError, IndexError):
            return error(400, "from/until must be yyyy-MM-ddTHH:mm:ssZ; size an integer", req.path)
        order = q.get("order") or "desc"
        wanted = {
            key: set(q[key].split(","))
            for key in ("entities", "categories", "actions", "siteIds", "userIds")
            if q.get(key)
        }

        def keep(e: dict[str, Any]) -> bool:
            fields = {
                "entities": e["entity"].lower(),
                "categories": e["category"],
                "actions": e["action"],
                "siteIds": str((e.get("site") or {}).get("id")),
                "userIds": str((e.get("user") or {}).get("id")),
            }
            return (
                e["date"] >= since
                and (until is None or e["date"] <= until)
                and all(
                    fields[k] in {v.lower() if k == "entities" else v for v in vals}
                    for k, vals in wanted.items()
                )
            )

        oldest = sim.clock.now() - RETENTION_DAYS * 86_400  # older entries are gone from Datto
        with sim.lock:
            items = [e for e in activities(sim) if e["date"] >= oldest and keep(e)]
        total = len(items)
        if order == "desc":
            items.reverse()
        if after_key is not None:
            forward = (q.get("page") or "next") == "next"
            later = forward == (order == "asc")  # entries after the key in time, or before
            items = [
                e for e in items if (sort_key(e) > after_key if later else sort_key(e) < after_key)
            ]
            if not forward:
                items = items[-size:]
        chunk = items[:size]
        filters = {} if sim.settings.drop_filters else {k: q[k] for k in FILTERS if q.get(k)}
        link = None
        if chunk:  # present even on the last page: it then leads to an empty list
            ms, uid = sort_key(chunk[-1])
            link = page_url(
                sim.link_origin,
                req.path,
                {
                    **filters,
                    "size": size,
                    "order": order,
                    "searchAfter": f"{ms},{uid}",
                    "page": "next",
                },
            )
        details = {
            "count": len(chunk),
            "totalCount": total,
            "prevPageUrl": None,
            "nextPageUrl": link,
        }
        if sim.settings.activity_date_unit == "ms":
            chunk = [{**e, "date": on_wire_ms(e["date"])} for e in chunk]
        with sim.lock:
            chunk = sim.shape(req, activities(sim), chunk)
        return Response(200, {"pageDetails": details, "activities": chunk})


def on_wire_ms(date: Any) -> Any:
    """An entry's ``date`` (epoch seconds) as epoch ms, the documented unit (spoiled ones as
    they are)."""
    return round(date * 1000) if isinstance(date, int | float) else date
