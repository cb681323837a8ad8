"""The incremental alerts sync against the simulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from datto_sim import Simulator
from datto_sim import alerts as sim_alerts
from etl.api.timestamps import to_utc
from etl.db.engine import make_engine
from etl.db.state import load_cursor, sync_runs
from etl.resources.alert_cursor import merge, trim
from etl.resources.alerts import alerts
from etl.sync import SyncReport, run_sync
from tests.conftest import settings_for, sim_env

OPEN = "GET /v2/account/alerts/open"
RESOLVED = "GET /v2/account/alerts/resolved"
ONE = "GET /v2/alert/{alertUid}"
DAY_MS = 86_400_000


def small(**knobs: Any) -> Simulator:
    """A small account whose alert lists still take several pages."""
    base: dict[str, Any] = dict(devices=120, sites=8, alerts_open=90, alerts_resolved=600)
    return Simulator(**{**base, "alert_page_max": 40, **knobs})


def sync(sim: Simulator, engine: Engine, **kw: Any) -> SyncReport:
    report = run_sync(settings_for(sim), ["alerts"], engine=engine, **kw)
    assert report.resources[0].status in ("ok", "stopped"), report.resources[0].error
    return report


def stored(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(select(alerts)).all()
    uids = [r.alert_uid for r in rows]
    assert len(uids) == len(set(uids))
    return {r.alert_uid: r for r in rows}


def assert_equal(sim: Simulator, engine: Engine) -> None:
    """The table holds every simulated alert, field by field, and nothing else."""
    rows = stored(engine)
    book = sim_alerts.book(sim)
    assert set(rows) == set(book)
    for uid, item in book.items():
        row, src = rows[uid], item["alertSourceInfo"]
        assert row.account_uid == sim.account_uid
        assert (row.device_uid, row.device_name) == (src["deviceUid"], src["deviceName"])
        assert (row.site_uid, row.site_name) == (src["siteUid"], src["siteName"])
        assert (row.priority, row.diagnostics) == (item["priority"], item["diagnostics"])
        assert (row.resolved, row.resolved_by) == (item["resolved"], item["resolvedBy"])
        assert row.resolved_on == to_utc(item["resolvedOn"])
        assert (row.muted, row.ticket_number) == (item["muted"], item["ticketNumber"])
        assert row.timestamp == to_utc(item["timestamp"])
        assert row.context == item["alertContext"]
        assert row.context_class == item["alertContext"]["@class"]
        assert row.autoresolve_mins == item["autoresolveMins"]
        assert row.sends_emails == item["alertMonitorInfo"]["sendsEmails"]
        assert row.creates_ticket == item["alertMonitorInfo"]["createsTicket"]
        assert row.response_actions == item["responseActions"]
        assert row.removed_at is None


def last_run(engine: Engine) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(sync_runs).order_by(sync_runs.c.id.desc()).limit(1)).one()


def test_first_sync_equals_simulator_and_is_recorded(engine: Engine) -> None:
    with small(time_format="mixed") as sim:
        report = sync(sim, engine)
        assert_equal(sim, engine)
        line, run = report.resources[0], last_run(engine)
        open_pages, resolved_pages = sim.count(OPEN), sim.count(RESOLVED)
    assert 90 // 40 + 1 <= open_pages <= 2 * (90 // 40 + 1)  # the first sweep is read twice
    assert resolved_pages == 600 // 40  # pages of 40, learned (we asked for 250)
    assert run.pages_read == open_pages + resolved_pages == line.pages
    assert run.rows_written == 690
    details = run.details
    assert details["alerts_written"] == 690 and details["page_size"] == 40
    assert details["stop_reason"] == "end of list" and details["cutoff"] is None
    assert details["resolved_pages"] == resolved_pages


def test_incremental_sync_reads_little(engine: Engine) -> None:
    with Simulator(devices=60, sites=5, alerts_open=60, alerts_resolved=20_000) as sim:
        sync(sim, engine)
        assert sim.count(RESOLVED) == 20_000 // 100
        for _ in range(50):
            raised = sim.now_ms() - 60_000
            sim_alerts.add_alert(sim, raised_ms=raised, resolved_ms=sim.now_ms())
        sim.reset_records()
        sync(sim, engine)
        assert sim.count(RESOLVED) <= 2
        assert last_run(engine).details["stop_reason"] == "cutoff reached"
        sim.reset_records()
        sync(sim, engine)  # nothing changed at all
        assert (sim.count(OPEN), sim.count(RESOLVED), sim.count(ONE)) == (1, 1, 0)
        assert last_run(engine).rows_written == 0
        assert_equal(sim, engine)


@pytest.mark.parametrize("days_open", [30, 0])
def test_alert_open_long_then_resolved_is_caught(engine: Engine, days_open: int) -> None:
    with small() as sim:
        long_open = sim_alerts.add_alert(sim)
        sync(sim, engine)
        for _ in range(days_open // 10):  # ten days of alerts between syncs, three times
            start = sim.now_ms()
            sim.clock.advance(10 * DAY_MS / 1000)
            for n in range(60):
                raised = start + n * DAY_MS // 6
                sim_alerts.add_alert(sim, raised_ms=raised, resolved_ms=raised + 3_600_000)
            sync(sim, engine)
        sim_alerts.resolve_alert(sim, long_open["alertUid"])
        sim.reset_records()
        sync(sim, engine)
        row = stored(engine)[long_open["alertUid"]]
        assert row.resolved is True
        assert row.resolved_on == to_utc(long_open["resolvedOn"])
        details = last_run(engine).details
        assert details["formerly_open"] == 1
        if days_open:  # 180 alerts deep: one request beats walking 5 pages
            assert details["strategy"] == "fetch" and sim.count(ONE) == 1
            assert sim.count(RESOLVED) == 1
        else:  # the newest alert: the walk reaches it on its first page
            assert details["strategy"] == "walk" and sim.count(ONE) == 0
        assert_equal(sim, engine)


def test_formerly_open_alert_a_page_deep_is_walked_to(engine: Engine) -> None:
    with small() as sim:
        long_open = sim_alerts.add_alert(sim, raised_ms=sim.now_ms() - 3_600_000)
        sim_alerts.add_alert(sim)  # the newest: the next cutoff lies above the long-open one
        sync(sim, engine)
        for _ in range(45):  # new alerts push it one page down, none stored yet
            sim_alerts.add_alert(sim, resolved_ms=sim.now_ms())
        sim_alerts.resolve_alert(sim, long_open["alertUid"])
        sim.reset_records()
        sync(sim, engine)
        details = last_run(engine).details
        assert details["strategy"] == "walk" and sim.count(ONE) == 0, str(details)
        assert details["estimate"]["walk_extra_pages"] <= 1
        assert stored(engine)[long_open["alertUid"]].resolved is True
        assert_equal(sim, engine)


def test_pages_shifting_during_the_walk(engine: Engine) -> None:
    with small(alert_page_max=20) as sim:
        before = {u for u, a in sim_alerts.book(sim).items()}
        hooks = [
            sim_alerts.shift_pages(sim, OPEN, add=1, resolve=2, times=4),
            sim_alerts.shift_pages(sim, RESOLVED, add=1, resolve=1, oldest=True, times=6),
        ]
        sync(sim, engine)
        rows, book = stored(engine), sim_alerts.book(sim)
        # nothing wrongly resolved, nothing that was there before missing, no duplicates
        assert not [u for u, r in rows.items() if r.resolved and not book[u]["resolved"]]
        assert before <= set(rows)
        assert last_run(engine).details["open_sweeps"] >= 2
        for hook in hooks:
            sim.hooks.remove(hook)
        sync(sim, engine)
        assert_equal(sim, engine)

        # an incremental run whose new open alerts span pages, shifting as it reads them
        for _ in range(45):
            sim_alerts.add_alert(sim)
        before = {u for u, a in book.items() if not a["resolved"]}
        hook = sim_alerts.shift_pages(sim, OPEN, add=0, resolve=3, times=3)
        sync(sim, engine)
        sim.hooks.remove(hook)
        rows = stored(engine)
        assert before <= set(rows)
        assert not [u for u, r in rows.items() if r.resolved and not book[u]["resolved"]]
        sync(sim, engine)
        assert_equal(sim, engine)


def test_stop_after_pages_then_resume(engine: Engine) -> None:
    with small() as sim:
        stop = threading.Event()

        def stop_after(s: Simulator, req: Any) -> None:
            if req.endpoint == RESOLVED and s.count(RESOLVED) >= 5:
                stop.set()

        sim.hooks.append(stop_after)
        report = sync(sim, engine, stop=stop)
        sim.hooks.remove(stop_after)
        assert report.resources[0].status == "stopped"
        with engine.connect() as conn:
            cursor = load_cursor(conn, sim.account_uid, "alerts")
            count = conn.execute(select(func.count()).select_from(alerts)).scalar_one()
        assert cursor["gaps"] and cursor["gaps"][0][1] is None  # the backfill is still owed
        assert 0 < count < len(sim_alerts.book(sim))
        run = last_run(engine)
        assert run.status == "stopped" and run.details["resolved_pages"] >= 5
        sim_alerts.add_alert(sim, resolved_ms=sim.now_ms())
        sim.reset_records()
        sync(sim, engine)
        assert_equal(sim, engine)
        assert last_run(engine).details["resumed_gaps"] == 1
        pages = -(-len([a for a in sim_alerts.book(sim).values() if a["resolved"]]) // 40)
        # the top page, then from (about) where the stopped run left off: not from the start
        assert sim.count(RESOLVED) <= 1 + pages - 5 + 1


def test_gone_alert_is_marked_removed_not_resolved(engine: Engine) -> None:
    with small() as sim:
        sync(sim, engine)
        gone = next(a for a in sim_alerts.book(sim).values() if not a["resolved"])
        sim_alerts.purge_alert(sim, gone["alertUid"])
        sync(sim, engine)
        row = stored(engine)[gone["alertUid"]]
        assert row.removed_at is not None and row.resolved is False
        assert last_run(engine).details["gone"] == 1
        sim.reset_records()
        sync(sim, engine)  # asked once, then left alone
        assert sim.count(ONE) == 0


def test_alert_list_refusing_our_page_size(engine: Engine) -> None:
    with small(over_max="refuse", alert_page_max=100) as sim:
        sync(sim, engine)
        assert_equal(sim, engine)
        assert sim.count(OPEN, 400) == 1 and sim.count(RESOLVED, 400) == 0  # learned once
        sim.reset_records()
        sync(sim, engine)
        assert sim.count(RESOLVED, 400) == sim.count(OPEN, 400) == 0


def test_sigkill_at_five_moments_then_rerun(db_url: str, tmp_path: Path) -> None:
    """``datto-etl sync alerts`` killed mid-backfill five times; the sixth run completes."""
    with small(alerts_open=120, alerts_resolved=4000, alert_page_max=50) as sim:
        env, state = sim_env(sim, db_url), {"pid": 0, "seen": 0, "at": 0}

        def kill() -> None:
            os.kill(state["pid"], signal.SIGKILL)

        def killer(s: Simulator, req: Any) -> None:
            if req.endpoint in (OPEN, RESOLVED, ONE):
                state["seen"] += 1
                if state["seen"] == state["at"]:  # before this request is answered
                    kill()
                elif state["at"] < 0 and state["seen"] == 1:  # wherever it is by then
                    threading.Timer(-state["at"] / 1000, kill).start()

        sim.hooks.append(killer)
        # in the open sweep (read twice on a first run: 3 pages each); at the resolved list's
        # first page of the run after that; deep in the resumed backfill; in its next
        # resumption; 0.3 s after the first alert request, wherever the run is then
        for n, at in enumerate([5, 7, 15, 30, -300]):
            state.update(seen=0, at=at)
            with (tmp_path / f"run{n}.log").open("w") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "etl", "sync", "alerts"],
                    env=env,
                    cwd=tmp_path,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
                state["pid"] = proc.pid
                code = proc.wait(timeout=120)
            assert code == -signal.SIGKILL, (tmp_path / f"run{n}.log").read_text()
            # the account lives on between runs: new alerts, resolved ones, a long-open one
            sim_alerts.add_alert(sim, resolved_ms=sim.now_ms())
            sim_alerts.add_alert(sim)
            oldest_open = sim_alerts.book(sim).listed(resolved=False)[-1]
            sim_alerts.resolve_alert(sim, oldest_open["alertUid"])
        sim.hooks.remove(killer)
        sim_alerts.book(sim).touch()
        engine = make_engine(db_url)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "etl", "sync", "alerts"], env=env, cwd=tmp_path
            )
            assert proc.returncode == 0
            assert_equal(sim, engine)
            with engine.connect() as conn:
                cursor = load_cursor(conn, sim.account_uid, "alerts")
            assert cursor["gaps"] == []
        finally:
            engine.dispose()


def test_gap_arithmetic() -> None:
    assert merge([(None, 50), (60, 10), (5, 1)]) == [(None, 10), (5, 1)]
    assert merge([(None, None), (5, 1)]) == [(None, None)]
    assert trim([(None, 10), (5, 1)], None, 30, False) == [(30, 10), (5, 1)]
    assert trim([(30, 10), (5, 1)], 30, 8, False) == [(5, 1)]
    assert trim([(30, 10), (5, 1)], 30, 3, False) == [(3, 1)]
    assert trim([(None, 10)], None, 10, False) == [(10, 10)]  # ties at the edge stay owed
    assert trim([(30, 10), (5, 1)], 5, 2, True) == [(30, 10)]  # not read from above it
