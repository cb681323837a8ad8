"""The two daily views: their SQL on contract-shaped stand-ins, and on the real tables
(``device_daily`` and ``job_results``) after a sync."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

import etl.resources  # noqa: F401  (registers every table)
from etl.db.schema import metadata
from etl.report.views import view
from etl.sync import run_sync
from tests.conftest import settings_for
from tests.report import expected as ex
from tests.report import standins
from tests.resources.helpers import small_sim, sync

DAYS = [date(2026, 11, 1) + timedelta(days=n) for n in range(4)]


def synced(engine: Engine) -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    """A small account synced (sites, devices); its customer sites and every device's site."""
    with small_sim(devices=30, sites=3, seed=7) as sim:
        sync(sim, engine, ["sites", "devices"])
        devices = [(uid, d["siteUid"]) for uid, d in sim.devices.items()]
        return sim.account_uid, ex.customer_sites(sim), devices


def test_patch_compliance_daily_on_stand_in_snapshots(engine: Engine) -> None:
    account, customer, devices = synced(engine)
    standins.ensure(engine)
    rows = list(standins.daily_rows(account, devices, DAYS))
    with engine.begin() as conn:
        conn.execute(insert(standins.device_daily), rows)
        got = {  # the sync wrote today's real rows too: only the stand-in days count here
            (r.day, r.site_uid): r
            for r in conn.execute(select(view("v_patch_compliance_daily").table))
            if r.day in DAYS
        }
    want: dict[tuple[date, str], list[bool]] = defaultdict(list)
    for r in rows:
        if r["site_uid"] in customer and r["patch_status"] not in (None, "NoPolicy"):
            want[(r["day"], r["site_uid"])].append(r["patch_status"] == "FullyPatched")
    assert set(got) == set(want)
    for key, flags in want.items():
        row = got[key]
        assert (row.devices, row.fully_patched) == (len(flags), sum(flags))
        assert abs(row.compliance_pct - round(100 * sum(flags) / len(flags), 1)) <= 0.051
        assert row.site_name == customer[key[1]] and row.account_uid == account


def test_job_outcomes_daily_on_stand_in_results(engine: Engine) -> None:
    account, customer, devices = synced(engine)
    standins.ensure(engine)
    with_unknown: list[tuple[str, str | None]] = [*devices, ("no-site-device", None)]
    rows = list(standins.job_rows(account, with_unknown, DAYS))
    with engine.begin() as conn:
        conn.execute(insert(standins.job_results), rows)
    assert job_outcomes(engine) == expected_outcomes(rows, customer)


def job_outcomes(engine: Engine) -> dict[tuple[Any, ...], int]:
    """(day, site, status) → results, as the view says."""
    with engine.connect() as conn:
        return {
            (r.day, r.site_uid, r.job_deployment_status): r.results
            for r in conn.execute(select(view("v_job_outcomes_daily").table))
        }


def expected_outcomes(rows: Any, customer: dict[str, str]) -> dict[tuple[Any, ...], int]:
    """The same from job result rows: by UTC day of ran_on, site (unknown kept), lower status."""
    return dict(
        Counter(
            (r["ran_on"].astimezone(UTC).date(), r["site_uid"], r["job_deployment_status"].lower())
            for r in rows
            if r["ran_on"] and (r["site_uid"] is None or r["site_uid"] in customer)
        )
    )


def test_patch_compliance_daily_after_a_real_sync(engine: Engine) -> None:
    with small_sim(devices=30, sites=3, seed=7) as sim:
        sync(sim, engine, ["sites", "devices"])
        today = datetime.now(UTC).date()
        t = view("v_patch_compliance_daily").table
        with engine.connect() as conn:
            got = {r.site_uid: (r.devices, r.fully_patched) for r in conn.execute(select(t))
                   if r.day == today}  # fmt: skip
        want: dict[str, list[bool]] = defaultdict(list)
        for d in ex.live_devices(sim).values():
            managed, fully, _, _ = ex.kpi_flags(d)
            if managed:
                want[d["siteUid"]].append(fully)
        assert got == {s: (len(v), sum(v)) for s, v in want.items()}


def test_job_outcomes_daily_after_a_real_sync(engine: Engine) -> None:
    with small_sim(devices=30, sites=3, seed=7) as sim:
        run_sync(settings_for(sim), None, engine=engine)
        jobs = metadata.tables["job_results"]
        with engine.connect() as conn:
            rows = [r._asdict() for r in conn.execute(select(jobs))]
        assert job_outcomes(engine) == expected_outcomes(rows, ex.customer_sites(sim))
