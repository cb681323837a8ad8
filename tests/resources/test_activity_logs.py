"""Activity logs: a bounded backfill, then only what is new, across searchAfter pages."""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from datto_sim import Simulator
from datto_sim import activity as sim_activity
from datto_sim import bad_items as sim_bad
from etl.api.timestamps import to_epoch_ms, to_utc
from etl.config import Settings
from etl.db.state import sync_runs
from etl.resources.activity_logs import activity_logs
from tests.conftest import settings_for
from tests.resources.helpers import line, rows, small_sim, sync

NAME = ["activity_logs"]


def requested_from(sim: Simulator) -> list[datetime]:
    """The ``from`` of each first page asked (next pages carry a searchAfter)."""
    with sim.lock:
        firsts = [
            r.query["from"]
            for r in sim.records
            if r.endpoint == "GET /v2/activity-logs" and "searchAfter" not in r.query
        ]
    return [datetime.strptime(f, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) for f in firsts]


def since(sim: Simulator, moment: datetime) -> dict[str, dict]:
    return {e["id"]: e for e in sim_activity.activities(sim) if e["date"] >= moment.timestamp()}


def small_pages(sim: Simulator, size: int) -> Settings:
    settings = settings_for(sim)
    return settings.model_copy(
        update={"datto": settings.datto.model_copy(update={"page_size": size})}
    )


def history(sim: Simulator, days: int) -> Settings:
    settings = settings_for(sim)
    return settings.model_copy(
        update={"sync": settings.sync.model_copy(update={"activity_logs_history_days": days})}
    )


def test_backfill_then_only_new_entries(engine: Engine) -> None:
    with small_sim() as sim:
        settings = history(sim, 90)
        assert sync(sim, engine, NAME, settings).ok
        (start,) = requested_from(sim)
        assert abs(start - (datetime.now(UTC) - timedelta(days=90))) < timedelta(minutes=5)
        want = since(sim, start)
        older = len(sim_activity.activities(sim)) - len(want)
        assert want and older  # the 120-day history reaches past a 90-day backfill
        stored = {r.id: r for r in rows(engine, activity_logs)}
        assert set(stored) == set(want)
        for uid, entry in want.items():
            row = stored[uid]
            assert row.date == to_utc(entry["date"], unit="s") and row.date.tzinfo is not None
            assert row.details == json.loads(entry["details"])
            assert row.user_name == (entry["user"] or {}).get("userName")
            assert row.site_id == (entry["site"] or {}).get("id")
            assert row.device_id == entry["deviceId"] and row.action == entry["action"]

        new = sim_activity.add_activity(sim, 7)
        sim.reset_records()
        report = sync(sim, engine, NAME, settings)
        assert report.ok
        assert sim.count("GET /v2/activity-logs") == 1  # they fit on the first page
        assert line(report, "activity_logs").rows_written == 7
        assert {r.id for r in rows(engine, activity_logs)} == set(want) | {e["id"] for e in new}

        sim.reset_records()
        report = sync(sim, engine, NAME, settings)
        assert sim.count("GET /v2/activity-logs") == 1
        assert line(report, "activity_logs").rows_written == 0


def test_page_boundaries_and_late_entries_lose_nothing(engine: Engine) -> None:
    with small_sim(drop_filters=True) as sim:  # next links forget from/size/order
        settings = small_pages(sim, 5)
        assert sync(sim, engine, NAME, settings).ok
        assert sim.count("GET /v2/activity-logs", 200) > 3

        at = sim.now_ms()
        burst = sim_activity.add_activity(sim, 12, at_ms=at)  # one millisecond, three pages
        sim.reset_records()
        report = sync(sim, engine, NAME, settings)
        assert report.ok
        (start,) = requested_from(sim)
        answered = len(since(sim, start))  # the boundary second's old entries come back too
        assert answered > 5
        # every page with entries, then exactly one request for the empty page past the last
        assert sim.count("GET /v2/activity-logs") == math.ceil(answered / 5) + 1
        assert line(report, "activity_logs").rows_written == 12
        stored = [r.id for r in rows(engine, activity_logs)]
        assert len(stored) == len(set(stored))
        assert {e["id"] for e in burst} <= set(stored)

        late = sim_activity.add_activity(sim, 1, at_ms=at)  # written later, same millisecond
        report = sync(sim, engine, NAME, settings)
        assert line(report, "activity_logs").rows_written == 1
        assert late[0]["id"] in {r.id for r in rows(engine, activity_logs)}
        everything = since(sim, datetime.now(UTC) - timedelta(days=90, minutes=-5))
        assert {r.id for r in rows(engine, activity_logs)} >= set(everything)


def unreadable_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "could not be read" in r.getMessage()]


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_dates_in_seconds_or_milliseconds_equal_the_account(
    engine: Engine, unit: str, caplog: pytest.LogCaptureFixture
) -> None:
    """API_FACTS: an account may send ``date`` in epoch s or ms; both are read, by magnitude."""
    with small_sim(activity_date_unit=unit) as sim, caplog.at_level(logging.WARNING):
        report = sync(sim, engine, NAME)
        assert report.ok
        (start,) = requested_from(sim)
        want = since(sim, start)
    stored = {r.id: r.date for r in rows(engine, activity_logs)}
    assert set(stored) == set(want)
    assert all(moment is not None for moment in stored.values())
    assert {uid: to_epoch_ms(moment) for uid, moment in stored.items()} == {
        uid: round(entry["date"] * 1000) for uid, entry in want.items()
    }
    assert "unreadable_times" not in line(report, "activity_logs").details
    assert unreadable_warnings(caplog) == []


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_an_unreadable_date_is_counted_and_warned_once_never_a_silent_null(
    engine: Engine, unit: str, caplog: pytest.LogCaptureFixture
) -> None:
    knobs = {"bad_items": ("GET /v2/activity-logs",), "bad_item_kinds": ("bad_time",)}
    with (
        small_sim(activity_date_unit=unit, bad_item_count=40, **knobs) as sim,
        caplog.at_level(logging.WARNING),
    ):
        report = sync(sim, engine, NAME, small_pages(sim, 7))  # the bad ones over many pages
        assert report.ok
        (start,) = requested_from(sim)
        want = since(sim, start)
        spoiled = set(sim_bad.served(sim)["/v2/activity-logs"])
    assert len(spoiled) > 3
    stored = {r.id: r.date for r in rows(engine, activity_logs)}
    assert set(stored) == set(want)  # every entry kept, the unreadable ones too
    assert {uid for uid, moment in stored.items() if moment is None} == spoiled
    found = line(report, "activity_logs").details["unreadable_times"]
    assert found["count"] == len(spoiled)
    assert found["columns"] == {"activity_logs.date": len(spoiled)}
    assert found["examples"][0]["value"] == "yesterday"
    with engine.connect() as conn:  # and sync_runs keeps it
        (details,) = conn.execute(
            sync_runs.select().with_only_columns(sync_runs.c.details)
        ).scalars()
    assert details["unreadable_times"]["count"] == len(spoiled)
    (warning,) = unreadable_warnings(caplog)  # one line for the run, not one per page
    assert f"{len(spoiled)} time value(s)" in warning and "activity_logs.date" in warning


def test_first_sync_takes_datto_s_whole_retention_and_keeps_it_beyond(engine: Engine) -> None:
    with small_sim() as sim:
        assert sync(sim, engine, NAME).ok  # default: 180 days, Datto's whole retention
        (start,) = requested_from(sim)
        assert abs(start - (datetime.now(UTC) - timedelta(days=180))) < timedelta(minutes=5)
        everything = {e["id"] for e in sim_activity.activities(sim)}
        assert {r.id for r in rows(engine, activity_logs)} == everything
        sim.clock.advance(200 * 86_400)  # 200 days on: Datto has dropped all of them
        new = sim_activity.add_activity(sim, 3)
        assert sync(sim, engine, NAME).ok
        # the table is the only archive: nothing is deleted with Datto's retention
        assert {r.id for r in rows(engine, activity_logs)} == everything | {e["id"] for e in new}
