"""Spoiled items in lists (issue 9): one bad item must not cost a client its whole resource.

``bad_items=("GET /v2/account/devices",)`` (or ``("lists",)``, see :mod:`datto_sim.hostile`
for selectors) spoils ``bad_item_count`` items of each selected list; the rest of every page
stays as it was. The kinds (``bad_item_kinds``, used in turn, each on an item it fits):

- ``surrogate``: a lone UTF-16 surrogate in a name (JSON ``"\\ud800"``);
- ``huge_id``: an integer id of 10**30 (past any 64-bit column);
- ``list_for_string``: a list where a name string belongs;
- ``long_uid``: a 10 kB key (``uid``, ``alertUid``, ``id``, ``username``);
- ``bad_time``: a non-null time that cannot be read (``"yesterday"``).

Which items are spoiled depends only on the seed and each item's key (the ``bad_item_count``
keys of the list that hash lowest), so a list is spoiled the same way on every request and
every page size. :func:`pick_bad` tells it for a list in hand; :func:`served` tells which
items went out spoiled, by request path, so a test can check that their neighbours landed.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from datto_sim.hostile import selected
from datto_sim.server import TIME_KEYS, Request, Router

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 930  # generation order (the last middleware)

KEY_FIELDS = ("uid", "alertUid", "id", "username", "name")  # what identifies an item
NAME_FIELDS = ("name", "hostname", "siteName", "lastName", "firstName", "action", "diagnostics")
INT_FIELDS = ("id", "deviceId", "siteId")
TIME_FIELDS = (*sorted(TIME_KEYS), "date")
LONG = 10_240  # characters of a long key
SURROGATE = "\ud800"  # json.dumps writes it as the escape "\ud800"; no UTF-8 can hold it


def _field(item: dict[str, Any], fields: tuple[str, ...], kind: type | tuple[type, ...]) -> str:
    """The first of ``fields`` whose value is of ``kind`` ("" if none; booleans never count)."""
    return next(
        (f for f in fields if isinstance(item.get(f), kind) and not isinstance(item.get(f), bool)),
        "",
    )


def item_key(item: dict[str, Any]) -> str | None:
    """The value that identifies ``item`` in its list, as a string (None: nothing does)."""
    field = _field(item, KEY_FIELDS, (str, int))
    return str(item[field]) if field else None


def spoil(item: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """A spoiled copy of ``item`` (None when ``kind`` does not fit it)."""
    if kind in ("surrogate", "list_for_string"):
        field = _field(item, NAME_FIELDS, str)
        value: Any = (
            f"{item.get(field)} {SURROGATE}" if kind == "surrogate" else [item.get(field), "x"]
        )
    elif kind == "huge_id":
        field, value = _field(item, INT_FIELDS, int), 10**30
    elif kind == "long_uid":
        field = _field(item, KEY_FIELDS, str)
        value = f"{item.get(field)}-".ljust(LONG, "x")
    elif kind == "bad_time":
        field = next((f for f in TIME_FIELDS if item.get(f) not in (None, 0, "")), "")
        value = "yesterday"
    else:
        raise ValueError(f"unknown bad item kind {kind!r}")
    return {**item, field: value} if field else None


def _rank(seed: int, key: str) -> bytes:
    return hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()


def pick_bad(sim: Simulator, items: list[dict[str, Any]]) -> dict[str, str]:
    """Which of ``items`` (a whole list) are spoiled, and how: ``{item key: kind}``."""
    s = sim.settings
    keyed = [(k, item) for item in items if (k := item_key(item)) is not None]
    keyed.sort(key=lambda pair: _rank(s.seed, pair[0]))
    kinds = s.bad_item_kinds
    out: dict[str, str] = {}
    for n, (key, item) in enumerate(keyed[: s.bad_item_count]):
        turn = [kinds[(n + i) % len(kinds)] for i in range(len(kinds))]
        kind = next((k for k in turn if spoil(item, k) is not None), None)
        if kind:
            out[key] = kind
    return out


def served(sim: Simulator) -> dict[str, dict[str, str]]:
    """Items that went out spoiled so far: ``{request path: {item key: kind}}``."""
    with sim.lock:
        record: dict[str, dict[str, str]] = sim.__dict__.setdefault("bad_served", {})
        return {path: dict(found) for path, found in record.items()}


def shape(
    sim: Simulator, req: Request, universe: list[dict[str, Any]], page: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A shaper (see ``Simulator.shape``): spoil the page's items that :func:`pick_bad`
    picks from the whole list."""
    s = sim.settings
    if not s.bad_items or not selected(s.bad_items, req.endpoint):
        return page
    bad = pick_bad(sim, universe)
    out = []
    hits = {}
    for item in page:
        key = item_key(item)
        spoiled = spoil(item, bad[key]) if key in bad else None
        if key is not None and spoiled is not None:
            hits[key] = bad[key]
        out.append(spoiled or item)
    if hits:
        with sim.lock:
            sim.__dict__.setdefault("bad_served", {}).setdefault(req.path, {}).update(hits)
    return out


def generate(sim: Simulator) -> None:
    """Install the shaper."""
    sim.shapers.append(shape)


def register(router: Router) -> None:
    """No routes of its own."""
