"""``python -m bench perf``: the write path's cost per row, on SQLite and PostgreSQL.

A simulated account (``BENCH_PERF_ALERTS`` alerts, default 100,000, 2 % open; 5,000
devices in 50 sites) is backfilled (sites, devices, alerts), then synced again with no
change. The simulator runs in this process; every sync runs in a fresh child process, so
its figures are its own:

- **rows per CPU-second** (and µs per row): rows written ÷ the child's user+system CPU
  time over the whole sync (HTTP, JSON, mapping and SQL alike; target ≥ 35,000);
- **bytes written per stored row**: SQLite: the child's ``/proc/self/io`` ``write_bytes``
  (the database file, its journal or WAL); PostgreSQL: the WAL the server wrote meanwhile
  (``pg_current_wal_lsn``, the whole server: other sessions' writes count too);
- **requests ÷ least possible**: every request the simulator answered (the account, each
  list page once) against the least any client could send: one ``GET /v2/account``, every
  page of 250 once on the first sync, and the open-alert list, one resolved page and the
  site and device lists again on the no-change sync (targets ≤ 1.01 and 1.00);
- **peak memory** (the child's ``ru_maxrss``) at that many alerts (target ≤ 150 MB at 1M).

"before" figures come from ``BENCH_PERF_BEFORE`` (a JSON file ``BENCH_PERF_SAVE`` wrote),
by default ``bench/perf_baseline.json``: main at 1e60afc (before the bulk write path),
100,000 alerts, measured on the 2-core development machine while other test runs shared
it. ``BENCH_PERF_DIALECTS`` (default ``sqlite,postgresql``) picks the dialects.
PostgreSQL is ``DATTO_ETL_BENCH_PG`` as in the alerts bench; a throwaway database is made
there and dropped.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.alerts import pg_database
from datto_sim import Simulator

BASELINE = Path(__file__).with_name("perf_baseline.json")
SCALE = 60.0  # the budget's 60 s window passes in one real second
PAGE = 250
DEVICES, SITES = 5_000, 50
RESOURCES = ["account", "sites", "devices", "alerts"]
TARGET_ROWS_PER_CPU_S = 35_000
TARGET_FIRST, TARGET_AGAIN = 1.01, 1.00
TARGET_MB_AT_1M = 150
# Not data, counted apart: the token, the budget's calibration (its rate follows the
# simulated clock) and the platform status recorded with the runs (once per sync).
MACHINERY = ("POST /auth/oauth/token", "GET /v2/system/request_rate", "GET /v2/system/status")


def least(sim: Simulator, first: bool) -> int:
    """The fewest requests any client could send for this sync."""
    live_devices = sum(1 for d in sim.devices.values() if not d.get("deleted"))
    pages = 1 + math.ceil(len(sim.sites) / PAGE) + math.ceil(live_devices / PAGE)
    pages += math.ceil(sim.settings.alerts_open / PAGE)
    return pages + (math.ceil(sim.settings.alerts_resolved / PAGE) if first else 1)


# -- the child: one sync, measured -------------------------------------------------------


def _proc(file: str, field: str) -> int:
    """A number from ``/proc/self/<file>`` (``write_bytes`` of io, ``VmHWM`` of status)."""
    for line in Path("/proc/self", file).read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _wal_lsn(url: str) -> int | None:
    if not url.startswith("postgresql"):
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT pg_current_wal_lsn() - '0/0'")).scalar_one())
    finally:
        engine.dispose()


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one sync as ``spec`` says; return its figures (run in a fresh process)."""
    from pydantic import SecretStr

    from etl.config import BudgetSettings, DatabaseSettings, DattoSettings, Settings
    from etl.db.engine import make_engine
    from etl.db.migrate import upgrade
    from etl.sync import run_sync

    settings = Settings(
        datto=DattoSettings(
            api_url=spec["api_url"],
            api_key=SecretStr(spec["key"]),
            api_secret=SecretStr(spec["secret"]),
        ),
        database=DatabaseSettings(url=spec["db"]),
        budget=BudgetSettings(window_seconds=60.0 / SCALE, state_dir=spec["state_dir"]),
    )
    engine = make_engine(spec["db"])
    upgrade(engine)  # not measured: a new database's tables
    wal0 = _wal_lsn(spec["db"])
    io0, cpu0, wall0 = (
        _proc("io", "write_bytes"),
        resource.getrusage(resource.RUSAGE_SELF),
        time.time(),
    )
    report = run_sync(settings, spec["resources"], engine=engine)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    written = _proc("io", "write_bytes") - io0
    wall = time.time() - wall0
    engine.dispose()
    wal1 = _wal_lsn(spec["db"])
    return {
        "ok": report.ok,
        "errors": [r.error for r in report.resources if r.error],
        "rows": sum(r.rows_written for r in report.resources),
        "cpu": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
        "wall": wall,
        "bytes": written if wal0 is None or wal1 is None else wal1 - wal0,
        # VmHWM, not ru_maxrss: that one keeps the parent's peak from before the fork
        "maxrss_mb": _proc("status", "VmHWM") / 1024,
    }


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """:func:`child` in a fresh interpreter; its JSON answer."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.perf", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench perf: the sync failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# -- the parent ----------------------------------------------------------------------------


def measure(sim: Simulator, db: str, state_dir: str) -> dict[str, Any]:
    """First and no-change sync into ``db``; their figures with the request ratios."""
    spec = {
        "api_url": sim.url,
        "key": sim.settings.api_key,
        "secret": sim.settings.api_secret,
        "db": db,
        "state_dir": state_dir,
        "resources": RESOURCES,
    }
    out: dict[str, Any] = {}
    for label, first in (("first", True), ("again", False)):
        sim.reset_records()
        figures = run_child(spec)
        counts = sim.counts()
        machinery = sum(counts[e] for e in MACHINERY)
        figures["requests"] = sum(counts.values()) - machinery
        figures["machinery"] = machinery
        figures["least"] = least(sim, first)
        out[label] = figures
    return out


def show(name: str, now: dict[str, Any], before: dict[str, Any] | None, alerts: int) -> None:
    """Print one dialect's figures (and the earlier ones, when known)."""
    first, again = now["first"], now["again"]

    def was(path: tuple[str, str], fmt: str) -> str:
        if not before:
            return ""
        value = before[path[0]][path[1]]
        return f"   (before: {fmt.format(value)})"

    rps = first["rows"] / first["cpu"]
    print(f"{name}:")
    if not (first["ok"] and again["ok"]):
        print(f"  FAILED: {first['errors'] + again['errors']}")
    print(
        f"  first sync        {first['rows']:,} rows in {first['cpu']:.2f} CPU-s "
        f"({first['wall']:.1f} s wall)"
    )
    before_rps = before["first"]["rows"] / before["first"]["cpu"] if before else None
    print(
        f"  rows per CPU-s    {rps:,.0f} (target >= {TARGET_ROWS_PER_CPU_S:,})"
        + (f"   (before: {before_rps:,.0f}, x{rps / before_rps:.2f})" if before_rps else "")
    )
    print(
        f"  µs per row        {1e6 / rps:.1f} (target <= {1e6 / TARGET_ROWS_PER_CPU_S:.1f})"
        + (f"   (before: {1e6 / before_rps:.1f})" if before_rps else "")
    )
    bpr = first["bytes"] / max(1, first["rows"])
    what = "write_bytes" if name == "sqlite" else "WAL bytes, whole server"
    line = f"  bytes per row     {bpr:,.0f} ({what})"
    if before:
        old = before["first"]["bytes"] / max(1, before["first"]["rows"])
        line += f"   (before: {old:,.0f}, {old / bpr:.2f}x lower; target >= 3x)"
    print(line)
    for label, figures, target in (
        ("first sync", first, TARGET_FIRST),
        ("no-change", again, TARGET_AGAIN),
    ):
        ratio = figures["requests"] / figures["least"]
        key = "first" if label == "first sync" else "again"
        old = ""
        if before:
            old = f"   (before: {before[key]['requests'] / before[key]['least']:.3f})"
        print(
            f"  requests {label:<11}{figures['requests']} / least {figures['least']} = "
            f"{ratio:.3f} (target <= {target:.2f}){old}"
        )
    print(
        f"                    (+{first['machinery']} and +{again['machinery']} token, "
        "calibration, platform status)"
    )
    print(
        f"  no-change sync    {again['rows']} rows written, {again['cpu']:.2f} CPU-s, "
        f"{again['bytes'] / 1e6:.1f} MB written"
    )
    print(
        f"  peak memory       {first['maxrss_mb']:.0f} MB at {alerts:,} alerts "
        f"(target <= {TARGET_MB_AT_1M} MB at 1,000,000)" + was(("first", "maxrss_mb"), "{:.0f} MB")
    )


def main() -> None:
    """Build the account once; measure both dialects; print (and maybe save) the figures."""
    n_alerts = int(os.environ.get("BENCH_PERF_ALERTS", "100000"))
    n_open = n_alerts // 50
    dialects = os.environ.get("BENCH_PERF_DIALECTS", "sqlite,postgresql").split(",")
    before_file = os.environ.get("BENCH_PERF_BEFORE", str(BASELINE))
    before = json.loads(Path(before_file).read_text()) if before_file else {}
    if before and before.get("alerts", 100_000) != n_alerts:
        print(f"before             measured at {before.get('alerts', 100_000):,} alerts")
    started = time.monotonic()
    sim = Simulator(
        devices=DEVICES,
        sites=SITES,
        alerts_open=n_open,
        alerts_resolved=n_alerts - n_open,
        alert_page_max=PAGE,
        time_scale=SCALE,
    )
    print(
        f"account            {n_alerts:,} alerts ({n_open:,} open), {DEVICES:,} devices, "
        f"{SITES} sites; built in {time.monotonic() - started:.1f} s"
    )
    figures: dict[str, Any] = {"alerts": n_alerts}
    with sim, tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_PERF_DIR")) as tmp:
        if "sqlite" in dialects:
            figures["sqlite"] = measure(sim, f"sqlite:///{tmp}/bench.db", tmp)
            show("sqlite", figures["sqlite"], before.get("sqlite"), n_alerts)
        with pg_database() as url:
            if url and "postgresql" in dialects:
                figures["postgresql"] = measure(sim, url, tmp)
                show("postgresql", figures["postgresql"], before.get("postgresql"), n_alerts)
    save = os.environ.get("BENCH_PERF_SAVE")
    if save:
        Path(save).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    if len(sys.argv) > 1:  # the child: one sync, its figures as one JSON line
        print(json.dumps(child(json.loads(sys.argv[1]))))
    else:
        main()
