"""Charts over the period from the daily views, and plain notes where history is too short.

A trend needs at least :data:`MIN_DAYS` days with data in the period; with fewer the chart is
left out and a note says how much history there is and where more comes from. A view that
the database does not hold yet (its history table has not landed) gives a note, not an error.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from etl.report.figures import by_status
from etl.report.model import Chart, Scope, Series
from etl.report.views import view

MIN_DAYS = 2
JOB_ORDER = ["success", "warning", "failure", "expired", "retired", "running", "pending"]


def _per_day(conn: Connection, scope: Scope, name: str, *sums: Any) -> dict[date, tuple[Any, ...]]:
    """Per day of the period: the sums of ``sums`` (expressions on view ``name``)."""
    t = view(name).table
    query = select(t.c.day, *sums).where(*scope.within(t)).group_by(t.c.day)
    return {row[0]: tuple(row[1:]) for row in conn.execute(query)}


def _short(what: str, days: int, more: str) -> str:
    have = "no day" if not days else "one day" if days == 1 else f"{days} days"
    return (
        f"{what}: history too short for a trend ({have} with data in the period, "
        f"{MIN_DAYS} needed). {more}"
    )


def alert_charts(conn: Connection, scope: Scope) -> tuple[list[Chart], list[str]]:
    """Alerts raised and resolved per day, and mean time to resolve per day."""
    raised_t, resolved_t = (
        view("v_alerts_raised_daily").table,
        view("v_alerts_resolved_daily").table,
    )
    raised = _per_day(conn, scope, "v_alerts_raised_daily", func.sum(raised_t.c.raised))
    resolved = _per_day(
        conn,
        scope,
        "v_alerts_resolved_daily",
        func.sum(resolved_t.c.resolved),
        func.sum(resolved_t.c.resolved * resolved_t.c.mean_hours_to_resolve),
    )
    days, charts, notes = scope.days(), [], []
    x = [d.isoformat() for d in days]
    if len(set(raised) | set(resolved)) < MIN_DAYS:
        notes.append(
            _short("Alerts raised and resolved", len(set(raised) | set(resolved)),
                   "Each sync adds the alerts raised and resolved since the one before.")
        )  # fmt: skip
    else:
        charts.append(
            Chart(
                "alerts",
                "Alerts raised and resolved per day",
                "bar",
                [
                    Series("raised", x, [int(raised.get(d, (0,))[0] or 0) for d in days]),
                    Series("resolved", x, [int(resolved.get(d, (0,))[0] or 0) for d in days]),
                ],
                "alerts",
            )
        )
        first = min(set(raised) | set(resolved))
        if first > scope.since:
            notes.append(f"Alert history in this database starts on {first.isoformat()}.")
    mttr = {d: round(float(w) / int(n), 1) for d, (n, w) in resolved.items() if n and w is not None}
    if len(mttr) < MIN_DAYS:
        notes.append(_short("Mean time to resolve", len(mttr), "It grows as alerts resolve."))
    else:
        charts.append(
            Chart(
                "mttr",
                "Mean time to resolve (alerts resolved that day)",
                "line",
                [Series("mean hours", x, [mttr.get(d) for d in days])],
                "hours",
                "Days without a resolved alert are gaps.",
            )
        )
    return charts, notes


def compliance_chart(
    conn: Connection, scope: Scope, have: set[str]
) -> tuple[list[Chart], list[str]]:
    """Patch compliance per day, from the daily device snapshots."""
    if "v_patch_compliance_daily" not in have:
        return [], [
            "Patch compliance over time: this database has no daily device snapshots yet "
            "(table `device_daily`, view `v_patch_compliance_daily`); the trend starts on the "
            "first day they are recorded. Today's compliance is in the tiles."
        ]
    t = view("v_patch_compliance_daily").table
    per_day = _per_day(
        conn, scope, "v_patch_compliance_daily", func.sum(t.c.fully_patched), func.sum(t.c.devices)
    )
    if len(per_day) < MIN_DAYS:
        return [], [
            _short("Patch compliance", len(per_day), "Each day with a devices sync adds one.")
        ]
    days = scope.days()
    y = [
        round(100.0 * int(per_day[d][0] or 0) / int(per_day[d][1]), 1)
        if d in per_day and per_day[d][1]
        else None
        for d in days
    ]
    chart = Chart(
        "compliance",
        "Patch compliance per day",
        "line",
        [Series("fully patched %", [d.isoformat() for d in days], y)],
        "% of patch-managed devices",
    )
    return [chart], []


def job_chart(conn: Connection, scope: Scope, have: set[str]) -> tuple[list[Chart], list[str]]:
    """Job results per day and outcome (the failed-jobs tile says why it may be missing)."""
    if "v_job_outcomes_daily" not in have:
        return [], []
    t = view("v_job_outcomes_daily").table
    query = (
        select(t.c.day, t.c.job_deployment_status, func.sum(t.c.results))
        .where(*scope.within(t))
        .group_by(t.c.day, t.c.job_deployment_status)
    )
    counts: dict[str, dict[date, int]] = defaultdict(dict)
    for day, status, n in conn.execute(query):
        counts[str(status)][day] = int(n)
    seen = {d for per in counts.values() for d in per}
    if len(seen) < MIN_DAYS:
        return [], [_short("Job outcomes", len(seen), "Each jobs sync adds the results it finds.")]
    days = scope.days()
    order = [s for s in JOB_ORDER if s in counts] + sorted(set(counts) - set(JOB_ORDER))
    series = [
        Series(s, [d.isoformat() for d in days], [counts[s].get(d, 0) for d in days]) for s in order
    ]
    return [Chart("jobs", "Job results per day", "stacked", series, "results")], []


def status_charts(conn: Connection, scope: Scope) -> list[Chart]:
    """Today's patch and antivirus status of the live devices (bars)."""
    charts = []
    for key, column, title in (
        ("patch", "patch_status", "Patch status now"),
        ("antivirus", "antivirus_status", "Antivirus status now"),
    ):
        counts = by_status(conn, scope, column)
        if counts:
            names = sorted(counts, key=lambda k: -counts[k])
            charts.append(
                Chart(key, title, "bar", [Series("devices", names, [counts[k] for k in names])],
                      "devices")
            )  # fmt: skip
    return charts


def charts(conn: Connection, scope: Scope, have: set[str]) -> tuple[list[Chart], list[str]]:
    """Every chart of the report, in page order, and the notes on those left out."""
    out: list[Chart] = []
    notes: list[str] = []
    for made, said in (
        compliance_chart(conn, scope, have),
        alert_charts(conn, scope),
        job_chart(conn, scope, have),
    ):
        out += made
        notes += said
    return out + status_charts(conn, scope), notes
