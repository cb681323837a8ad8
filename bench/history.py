"""``python -m bench history``: the local cost of history, a 2,000-device account, 30 days.

The same account lives 30 simulated days twice, into two SQLite files: history on, history
off. Each day the simulator's clock (and the tool's, handed to ``run_sync``) moves a day,
some devices change (patch status, online and last seen, a few hostnames, OS upgrades,
site moves, antivirus swaps) and 5% of the agents audit again (software added, removed,
upgraded); then sites, devices and software sync. Printed: rows written per second of sync
with and without history (the ratio is the local cost; requests are the same, checked),
and the database size history adds per device-year: the one-off first day (every device,
site and installed title opened) apart from the growth over the next 29 days, scaled to
365 days; each history table's bytes after 30 days; then how long the patch-compliance
view takes for the last 30 days with 30 days of ``device_daily`` stored and with a year of
it (the days before filled with copies: 730k rows). Times are real seconds: the requests
are the same on both sides, so their ratio is the local cost; sizes after ``VACUUM``.
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


HISTORY = ("device_daily", "device_software_history", "device_history", "site_history")


def by_table(db: Path) -> dict[str, int]:
    """Bytes of each history table with its indexes (SQLite's dbstat)."""
    marks = ", ".join("?" for _ in HISTORY)
    query = (
        "SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat s JOIN sqlite_master m ON m.name = s.name "
        f"WHERE m.tbl_name IN ({marks}) GROUP BY m.tbl_name"
    )
    with sqlite3.connect(db) as conn:
        return {name: int(size) for name, size in conn.execute(query, HISTORY)}


def window(db: Path, days: int) -> float:
    """Median seconds of the account's compliance per day over the last ``days`` days (the
    bounds as parameters, as the report sends them)."""
    query = (
        "SELECT day, SUM(fully_patched), SUM(devices) FROM v_patch_compliance_daily "
        "WHERE account_uid = ? AND day > date(?, ?) GROUP BY day"
    )
    times = []
    with sqlite3.connect(db) as conn:
        account, last, stored = conn.execute(
            "SELECT MIN(account_uid), MAX(day), COUNT(DISTINCT day) FROM device_daily"
        ).fetchone()
        for _ in range(5):
            started = time.perf_counter()
            found = conn.execute(query, (account, last, f"-{days} days")).fetchall()
            times.append(time.perf_counter() - started)
    assert len(found) == min(days, stored), (len(found), days, stored)
    return sorted(times)[2]


def year(db: Path) -> int:
    """Fill ``device_daily`` back to 365 days (copies of the first day's rows); its rows."""
    with sqlite3.connect(db) as conn:
        first, have = conn.execute(
            "SELECT MIN(day), COUNT(DISTINCT day) FROM device_daily"
        ).fetchone()
        columns = [r[1] for r in conn.execute("PRAGMA table_info(device_daily)")]
        picked = ", ".join("date(day, ?)" if c == "day" else c for c in columns)
        for back in range(1, 366 - have):
            conn.execute(
                f"INSERT INTO device_daily ({', '.join(columns)}) "
                f"SELECT {picked} FROM device_daily WHERE day = ?",
                (f"-{back} days", first),
            )
        return int(conn.execute("SELECT COUNT(*) FROM device_daily").fetchone()[0])


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
        db = Path(tmp) / "history-on.db"
        tables = by_table(db)
        month = window(db, 30)
        rows = year(db)
        month_of_year, whole_year = window(db, 30), window(db, 365)
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
    sizes = ", ".join(f"{name} {size / 2**20:.1f} MiB" for name, size in tables.items())
    print(f"  after {DAYS} days: {sizes}")
    print(f"  v_patch_compliance_daily, last 30 days: {month * 1000:.0f} ms with 30 days stored,")
    print(f"  {month_of_year * 1000:.0f} ms with a year stored ({rows} device_daily rows): "
          f"x{month_of_year / month:.2f}; the whole year: {whole_year * 1000:.0f} ms")  # fmt: skip
