"""Today's figures from the views: KPI tiles, the per-site table, a site's attention lists.

Every query reads a view through its typed stand-in (:attr:`View.table`), so the KPI rules
live in the view SQL alone; nothing here decides what "protected" or "offline" means.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from etl.report.model import Listing, Scope, Tile, pct, show_pct, tone_for
from etl.report.views import view

PRIORITIES = ["Critical", "High", "Moderate", "Low", "Information", "Unknown"]
WARRANTY_SOON_DAYS = 90
LIST_LIMIT = 100


def count_true(col: Any) -> ColumnElement[Any]:
    """How many rows of the group have ``col`` true (0 for none)."""
    return func.coalesce(func.sum(case((col, 1), else_=0)), 0)


def device_counts(conn: Connection, scope: Scope) -> dict[str, int]:
    """Devices, online, patch-managed, fully patched, antivirus-expected and protected."""
    d = view("v_devices").table
    flags = ("online", "patch_managed", "fully_patched", "antivirus_expected", "protected")
    row = conn.execute(
        select(func.count(), *(count_true(d.c[f]) for f in flags)).where(*scope.of_site(d))
    ).one()
    return dict(zip(("devices", *flags), (int(v or 0) for v in row), strict=True))


def open_alerts_by_priority(conn: Connection, scope: Scope) -> dict[str, int]:
    """Open alerts of live devices per priority (muted ones included)."""
    a = view("v_open_alerts").table
    query = select(a.c.priority, func.count()).where(*scope.of_site(a)).group_by(a.c.priority)
    return {str(p or "Unknown"): int(n) for p, n in conn.execute(query)}


def resolution(conn: Connection, scope: Scope) -> tuple[int, float | None]:
    """Alerts resolved in the period and their mean hours to resolve."""
    r = view("v_alerts_resolved_daily").table
    query = select(
        func.sum(r.c.resolved), func.sum(r.c.resolved * r.c.mean_hours_to_resolve)
    ).where(*scope.within(r))
    resolved, weighted = conn.execute(query).one()
    n = int(resolved or 0)  # PostgreSQL sums bigints as numeric (Decimal)
    return n, (round(float(weighted) / n, 1) if n and weighted is not None else None)


def failed_jobs(conn: Connection, scope: Scope) -> tuple[int, int]:
    """Job results that failed in the period, and all job results in it."""
    j = view("v_job_outcomes_daily").table
    query = select(
        func.sum(case((j.c.job_deployment_status == "failure", j.c.results), else_=0)),
        func.sum(j.c.results),
    ).where(*scope.within(j))
    failed, total = conn.execute(query).one()
    return int(failed or 0), int(total or 0)


def tiles(conn: Connection, scope: Scope, have: set[str]) -> tuple[list[Tile], list[str]]:
    """The KPI tiles, and notes on what could not be shown."""
    c, notes = device_counts(conn, scope), []
    online, patched = pct(c["online"], c["devices"]), pct(c["fully_patched"], c["patch_managed"])
    covered = pct(c["protected"], c["antivirus_expected"])
    alerts = open_alerts_by_priority(conn, scope)
    urgent = alerts.get("Critical", 0) + alerts.get("High", 0)
    resolved, mttr = resolution(conn, scope)
    out = [
        Tile(
            "Devices", f"{c['devices']:,}", "live" if scope.site_uid else "live, on customer sites"
        ),
        Tile("Online", show_pct(online), f"{c['online']:,} online now", tone_for(online, 80, 60)),
        Tile(
            "Patch compliance",
            show_pct(patched),
            f"{c['fully_patched']:,} of {c['patch_managed']:,} patch-managed fully patched",
            tone_for(patched, 90, 70),
        ),
        Tile(
            "Antivirus coverage",
            show_pct(covered),
            f"{c['protected']:,} of {c['antivirus_expected']:,} agents protected",
            tone_for(covered, 95, 80),
        ),
        Tile(
            "Open alerts",
            f"{sum(alerts.values()):,}",
            " · ".join(f"{p} {alerts[p]:,}" for p in PRIORITIES if alerts.get(p)) or "none",
            "bad" if alerts.get("Critical") else "warn" if urgent else "good",
        ),
        Tile(
            "Mean time to resolve",
            "—" if mttr is None else f"{mttr:.1f} h",
            f"{resolved:,} alerts resolved in the period",
        ),
    ]
    if "v_job_outcomes_daily" in have:
        failed, total = failed_jobs(conn, scope)
        tone = "neutral" if not total else "bad" if failed else "good"
        out.append(Tile("Failed jobs", f"{failed:,}", f"of {total:,} job results", tone))
    else:
        out.append(Tile("Failed jobs", "—", "job results not recorded yet"))
        notes.append(
            "Failed jobs: this database has no job results yet (table `job_results` and view "
            "`v_job_outcomes_daily`); the tile fills in once jobs are synced."
        )
    return out, notes


def _by_site(conn: Connection, query: Any) -> dict[str, tuple[Any, ...]]:
    return {row[0]: tuple(row[1:]) for row in conn.execute(query)}


def site_table(conn: Connection, scope: Scope) -> Listing:
    """One row per customer site: devices, online, compliance, coverage, alerts, warranty."""
    d, a, w = (view(n).table for n in ("v_devices", "v_open_alerts", "v_warranty_expiring"))
    flags = ("online", "patch_managed", "fully_patched", "antivirus_expected", "protected")
    devices = _by_site(
        conn,
        select(d.c.site_uid, d.c.site_name, func.count(), *(count_true(d.c[f]) for f in flags))
        .where(*scope.of_site(d))
        .group_by(d.c.site_uid, d.c.site_name),
    )
    urgent = a.c.priority.in_(["Critical", "High"])
    alerts = _by_site(
        conn,
        select(a.c.site_uid, func.count(), count_true(urgent))
        .where(*scope.of_site(a))
        .group_by(a.c.site_uid),
    )
    soon = w.c.days_left <= WARRANTY_SOON_DAYS
    warranty = _by_site(
        conn,
        select(w.c.site_uid, count_true(w.c.days_left < 0), count_true(soon & (w.c.days_left >= 0)))
        .where(*scope.of_site(w))
        .group_by(w.c.site_uid),
    )
    listing = Listing(
        "Customer sites",
        ["Site", "Devices", "Online", "Offline", "Patch compliance", "Antivirus coverage",
         "Open alerts", "Critical + High", "Warranty ≤ 90 d", "Expired"],
        empty="no live devices on customer sites",
        numeric=[False] + [True] * 9,
    )  # fmt: skip
    for uid, (name, n, online, managed, patched, expected, protected) in sorted(
        devices.items(), key=lambda kv: str(kv[1][0]).lower()
    ):
        open_n, urgent_n = alerts.get(uid, (0, 0))
        expired, due = warranty.get(uid, (0, 0))
        compliance, coverage = pct(patched, managed), pct(protected, expected)
        listing.rows.append(
            [str(name), f"{n:,}", f"{online:,}", f"{n - online:,}", show_pct(compliance),
             show_pct(coverage), f"{open_n:,}", f"{urgent_n:,}", f"{due:,}", f"{expired:,}"]
        )  # fmt: skip
        listing.marks.append(
            ["", "", "", "", tone_for(compliance, 90, 70), tone_for(coverage, 95, 80),
             "", "bad" if urgent_n else "", "warn" if due else "", "bad" if expired else ""]
        )  # fmt: skip
    return listing


def _listing(conn: Connection, title: str, headers: list[str], query: Any, empty: str) -> Listing:
    """Up to LIST_LIMIT rows of ``query`` as display strings, and how many more there are."""
    total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = conn.execute(query.limit(LIST_LIMIT)).all()
    shown = [["—" if v is None else f"{v:%Y-%m-%d %H:%M}" if hasattr(v, "hour")
              else str(v) for v in row] for row in rows]  # fmt: skip
    numeric = [
        any(isinstance(row[i], int | float) and not isinstance(row[i], bool) for row in rows)
        for i in range(len(headers))
    ]
    more = max(0, total.scalar_one() - len(rows))
    return Listing(title, headers, shown, more, empty, numeric=numeric)


def attention(conn: Connection, scope: Scope) -> list[Listing]:
    """A site's page: the devices and alerts that need someone, worst first."""
    d, a, o, w = (
        view(n).table for n in ("v_devices", "v_open_alerts", "v_offline_devices",
                                "v_warranty_expiring")
    )  # fmt: skip
    rank = case({p: n for n, p in enumerate(PRIORITIES)}, value=a.c.priority, else_=len(PRIORITIES))
    return [
        _listing(
            conn, "Open alerts", ["Priority", "Device", "Type", "Diagnostics", "Raised", "Hours"],
            select(a.c.priority, a.c.hostname, a.c.context_class, a.c.diagnostics, a.c.timestamp,
                   a.c.age_hours).where(*scope.of_site(a)).order_by(rank, a.c.age_hours.desc()),
            "no open alerts",
        ),
        _listing(
            conn, "Offline devices", ["Device", "Class", "Operating system", "Last seen", "Days"],
            select(o.c.hostname, o.c.device_class, o.c.operating_system, o.c.last_seen,
                   o.c.days_offline).where(*scope.of_site(o))
            .order_by(o.c.days_offline.desc(), o.c.hostname),
            "every device is online",
        ),
        _listing(
            conn, "Not fully patched", ["Device", "Patch status", "Approved pending",
                                        "Not approved", "Last audit"],
            select(d.c.hostname, d.c.patch_status, d.c.patches_approved_pending,
                   d.c.patches_not_approved, d.c.last_audit_date)
            .where(*scope.of_site(d), d.c.patch_managed, ~d.c.fully_patched)
            .order_by(d.c.patch_status, d.c.hostname),
            "every patch-managed device is fully patched",
        ),
        _listing(
            conn, "Antivirus gaps", ["Device", "Antivirus status", "Product", "Last seen"],
            select(d.c.hostname, d.c.antivirus_status, d.c.antivirus_product, d.c.last_seen)
            .where(*scope.of_site(d), d.c.antivirus_expected, ~d.c.protected)
            .order_by(d.c.antivirus_status, d.c.hostname),
            "every agent is protected",
        ),
        _listing(
            conn, f"Warranty ending within {WARRANTY_SOON_DAYS} days or expired",
            ["Device", "Manufacturer", "Model", "Serial", "Warranty", "Days left"],
            select(w.c.hostname, w.c.manufacturer, w.c.model, w.c.bios_serial_number,
                   w.c.warranty_date, w.c.days_left)
            .where(*scope.of_site(w), w.c.days_left <= WARRANTY_SOON_DAYS)
            .order_by(w.c.days_left, w.c.hostname),
            "no warranty ends soon",
        ),
    ]  # fmt: skip


def by_status(conn: Connection, scope: Scope, column: str) -> dict[str, int]:
    """Live devices per value of ``column`` (patch or antivirus status); devices without one
    (printers, network devices) are left out."""
    d = view("v_devices").table
    query = (
        select(d.c[column], func.count())
        .where(*scope.of_site(d), d.c[column].is_not(None))
        .group_by(d.c[column])
    )
    return {str(k): int(n) for k, n in conn.execute(query)}
