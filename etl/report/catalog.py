"""Every reporting view of DATA_CONTRACT.md: columns with their meaning, and the SELECT.

Shared rules (written once, here): a *live* device is one not ``removed_at`` on a site that
is neither removed nor one of Datto's system sites; every view carries ``account_uid`` and
joins on it, so accounts sharing a database never mix. The KPI flags (``patch_managed``,
``fully_patched``, ``antivirus_expected``, ``protected``) are decided once, in ``v_devices``,
and the other views count them; ``docs/tables.md`` explains each (see
:mod:`etl.report.reference`).
"""

from __future__ import annotations

import textwrap

from sqlalchemy import Boolean, Date, Float, Integer, Text

from etl.db.schema import UTCDateTime
from etl.report.views import Sql, View, ViewColumn

FIRST = "0013"  # the migration that creates the views whose tables exist already
UDFS = 30
FULLY_PATCHED = "'FullyPatched'"
PROTECTED = "'RunningAndUpToDate'"
TEXT, INT, FLOAT, BOOL, DAY, TS = Text(), Integer(), Float(), Boolean(), Date(), UTCDateTime()


def col(name: str, type_: object, doc: str = "") -> ViewColumn:
    """A view column (``type_`` a SQLAlchemy type instance)."""
    return ViewColumn(name, type_, doc)  # type: ignore[arg-type]


def patch_managed(status: str) -> str:
    """A device counts for patch compliance once a patch policy applies to it."""
    return f"({status} IS NOT NULL AND {status} <> 'NoPolicy')"


def live_site(alias: str = "s") -> str:
    """The site is a customer's and not removed."""
    return f"NOT {alias}.system_site AND {alias}.removed_at IS NULL"


ACCOUNT = col("account_uid", TEXT, "the Datto account the row belongs to")
SITE_UID = col("site_uid", TEXT, "the device's site (`sites.uid`)")
SITE_NAME = col("site_name", TEXT, "the site's current name")
DEVICE_UID = col("device_uid", TEXT, "the device (`devices.uid`)")
HOSTNAME = col("hostname", TEXT)
DEVICE_CLASS = col("device_class", TEXT, "see [Device class](#device-class)")

_DEVICE_COPIES = [
    col("device_id", INT, "`devices.id`"),
    SITE_UID,
    SITE_NAME,
    HOSTNAME,
    col("description", TEXT),
    DEVICE_CLASS,
    col("device_type_category", TEXT, "Desktop, Laptop, Server, Printer, ..."),
    col("device_type_type", TEXT),
    col("operating_system", TEXT),
    col("int_ip_address", TEXT),
    col("ext_ip_address", TEXT),
    col("last_logged_in_user", TEXT),
    col("domain", TEXT),
    col("online", BOOL, "Datto's online flag at the last devices sync"),
    col("suspended", BOOL),
    col("reboot_required", BOOL),
    col("last_seen", TS),
    col("last_reboot", TS),
    col("last_audit_date", TS),
    col("creation_date", TS),
    col("warranty_date", DAY),
    col("antivirus_product", TEXT),
    col("antivirus_status", TEXT, "see [Antivirus status](#antivirus-status)"),
    col("patch_status", TEXT, "see [Patch status](#patch-status)"),
    col("patches_installed", INT),
    col("patches_approved_pending", INT),
    col("patches_not_approved", INT),
    col("portal_url", TEXT),
    *(col(f"udf{n}", TEXT) for n in range(1, UDFS + 1)),
]
_KPI_FLAGS = [
    col("patch_managed", BOOL, "a patch policy applies, see [Patch compliance](#patch-compliance)"),
    col("fully_patched", BOOL, "`patch_status` is FullyPatched"),
    col("antivirus_expected", BOOL, "an agent device, which reports antivirus (class `device`)"),
    col("protected", BOOL, "antivirus running and up to date (see [Protected](#protected))"),
]


def _devices(q: Sql) -> str:
    copies = ", ".join(
        "s.name AS site_name" if c.name == "site_name" else f"d.{c.name}"
        for c in _DEVICE_COPIES
        if c.name != "device_id"
    )
    select = f"SELECT d.account_uid, d.uid AS device_uid, d.id AS device_id, {copies},"
    return f"""
{textwrap.fill(select, 96, subsequent_indent="  ", break_long_words=False)}
  {q.flag(patch_managed("d.patch_status"))} AS patch_managed,
  {q.flag(f"d.patch_status = {FULLY_PATCHED}")} AS fully_patched,
  {q.flag("d.device_class = 'device'")} AS antivirus_expected,
  {q.flag(f"d.antivirus_status = {PROTECTED}")} AS protected
FROM devices d
JOIN sites s ON {q.same_account("s", "d")} AND s.uid = d.site_uid
WHERE d.removed_at IS NULL AND {live_site()}"""


def _open_alerts(q: Sql) -> str:
    return f"""
SELECT a.account_uid, a.alert_uid, a.device_uid, v.hostname, v.site_uid, v.site_name,
  a.priority, a.context_class, a.diagnostics, a.muted, a.ticket_number, a.timestamp,
  {q.age_hours("a.timestamp")} AS age_hours
FROM alerts a
JOIN v_devices v ON {q.same_account("a", "v")} AND v.device_uid = a.device_uid
WHERE NOT a.resolved AND a.removed_at IS NULL"""


def _alerts_daily(q: Sql, day_of: str, where: str, figures: str, extra: str = "") -> str:
    """Alerts of customer sites per UTC day and site (raised or resolved)."""
    return f"""
SELECT a.account_uid, {day_of} AS day, a.site_uid, s.name AS site_name{extra}, {figures}
FROM alerts a
JOIN sites s ON {q.same_account("s", "a")} AND s.uid = a.site_uid
WHERE {where} AND a.removed_at IS NULL AND {live_site()}
GROUP BY a.account_uid, {day_of}, a.site_uid, s.name{extra}"""


def _alerts_resolved_daily(q: Sql) -> str:
    hours = q.round1(f"AVG({q.hours('a.timestamp', 'a.resolved_on')})")
    return _alerts_daily(
        q,
        q.day("a.resolved_on"),
        "a.resolved AND a.resolved_on IS NOT NULL",
        f"COUNT(*) AS resolved, {hours} AS mean_hours_to_resolve",
    )


def _alerts_raised_daily(q: Sql) -> str:
    return _alerts_daily(
        q, q.day("a.timestamp"), "a.timestamp IS NOT NULL", "COUNT(*) AS raised", ", a.priority"
    )


def _antivirus_coverage(q: Sql) -> str:
    protected = q.count_if("protected")
    return f"""
SELECT account_uid, site_uid, site_name, COUNT(*) AS devices, {protected} AS protected,
  {q.pct(protected, "COUNT(*)")} AS coverage_pct
FROM v_devices
WHERE antivirus_expected
GROUP BY account_uid, site_uid, site_name"""


def _offline_devices(q: Sql) -> str:
    return f"""
SELECT account_uid, device_uid, hostname, site_uid, site_name, device_class,
  device_type_category, operating_system, suspended, last_seen,
  {q.whole_since("last_seen", "days")} AS days_offline
FROM v_devices
WHERE NOT online"""


def _warranty_expiring(q: Sql) -> str:
    return f"""
SELECT v.account_uid, v.device_uid, v.hostname, v.site_uid, v.site_name, v.device_class,
  au.manufacturer, au.model, au.bios_serial_number, v.warranty_date,
  {q.days_until("v.warranty_date")} AS days_left
FROM v_devices v
LEFT JOIN device_audits au ON {q.same_account("au", "v")} AND au.device_uid = v.device_uid
WHERE v.warranty_date IS NOT NULL"""


def _software_inventory(q: Sql) -> str:
    return f"""
SELECT sw.account_uid, sw.name, sw.version, COUNT(*) AS devices
FROM device_software sw
JOIN v_devices v ON {q.same_account("sw", "v")} AND v.device_uid = sw.device_uid
GROUP BY sw.account_uid, sw.name, sw.version"""


def _sync_freshness(q: Sql) -> str:
    last_ok = "MAX(CASE WHEN status = 'ok' THEN finished_at END)"
    return f"""
SELECT account_uid, resource, {last_ok} AS last_ok_at, MAX(started_at) AS last_run_at,
  {q.whole_since(last_ok, "minutes")} AS minutes_since
FROM sync_runs
GROUP BY account_uid, resource"""


def _patch_compliance_daily(q: Sql) -> str:
    fully = q.count_if(f"dd.patch_status = {FULLY_PATCHED}")
    return f"""
SELECT dd.account_uid, dd.day, dd.site_uid, s.name AS site_name, COUNT(*) AS devices,
  {fully} AS fully_patched, {q.pct(fully, "COUNT(*)")} AS compliance_pct
FROM device_daily dd
JOIN sites s ON {q.same_account("s", "dd")} AND s.uid = dd.site_uid
WHERE {patch_managed("dd.patch_status")} AND {live_site()}
GROUP BY dd.account_uid, dd.day, dd.site_uid, s.name"""


def _job_outcomes_daily(q: Sql) -> str:
    day, status = q.day("r.ran_on"), "LOWER(r.job_deployment_status)"
    # A result whose site is unknown still counts; one on a system or removed site does not.
    return f"""
SELECT r.account_uid, {day} AS day, r.site_uid, s.name AS site_name,
  {status} AS job_deployment_status, COUNT(*) AS results
FROM job_results r
LEFT JOIN sites s ON {q.same_account("s", "r")} AND s.uid = r.site_uid
WHERE r.ran_on IS NOT NULL AND (s.uid IS NULL OR ({live_site()}))
GROUP BY r.account_uid, {day}, r.site_uid, s.name, {status}"""


_DAY = col("day", DAY, "UTC calendar day")
_SITE_OF_ALERT = col("site_uid", TEXT, "the alert's site when it was raised")

VIEWS: tuple[View, ...] = (
    View(
        "v_devices",
        "Every live device of a customer site (not removed, not on a system site), "
        "with its site's name and the KPI flags every other view counts.",
        (ACCOUNT, DEVICE_UID, *_DEVICE_COPIES, *_KPI_FLAGS),
        _devices,
        ("devices", "sites"),
        FIRST,
    ),
    View(
        "v_open_alerts",
        "Every open alert (muted ones included) of a live device.",
        (
            ACCOUNT,
            col("alert_uid", TEXT),
            DEVICE_UID,
            HOSTNAME,
            col("site_uid", TEXT, "the device's current site"),
            SITE_NAME,
            col("priority", TEXT, "see [Alert priority](#alert-priority)"),
            col(
                "context_class",
                TEXT,
                "the monitor type, see [Alert context class](#alert-context-class)",
            ),
            col("diagnostics", TEXT),
            col("muted", BOOL),
            col("ticket_number", TEXT),
            col("timestamp", TS, "when the alert was raised"),
            col("age_hours", FLOAT, "hours since it was raised (one decimal)"),
        ),
        _open_alerts,
        ("alerts", "v_devices"),
        FIRST,
    ),
    View(
        "v_alerts_raised_daily",
        "Alerts raised per UTC day, customer site and priority (from the alerts the ETL "
        "holds: as far back as the first sync fetched them).",
        (ACCOUNT, _DAY, _SITE_OF_ALERT, SITE_NAME, col("priority", TEXT), col("raised", INT)),
        _alerts_raised_daily,
        ("alerts", "sites"),
        FIRST,
    ),
    View(
        "v_alerts_resolved_daily",
        "Alerts resolved per UTC day (of `resolved_on`) and customer site, with the mean "
        "time they had been open. See [Mean time to resolve](#mean-time-to-resolve).",
        (
            ACCOUNT,
            _DAY,
            _SITE_OF_ALERT,
            SITE_NAME,
            col("resolved", INT, "alerts resolved that day"),
            col("mean_hours_to_resolve", FLOAT, "mean of `resolved_on - timestamp`, hours"),
        ),
        _alerts_resolved_daily,
        ("alerts", "sites"),
        FIRST,
    ),
    View(
        "v_antivirus_coverage",
        "Antivirus coverage per customer site, now. See [Protected](#protected).",
        (
            ACCOUNT,
            SITE_UID,
            SITE_NAME,
            col("devices", INT, "live agent devices (class `device`)"),
            col("protected", INT, "of which antivirus is running and up to date"),
            col("coverage_pct", FLOAT, "100 * protected / devices, one decimal"),
        ),
        _antivirus_coverage,
        ("v_devices",),
        FIRST,
    ),
    View(
        "v_offline_devices",
        "Every live device that is offline now. See [Offline](#offline).",
        (
            ACCOUNT,
            DEVICE_UID,
            HOSTNAME,
            SITE_UID,
            SITE_NAME,
            DEVICE_CLASS,
            col("device_type_category", TEXT),
            col("operating_system", TEXT),
            col("suspended", BOOL),
            col("last_seen", TS),
            col("days_offline", INT, "whole days since `last_seen` (NULL when never seen)"),
        ),
        _offline_devices,
        ("v_devices",),
        FIRST,
    ),
    View(
        "v_warranty_expiring",
        "Live devices with a warranty date, soonest first when sorted by `days_left`; "
        "hardware identity from the latest audit where there is one.",
        (
            ACCOUNT,
            DEVICE_UID,
            HOSTNAME,
            SITE_UID,
            SITE_NAME,
            DEVICE_CLASS,
            col("manufacturer", TEXT, "from `device_audits`"),
            col("model", TEXT),
            col("bios_serial_number", TEXT),
            col("warranty_date", DAY),
            col("days_left", INT, "days from today (UTC) to the warranty date; < 0: expired"),
        ),
        _warranty_expiring,
        ("v_devices", "device_audits"),
        FIRST,
    ),
    View(
        "v_software_inventory",
        "Each title and version with the number of live devices whose latest audit lists it.",
        (
            ACCOUNT,
            col("name", TEXT),
            col("version", TEXT, "'' when the audit gives none"),
            col("devices", INT),
        ),
        _software_inventory,
        ("device_software", "v_devices"),
        FIRST,
    ),
    View(
        "v_sync_freshness",
        "How fresh each resource's copy is: its last successful sync. See [Freshness](#freshness).",
        (
            ACCOUNT,
            col("resource", TEXT),
            col("last_ok_at", TS, "end of the last run that finished `ok` (NULL: none yet)"),
            col("last_run_at", TS, "start of the last run, whatever its outcome"),
            col("minutes_since", INT, "whole minutes since `last_ok_at`"),
        ),
        _sync_freshness,
        ("sync_runs",),
        FIRST,
    ),
    View(
        "v_patch_compliance_daily",
        "Patch compliance per UTC day and customer site, from the daily device snapshots. "
        "See [Patch compliance](#patch-compliance).",
        (
            ACCOUNT,
            _DAY,
            col("site_uid", TEXT, "the device's site that day"),
            SITE_NAME,
            col("devices", INT, "patch-managed devices that day"),
            col("fully_patched", INT),
            col("compliance_pct", FLOAT, "100 * fully_patched / devices, one decimal"),
        ),
        _patch_compliance_daily,
        ("device_daily", "sites"),
        "0015",  # the migration that adds device_daily
    ),
    View(
        "v_job_outcomes_daily",
        "Job results per UTC day (of `ran_on`), site and outcome. See [Failed job](#failed-job).",
        (
            ACCOUNT,
            _DAY,
            col("site_uid", TEXT, "NULL when the result's site is unknown"),
            SITE_NAME,
            col(
                "job_deployment_status",
                TEXT,
                "lower-cased, see [Job deployment status](#job-deployment-status)",
            ),
            col("results", INT),
        ),
        _job_outcomes_daily,
        ("job_results", "sites"),
        "0016",  # created with the job tables
    ),
)
