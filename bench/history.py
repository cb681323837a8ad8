"""``python -m bench history``: the local cost of history, a 2,000-device account, 30 days.

The same account lives 30 simulated days twice, into two SQLite files: history on, history
off. Each day the simulator's clock (and the tool's, handed to ``run_sync``) moves a day,
some devices change (patch status, online and last seen, a few hostnames, OS upgrades,
site moves, antivirus swaps) and 5% of the agents audit again (software added, removed,
upgraded); then sites, devices and software sync. Printed: rows written per second of sync
with and without history (the ratio is the local cost; requests are the same, checked),
and the database size history adds per device-year: the one-off first day (every device,
site and installed title opened) apart from the growth over the next 29 days, scaled to
365 days. Times are real seconds: the requests are the same on both sides, so their ratio
is the local cost; sizes are measured after ``VACUUM``.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import time
from pathlib import Path

from datto_sim import Simulator
from datto_sim import audits as sim_audits
from datto_sim import devices as sim_devices
from etl.db.engine import make_engine
from etl.demo import demo_settings
from etl.sync import run_sync

DEVICES, SITES, DAYS = 2_000, 50, 30
NAMES = ["sites", "devices", "device_software"]
SCALE = 50.0  # the first day's 2,000 software lists would otherwise wait on the rate limit
DAY = 86_400.0
OSES = ["Microsoft Windows 11 Pro 10.0.26100", "Ubuntu 24.04 LTS", "macOS Sequoia 15.1"]


def change(sim: Simulator, rng: random.Random) -> None:
    """One day of an account's life."""
    now = sim.now_ms()
    customer = [u for u, s in sim.sites.items() if s["name"] not in sim_devices.SYSTEM_SITES]
    with sim.lock:
        live = [d for d in sim.devices.values() if not d["deleted"]]
        agents = [d for d in live if d["deviceClass"] == "device"]
        for d in live:
            d["online"] = rng.random() < 0.7
            if d["online"]:
                d["lastSeen"] = now
        for d in rng.sample(agents, len(agents) // 30):
            d["patchManagement"]["patchStatus"] = rng.choice(["FullyPatched", "InstallError"])
        for d in rng.sample(agents, 4):
            d["hostname"] = f"{d['hostname'].split('~')[0]}~{rng.randrange(1000)}"
        for d in rng.sample(agents, 4):
            d["operatingSystem"] = rng.choice(OSES)
        for d in rng.sample(agents, 2):
            d["antivirus"] = {"antivirusProduct": "Sophos", "antivirusStatus": "NotRunning"}
        for d in rng.sample(agents, 2):
            site = sim.sites[rng.choice(customer)]
            d.update(siteUid=site["uid"], siteId=site["id"], siteName=site["name"])
        chosen = [d["uid"] for d in rng.sample(agents, len(agents) // 20)]
    for uid in chosen:
        sim_audits.reaudit(sim, uid)


def size(db: Path) -> int:
    """Bytes of the database file after VACUUM."""
    with sqlite3.connect(db) as conn:
        conn.execute("VACUUM")
    return db.stat().st_size


def live(enabled: bool, tmp: str) -> tuple[float, int, int, dict[str, int], list[int]]:
    """30 days of one account: seconds, rows written, history rows, requests, sizes
    (after day 1 and after day 30)."""
    db = Path(tmp) / f"history-{'on' if enabled else 'off'}.db"
    rng = random.Random(30)
    with Simulator(devices=DEVICES, sites=SITES, time_scale=SCALE) as sim:
        settings = demo_settings(sim, f"sqlite:///{db}", state_dir=tmp)
        history = settings.history.model_copy(update={"enabled": enabled})
        settings = settings.model_copy(update={"history": history})
        engine = make_engine(settings.database.url)
        seconds, written, kept, sizes = 0.0, 0, 0, []
        for day in range(DAYS):
            if day:
                sim.clock.advance(DAY)
                change(sim, rng)
            started = time.monotonic()
            report = run_sync(settings, NAMES, engine=engine, clock=sim.clock.now_dt)
            seconds += time.monotonic() - started
            assert report.ok, report
            written += sum(r.rows_written for r in report.resources)
            kept += sum(r.details.get("history_rows", 0) for r in report.resources)
            if day in (0, DAYS - 1):
                engine.dispose()
                sizes.append(size(db))
        engine.dispose()
        requests = {k: n for k, n in sim.counts().items() if "request_rate" not in k}
    return seconds, written, kept, requests, sizes


def main() -> None:
    """Print the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        on = live(True, tmp)
        off = live(False, tmp)
    (s_on, w_on, h_on, r_on, z_on), (s_off, w_off, _, r_off, z_off) = on, off
    print(f"{DEVICES} devices, {SITES} sites, {DAYS} simulated days, SQLite")
    print(f"  requests the same with and without history: {r_on == r_off}")
    print(
        f"  history on : {s_on:.1f} s, {w_on} mirror rows + {h_on} history rows, "
        f"{(w_on + h_on) / s_on:.0f} rows/s"
    )
    print(f"  history off: {s_off:.1f} s, {w_off} mirror rows, {w_off / s_off:.0f} rows/s")
    print(f"  sync time with history / without = {s_on / s_off:.2f}")
    first = (z_on[0] - z_off[0]) / DEVICES
    growth = ((z_on[1] - z_on[0]) - (z_off[1] - z_off[0])) / DEVICES * 365 / (DAYS - 1)
    print(f"  database size history adds: first day {first / 1024:.1f} KiB per device (once),")
    print(f"  then {growth / 1024:.1f} KiB per device-year ({growth * DEVICES / 2**20:.0f} MiB a "
          f"year for {DEVICES} devices)")  # fmt: skip
