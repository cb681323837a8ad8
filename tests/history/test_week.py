"""A simulated week of changes: every history table equals what the changes imply.

The simulator's clock and the tool's clock move together, a day at a time; each day some
devices change (hostname, site, OS, antivirus, patch status), audit again (software added,
removed, upgraded), are deleted or purged and come back, and a site is renamed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from datto_sim import Simulator
from datto_sim import audits as sim_audits
from datto_sim import devices as sim_devices
from etl.db.engine import make_engine
from etl.sync import SyncReport, run_sync
from tests.conftest import settings_for
from tests.history.model import Model, chained, counts, stored
from tests.resources.helpers import small_sim

NAMES = ["sites", "devices", "device_software"]
DAY = 86_400.0


class Week:
    """A small account, its model, and a sync on the shared clock."""

    def __init__(self, sim: Simulator, engine: Engine) -> None:
        self.sim, self.engine, self.model = sim, engine, Model()
        agents = [u for u, d in sim.devices.items() if d["deviceClass"] == "device"]
        self.d = agents  # the devices the days change, by position
        others = [s for s in sim.sites.values() if s["name"] not in sim_devices.SYSTEM_SITES]
        self.customer = [s["uid"] for s in others]

    def sync(self) -> SyncReport:
        """One sync of the three resources, fed to the model."""
        times: list[datetime] = []

        def clock() -> datetime:
            times.append(self.sim.clock.now_dt())
            return times[-1]

        report = run_sync(settings_for(self.sim), NAMES, engine=self.engine, clock=clock)
        self.model.observe(self.sim, report, times)
        return report

    def check(self) -> None:
        """The database holds exactly what the model says."""
        got = stored(self.engine)
        assert got.sites == self.model.sites
        assert got.devices == self.model.devices
        assert got.daily == self.model.daily
        assert got.software == self.model.software
        chained(got.devices)
        chained(got.sites)

    def change(self, n: int, **fields: Any) -> None:
        with self.sim.lock:
            self.sim.devices[self.d[n]].update(fields)

    def patch(self, n: int, status: str) -> None:
        with self.sim.lock:
            self.sim.devices[self.d[n]]["patchManagement"]["patchStatus"] = status

    def move(self, n: int, site_uid: str) -> None:
        site = self.sim.sites[site_uid]
        self.change(n, siteUid=site_uid, siteId=site["id"], siteName=site["name"])


def history_rows(report: SyncReport) -> int:
    """History rows the sync's resources wrote."""
    return sum(line.details.get("history_rows", 0) for line in report.resources)


def day(week: Week, *changes: Callable[[], object]) -> SyncReport:
    """A day passes, the changes happen, one sync runs; the tables match the model."""
    week.sim.clock.advance(DAY)
    for change in changes:
        change()
    report = week.sync()
    week.check()
    return report


def test_a_week_of_changes(engine: Engine) -> None:
    with small_sim(devices=40, sites=4, seed=12) as sim:
        w = Week(sim, engine)
        first = w.sync()  # day 0: the first sync opens every device and site
        w.check()
        assert history_rows(first) == sum(counts(engine).values())
        assert counts(engine)["device_history"] == sum(
            not d["deleted"] for d in sim.devices.values()
        )
        reaudit = sim_audits.reaudit
        day(
            w,
            lambda: w.change(0, hostname="RENAMED-0"),
            lambda: w.change(1, operatingSystem="Microsoft Windows 11 Pro 10.0.26100"),
            lambda: w.patch(2, "InstallError"),
            lambda: reaudit(sim, w.d[3]),
        )
        moved_to = next(s for s in w.customer if s != sim.devices[w.d[4]]["siteUid"])
        day(
            w,
            lambda: w.move(4, moved_to),
            lambda: w.change(
                5, antivirus={"antivirusProduct": "Sophos", "antivirusStatus": "NotRunning"}
            ),
            lambda: sim_devices.delete_device(sim, w.d[6]),
            lambda: sim.sites[w.customer[0]].update(name="Renamed Customer"),
        )
        purged = sim.devices[w.d[7]]
        day(w, lambda: sim_devices.purge_device(sim, w.d[7]), lambda: w.patch(2, "FullyPatched"))
        # a second sync the same day: the day's row follows the last sync, versions chain on
        sim.clock.advance(3600)
        w.patch(8, "RebootRequired")
        w.change(0, hostname="RENAMED-AGAIN")
        w.sync()
        w.check()
        day(
            w,
            lambda: sim_devices.restore_device(sim, sim.devices[w.d[6]], w.customer[1]),
            lambda: reaudit(sim, w.d[3]),
            lambda: reaudit(sim, w.d[9]),
        )
        day(w, lambda: sim_devices.restore_device(sim, purged, w.customer[0]))
        before = counts(engine)
        quiet = day(w)  # day 6: nothing changed, only the new day's postures
        after = counts(engine)
        assert history_rows(quiet) == after["device_daily"] - before["device_daily"] > 0
        assert {k: v for k, v in after.items() if k != "device_daily"} == {
            k: v for k, v in before.items() if k != "device_daily"
        }
        sim.clock.advance(3600)
        again = w.sync()  # the same day, still no change: not one history row
        w.check()
        assert history_rows(again) == 0 and counts(engine) == after
        # the changes are all there: two versions or more for each changed device
        versions = stored(engine).devices
        for n in (0, 1, 4, 5, 6, 7):
            assert sum(uid == w.d[n] for uid, _ in versions) >= 2, n


def test_history_off_writes_nothing_and_costs_no_request(engine: Engine, tmp_path: Path) -> None:
    counted: list[dict[str, int]] = []
    for enabled in (True, False):
        if not enabled:  # the same first sync into an empty database, without history
            engine = make_engine(f"sqlite:///{tmp_path / 'off.db'}")
        with small_sim(devices=40, sites=4, seed=12) as sim:
            settings = settings_for(sim)
            settings = settings.model_copy(
                update={"history": settings.history.model_copy(update={"enabled": enabled})}
            )
            report = run_sync(settings, NAMES, engine=engine)
            assert report.ok
            # calibration asks for the rate on a timer: the data requests are what count here
            counted.append({k: n for k, n in sim.counts().items() if "request_rate" not in k})
            if not enabled:
                assert history_rows(report) == 0
    assert counted[0] == counted[1]
