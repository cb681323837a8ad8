"""What the history tables should hold, computed from the simulator's state after each sync.

The model follows the contract, not the code: a version per change of the tracked values,
closed when the item is gone; a device's day row rewritten only when its posture changed
(``observed_at`` then moves to that sync); a software title's row opened at the audit date
that first listed it and closed at the one that no longer did. Source values are mapped
with the resources' own specs (their mapping has its own tests).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, select

from datto_sim import Simulator
from datto_sim import audits as sim_audits
from etl.history.daily import POSTURE
from etl.history.tables import device_daily, device_history, device_software_history, site_history
from etl.history.versions import DEVICES, SITES
from etl.resources.devices import SPEC as DEVICE_SPEC
from etl.resources.devices import devices
from etl.resources.sites import SPEC as SITE_SPEC
from etl.resources.sites import sites
from etl.resources.software import device_software, device_software_audits, software_rows
from etl.sync import SyncReport

Versions = dict[tuple[str, datetime], tuple[datetime | None, tuple[Any, ...]]]


@dataclass
class Model:
    """The expected rows of the four history tables, fed one sync at a time."""

    devices: Versions = field(default_factory=dict)
    sites: Versions = field(default_factory=dict)
    daily: dict[tuple[str, Any], tuple[tuple[Any, ...], datetime]] = field(default_factory=dict)
    software: dict[tuple[str, str, str, datetime], datetime | None] = field(default_factory=dict)
    audited: dict[str, datetime | None] = field(default_factory=dict)  # last list taken

    def observe(self, sim: Simulator, report: SyncReport, times: list[datetime]) -> None:
        """The sync ``report`` just ran (``times``: each resource's start, in run order)."""
        started = {line.resource: t for line, t in zip(report.resources, times, strict=True)}
        assert report.ok, report
        site_rows = {uid: SITE_SPEC.row(s) for uid, s in sim.sites.items()}
        device_rows = {uid: DEVICE_SPEC.row(d) for uid, d in sim.devices.items()}
        live = {uid: r for uid, r in device_rows.items() if not r["deleted"]}
        if "sites" in started:
            _versions(self.sites, SITES.columns, site_rows, started["sites"])
        if "devices" in started:
            now = started["devices"]
            _versions(self.devices, DEVICES.columns, live, now)
            for uid, row in live.items():
                values = tuple(row[c] for c in POSTURE)
                key = (uid, now.date())
                if key not in self.daily or self.daily[key][0] != values:
                    self.daily[key] = (values, now)
        if "device_software" in started:
            self._software(sim, live, started["device_software"])

    def _software(self, sim: Simulator, live: dict[str, Any], now: datetime) -> None:
        for uid, row in live.items():
            audited = row["last_audit_date"]
            if row["device_class"] != "device" or (
                uid in self.audited and self.audited[uid] == audited
            ):
                continue
            self.audited[uid] = audited
            at = audited or now
            titles = {
                (r["name"], r["version"]) for r in software_rows(uid, sim_audits.software(sim, uid))
            }
            open_ = {
                (n, v): f
                for (u, n, v, f), gone in self.software.items()
                if u == uid and gone is None
            }
            for (name, version), first in open_.items():
                if (name, version) not in titles:
                    self.software[(uid, name, version, first)] = max(at, first)
            for name, version in titles - set(open_):
                self.software[(uid, name, version, at)] = None


def _versions(
    versions: Versions, columns: tuple[str, ...], rows: dict[str, dict[str, Any]], now: datetime
) -> None:
    """Close and open versions as a sync at ``now`` that sees ``rows`` (live items) implies."""
    current = {
        uid: (start, values) for (uid, start), (end, values) in versions.items() if end is None
    }
    for uid, row in rows.items():
        values = tuple(row[c] for c in columns)
        if uid in current and current[uid][1] == values:
            continue
        if uid in current:
            versions[(uid, current[uid][0])] = (now, current[uid][1])
        versions[(uid, now)] = (None, values)
    for uid, (start, values) in current.items():
        if uid not in rows:  # deleted or gone: the removal closes the version
            versions[(uid, start)] = (now, values)


def stored(engine: Engine) -> Model:
    """The same four tables as the database holds them."""
    got = Model()
    with engine.connect() as conn:
        for table, key, columns, into in (
            (device_history, "device_uid", DEVICES.columns, got.devices),
            (site_history, "site_uid", SITES.columns, got.sites),
        ):
            for r in conn.execute(select(table)):
                m = r._mapping
                into[(m[key], m["valid_from"])] = (m["valid_to"], tuple(m[c] for c in columns))
        for r in conn.execute(select(device_daily)):
            m = r._mapping
            got.daily[(m["device_uid"], m["day"])] = (
                tuple(m[c] for c in POSTURE),
                m["observed_at"],
            )
        for r in conn.execute(select(device_software_history)):
            got.software[(r.device_uid, r.name, r.version, r.first_seen_at)] = r.removed_at
    return got


def counts(engine: Engine) -> dict[str, int]:
    """Rows per history table."""
    tables: list[Table] = [device_history, site_history, device_daily, device_software_history]
    with engine.connect() as conn:
        return {t.name: len(conn.execute(select(t)).all()) for t in tables}


def chained(versions: Versions, gaps: bool = True) -> None:
    """Per key: no overlap, at most one open version, each closed one ends after it starts;
    without ``gaps`` (nothing came back after a removal) each version ends where the next
    begins."""
    by_key: dict[str, list[tuple[datetime, datetime | None]]] = {}
    for (uid, start), (end, _) in versions.items():
        by_key.setdefault(uid, []).append((start, end))
    for uid, spans in by_key.items():
        spans.sort()
        assert sum(end is None for _, end in spans) <= 1, uid
        for (start, end), (nxt, _) in itertools.pairwise(spans):
            assert end is not None and start <= end <= nxt, (uid, spans)
            assert gaps or end == nxt, (uid, spans)
        assert all(end is None or start <= end for start, end in spans), uid


def consistent(engine: Engine) -> None:
    """The history agrees with the mirror it was written beside: one open version per live
    device and site, equal to its row, none for a removed one; every device's open titles
    are its software list; the latest day has every live device's posture."""
    got = stored(engine)
    with engine.connect() as conn:
        device_rows = {r.uid: r._mapping for r in conn.execute(select(devices))}
        site_rows = {r.uid: r._mapping for r in conn.execute(select(sites))}
        lists = {r.device_uid for r in conn.execute(select(device_software_audits))}
        titles = {(r.device_uid, r.name, r.version) for r in conn.execute(select(device_software))}
    for versions, mirror, columns in (
        (got.devices, device_rows, DEVICES.columns),
        (got.sites, site_rows, SITES.columns),
    ):
        chained(versions, gaps=False)
        current = {uid: values for (uid, _), (end, values) in versions.items() if end is None}
        assert {uid for uid, _ in versions} <= set(mirror)
        live = {uid: r for uid, r in mirror.items() if r["removed_at"] is None}
        assert current == {uid: tuple(r[c] for c in columns) for uid, r in live.items()}
    installed = {(u, n, v) for (u, n, v, _), gone in got.software.items() if gone is None}
    assert installed == titles
    assert {u for u, *_ in got.software} <= lists
    last = max(d for _, d in got.daily)
    today = {u: values for (u, d), (values, _) in got.daily.items() if d == last}
    live_devices = {u: r for u, r in device_rows.items() if r["removed_at"] is None}
    want = {u: tuple(r[c] for c in POSTURE) for u, r in live_devices.items()}
    # a device removed since an earlier sync of the same day keeps that sync's row
    assert {u: v for u, v in today.items() if u in want} == want
