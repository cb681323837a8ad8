"""Rows for the two daily views, and a stand-in for the job table that has not landed yet.

``device_daily`` is the real table (etl/history); ``job_results`` comes with another issue,
until then ``v_job_outcomes_daily`` is tested, benchmarked and shown in the report on this
contract-shaped table. Where the real table exists it is used instead (``checkfirst``), so
the same tests then run against it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    Table,
    text,
)

from etl.db.schema import UTCDateTime
from etl.history import tables as history_tables
from etl.report.views import create_statements, view

PENDING = ("v_patch_compliance_daily", "v_job_outcomes_daily")
PATCH = ["FullyPatched", "ApprovedPending", "RebootRequired", "InstallError", "NoData", "NoPolicy"]
JOB = ["Success", "success", "Warning", "Failure", "Expired", "Running"]

standins = MetaData()
# device_daily has landed (etl/history): the real table serves; only job_results stands in.
device_daily = history_tables.device_daily
job_results = Table(
    "job_results",
    standins,
    Column("account_uid", String(64), primary_key=True),
    Column("job_uid", String(64), primary_key=True),
    Column("device_uid", String(64), primary_key=True),
    Column("ran_on", UTCDateTime()),
    Column("job_deployment_status", String(32)),
    Column("site_uid", String(64)),
    Column("synced_at", UTCDateTime(), nullable=False),
)


def ensure(engine: Engine) -> None:
    """Create the stand-in tables (unless the real ones exist) and the two pending views."""
    standins.create_all(engine, checkfirst=True)
    with engine.begin() as conn:
        for statement in create_statements([view(n) for n in PENDING], engine.dialect.name):
            conn.execute(text(statement))


def daily_rows(
    account_uid: str, devices: list[tuple[str, str]], days: list[date], seed: int = 14
) -> Iterator[dict[str, Any]]:
    """One snapshot per (device uid, site uid) per day; patch states drift day by day."""
    rng = random.Random(seed)
    state = {uid: rng.choice([*PATCH, None]) for uid, _ in devices}
    for day in days:
        seen = datetime.combine(day, time(12), UTC)
        for uid, site in devices:
            if rng.random() < 0.1:
                state[uid] = rng.choice(PATCH)
            yield {
                "account_uid": account_uid,
                "device_uid": uid,
                "day": day,
                "site_uid": site,
                "online": rng.random() < 0.7,
                "last_seen": seen,
                "patch_status": state[uid],
                "antivirus_status": rng.choice(["RunningAndUpToDate", "NotRunning", None]),
                "observed_at": seen,
                "synced_at": seen,
            }


def job_rows(
    account_uid: str, devices: list[tuple[str, str | None]], days: list[date], seed: int = 14
) -> Iterator[dict[str, Any]]:
    """A few job results per day on random devices, statuses in both spellings seen."""
    rng = random.Random(seed)
    for n, day in enumerate(days):
        for k, (uid, site) in enumerate(rng.sample(devices, min(len(devices), 5))):
            ran = datetime.combine(day, time(3), UTC) + timedelta(minutes=k)
            yield {
                "account_uid": account_uid,
                "job_uid": f"job-{n}",
                "device_uid": uid,
                "ran_on": ran if rng.random() > 0.05 else None,
                "job_deployment_status": rng.choice(JOB),
                "site_uid": site,
                "synced_at": ran,
            }
