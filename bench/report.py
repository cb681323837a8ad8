"""``python -m bench report``: the HTML report of a 2,000-device account with 90 days of history.

A simulated account (2,000 devices on 50 sites, 9,000 resolved and 300 open alerts over its
120 days) is synced into SQLite (account, sites, devices, alerts), then given 90 days of
daily device snapshots and job results: ``device_daily`` (the real table; the sync wrote
today's rows, the 89 days before are filled in) and ``job_results`` (not landed yet: a
contract-shaped stand-in, ``tests/report/standins.py``; the real table is used once it
exists), which makes the compliance and job charts appear as they will. Printed: render time
and file size of the account page (first in the process, which loads plotly, then again) and
of one site's page, and how much of the file plotly.js is. Times are real seconds.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert

from datto_sim import Simulator
from etl.db.engine import make_engine
from etl.demo import demo_settings
from etl.sync import run_sync
from tests.report import standins

DEVICES, SITES, DAYS = 2_000, 50, 90
SCALE = 60.0  # the budget's 60 s window passes in one real second
CHUNK = 20_000


def add_history(engine: Engine, sim: Simulator) -> int:
    """90 days of snapshots and job results for every device; rows written."""
    standins.ensure(engine)
    devices = [(uid, d["siteUid"]) for uid, d in sim.devices.items()]
    today = datetime.now(UTC).date()  # the sync recorded today's device_daily rows
    days = [today - timedelta(days=n) for n in range(DAYS - 1, 0, -1)]
    written = 0
    for table, rows in (
        (standins.device_daily, list(standins.daily_rows(sim.account_uid, devices, days))),
        (standins.job_results, list(standins.job_rows(sim.account_uid, devices, days))),
    ):
        with engine.begin() as conn:
            for start in range(0, len(rows), CHUNK):
                conn.execute(insert(table), rows[start : start + CHUNK])
        written += len(rows)
    return written


def timed(engine: Engine, out: Path, **kw: str) -> tuple[float, int]:
    """Seconds to build and write one report, and its size in bytes."""
    from etl.report.render import write_report

    started = time.monotonic()
    done = write_report(engine, out, **kw)
    return time.monotonic() - started, done.bytes


def main() -> None:
    """Print the figures."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        Simulator(
            devices=DEVICES, sites=SITES, time_scale=SCALE, alerts_resolved=9_000, alerts_open=300
        ) as sim,
    ):
        settings = demo_settings(sim, f"sqlite:///{tmp}/bench.db", state_dir=tmp)
        engine = make_engine(settings.database.url)
        started = time.monotonic()
        sync = run_sync(settings, ["account", "sites", "devices", "alerts"], engine=engine)
        synced = time.monotonic() - started
        started = time.monotonic()
        rows = add_history(engine, sim)
        filled = time.monotonic() - started
        print(f"account: ok={sync.ok} devices={DEVICES} sites={SITES} synced in {synced:.1f} s")
        print(f"  history: {rows:,} stand-in rows over {DAYS} days in {filled:.1f} s")
        site = next(
            s["name"] for s in sim.sites.values() if s["name"][0].isupper() and " " in s["name"]
        )
        for label, kw in (("account page, first", {}), ("account page, again", {}),
                          ("site page", {"site": site})):  # fmt: skip
            seconds, size = timed(engine, Path(tmp) / "report.html", **kw)
            print(f"  {label}: {seconds:.2f} s, {size / 1e6:.2f} MB")
        from etl.report.charts import plotly_js

        print(f"  of which plotly.js: {len(plotly_js().encode()) / 1e6:.2f} MB (inlined once)")
        engine.dispose()
