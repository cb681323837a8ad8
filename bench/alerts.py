"""``python -m bench alerts``: a 100,000-alert account, synced twice, on SQLite and PostgreSQL.

The simulated account holds 2,000 open and 98,000 resolved alerts, listed 250 to a page. For
each database the first sync (the whole history) and a second one with no change at all are
counted against the least any client could send: every page of 250 once for the first,
the open list plus one resolved page for the second. Local speed is alerts written per
second of database time (the run's ``db_seconds``) and per second of the whole first sync.
PostgreSQL is ``DATTO_ETL_BENCH_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1/
postgres``); a throwaway database is made there and dropped. Times are real seconds.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from datto_sim import Simulator
from etl.db.engine import make_engine
from etl.demo import demo_settings
from etl.sync import ResourceReport, run_sync

OPEN, RESOLVED, PAGE = 2_000, 98_000, 250
SCALE = 60.0  # the budget's 60 s window passes in one real second
PG = os.environ.get("DATTO_ETL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1/postgres")
LISTS = ("GET /v2/account/alerts/open", "GET /v2/account/alerts/resolved")
ONE = "GET /v2/alert/{alertUid}"


@contextmanager
def pg_database() -> Iterator[str | None]:
    """A throwaway PostgreSQL database (None when the server cannot be reached)."""
    name = f"bench_alerts_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        print(f"postgresql: skipped ({str(exc).splitlines()[0]})")
        yield None
        return
    try:
        yield PG.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sync_once(sim: Simulator, url: str, state_dir: str) -> tuple[ResourceReport, int, float]:
    """One alerts sync: its report line, the alert requests the simulator saw, seconds."""
    settings = demo_settings(sim, url, state_dir=state_dir)
    engine = make_engine(url)
    sim.reset_records()
    started = time.monotonic()
    try:
        report = run_sync(settings, ["alerts"], engine=engine)
    finally:
        engine.dispose()
    line = report.resources[0]
    assert line.status == "ok", line.error
    return line, sum(sim.count(e) for e in (*LISTS, ONE)), time.monotonic() - started


def bench(sim: Simulator, name: str, url: str, state_dir: str) -> None:
    """Two syncs into one database; print their figures."""
    first_min = math.ceil(OPEN / PAGE) + math.ceil(RESOLVED / PAGE)
    second_min = math.ceil(OPEN / PAGE) + 1
    first, asked1, seconds = sync_once(sim, url, state_dir)
    second, asked2, _ = sync_once(sim, url, state_dir)
    db = first.details["db_seconds"]
    print(f"{name}:")
    for label, asked, least in (
        ("first sync", asked1, first_min),
        ("no-change", asked2, second_min),
    ):
        print(f"  {label:<17} {asked} alert requests, minimum {least}: ratio {asked / least:.3f}")
    others = first.requests + second.requests - asked1 - asked2
    print(f"                    (+{others} token/budget-calibration requests: {SCALE:.0f}x clock)")
    print(f"  rows written      {first.rows_written} (second sync: {second.rows_written})")
    print(f"  local speed       {first.rows_written / db:,.0f} rows/s of database time")
    print(f"                    {first.rows_written / seconds:,.0f} rows/s of the whole sync")
    print(
        f"  rate-limit floor  first sync >= {asked1 / 300:.2f} min at the default budget "
        f"(300/min), >= {asked1 / 600:.2f} min at the whole account limit (600/min)"
    )


def main() -> None:
    """Build the account once and run both dialects against it."""
    started = time.monotonic()
    sim = Simulator(
        devices=500,
        sites=20,
        alerts_open=OPEN,
        alerts_resolved=RESOLVED,
        alert_page_max=PAGE,
        time_scale=SCALE,
    )
    print(f"account            {OPEN + RESOLVED} alerts ({OPEN} open), pages of {PAGE}")
    print(f"simulator built    in {time.monotonic() - started:.1f} s")
    with sim, tempfile.TemporaryDirectory() as tmp:
        bench(sim, "sqlite", f"sqlite:///{tmp}/bench.db", tmp)
        with pg_database() as url:
            if url:
                bench(sim, "postgresql", url, tmp)


if __name__ == "__main__":
    main()
