"""The reporting part of ``docs/tables.md``: KPI definitions, the views, and value lists.

Generated with the tables (:mod:`etl.db.docs`), so a view's columns in the docs are the ones
it has. The value lists come from Datto's API documentation and the payloads public clients
have seen (API_FACTS.md); the meanings are ours, written for people building reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from etl.report.views import View, registry


@dataclass(frozen=True)
class ValueList:
    """The values a status column takes, what each means, and which columns carry it."""

    title: str
    columns: tuple[str, ...]  # "table.column"
    values: tuple[tuple[str, str], ...]
    note: str = ""

    @property
    def anchor(self) -> str:
        """The Markdown heading anchor of this list."""
        return self.title.lower().replace(" ", "-")


KPIS = (
    ("Live device", "A `devices` row not `removed_at`, on a site that is neither removed nor one "
     "of Datto's system sites (`sites.system_site`: Deleted Devices, Managed, OnDemand). Why: "
     "Datto moves a deleted device to Deleted Devices instead of dropping it, and the ETL keeps "
     "removed rows for history; counted as customers' devices they would inflate every figure."),
    ("Patch compliance", "*Fully patched* is `patch_status` = FullyPatched: every approved patch "
     "is installed and no reboot is pending. *Patch-managed* is any patch status but NoPolicy "
     "(NULL: no patch management at all, as on printers and network devices). Compliance = 100 "
     "* fully patched / patch-managed. Why: a device no policy targets is not failing one, so "
     "NoPolicy devices stay out of the ratio (list them apart: `v_devices WHERE patch_status = "
     "'NoPolicy'`). NoData counts against compliance (a policy applies but the device has not "
     "shown it is patched), and so does RebootRequired (installed patches are not in force "
     "until the reboot)."),
    ("Protected", "Antivirus status RunningAndUpToDate. Antivirus coverage = 100 * protected / "
     "live agent devices (class `device`), whatever their status: NotDetected, NotRunning, "
     "RunningAndNotUpToDate and no status at all count as unprotected. Why: only agents report "
     "antivirus (a printer cannot run one), and an agent with no product detected is exactly "
     "the gap coverage is meant to show."),
    ("Offline", "Datto's `online` flag is false as of the last devices sync; `days_offline` "
     "counts whole days since `last_seen`. Why Datto's flag and not a `last_seen` threshold: it "
     "is what technicians see in the Datto portal. A device whose flag is unknown (NULL) is "
     "neither online nor offline. How old \"now\" is: `v_sync_freshness` for `devices`."),
    ("Open alert", "`resolved` false and not `removed_at`, on a live device. Muted alerts are "
     "included: muting silences notifications, the condition is still there."),
    ("Mean time to resolve", "For the alerts resolved on a day: the mean of `resolved_on - "
     "timestamp`, in hours. An alert counts on the day it was resolved, so one open for weeks "
     "shows then. To combine days or sites, weight by `resolved`: "
     "`SUM(resolved * mean_hours_to_resolve) / SUM(resolved)`."),
    ("Failed job", "A job result whose `job_deployment_status` is Failure. The view lower-cases "
     "the status: Datto's spec capitalises it (Failure) while a published sample shows it in "
     "lower case (success)."),
    ("Freshness", "Minutes since a resource's last run that ended `ok` (`sync_runs`). A "
     "dashboard showing figures \"now\" should show this beside them."),
    ("Warranty days left", "`warranty_date` minus today (UTC), in days; negative once expired."),
)  # fmt: skip

VALUE_LISTS = (
    ValueList(
        "Patch status",
        ("devices.patch_status", "device_daily.patch_status"),
        (
            ("FullyPatched", "every approved patch is installed, no reboot pending"),
            ("ApprovedPending", "approved patches wait to be installed"),
            ("RebootRequired", "patches are installed; a reboot puts them in force"),
            ("InstallError", "at least one patch failed to install"),
            ("NoData", "a patch policy applies but the device has sent no patch data yet"),
            ("NoPolicy", "no patch policy targets the device"),
            ("NULL", "no patch management on this device (printers, network devices, ESXi)"),
        ),
    ),
    ValueList(
        "Antivirus status",
        ("devices.antivirus_status", "device_daily.antivirus_status"),
        (
            ("RunningAndUpToDate", "a product is running with current definitions: protected"),
            ("RunningAndNotUpToDate", "running, but its definitions are out of date"),
            ("NotRunning", "a product is installed but not running"),
            ("NotDetected", "the agent found no antivirus product"),
            ("NULL", "no antivirus data (devices without the agent)"),
        ),
    ),
    ValueList(
        "Device class",
        ("devices.device_class", "device_audits.device_class", "device_history.device_class"),
        (
            (
                "device",
                "a computer running the Datto agent (Windows, macOS, Linux): audits, "
                "software, patch and antivirus data",
            ),
            ("printer", "a printer monitored over SNMP (printer audit: supplies, page count)"),
            ("esxihost", "a VMware ESXi host (host audit: guests, datastores)"),
            (
                "rmmnetworkdevice",
                "a network device found by network monitoring (switch, router, "
                "firewall, ...); no audit",
            ),
            ("unknown", "Datto could not tell"),
        ),
    ),
    ValueList(
        "Alert priority",
        ("alerts.priority",),
        (
            ("Critical", "needs action now (set on the monitor that raised it)"),
            ("High", "needs action soon"),
            ("Moderate", "needs attention"),
            ("Low", "worth a look"),
            ("Information", "for the record only"),
            ("Unknown", "no priority was given"),
        ),
    ),
    ValueList(
        "Alert context class",
        ("alerts.context_class",),
        (
            ("comp_script_ctx", "a component (script) monitor reported a result"),
            ("eventlog_ctx", "a Windows event log entry matched"),
            ("patch_ctx", "a patch failed to install"),
            ("antivirus_ctx", "antivirus not running, out of date or missing"),
            ("online_offline_status_ctx", "the device went offline (or came back)"),
            ("perf_resource_usage_ctx", "CPU or memory use over its threshold"),
            ("perf_disk_usage_ctx", "disk space over or under its threshold"),
            ("fs_object_ctx", "a file or folder appeared, vanished or passed a size"),
            ("process_status_ctx", "a monitored process stopped or started"),
            ("srvc_status_ctx", "a Windows service changed state (stopped, ...)"),
        ),
        "An open list: other monitors (ping, SNMP, hardware, security, ransomware, ...) raise "
        "classes of their own, and the rest of each alert's context differs per class (kept "
        "whole in `alerts.context`). `SELECT context_class, COUNT(*) FROM alerts GROUP BY "
        "context_class` shows those of your account.",
    ),
    ValueList(
        "Job status",
        ("jobs.status",),
        (
            ("active", "scheduled or still running: its results may still change"),
            ("completed", "finished: its results are final"),
        ),
    ),
    ValueList(
        "Job deployment status",
        ("job_results.job_deployment_status",),
        (
            ("Success", "the job ran on the device and every component succeeded"),
            ("Warning", "it ran, with warnings from a component"),
            ("Failure", "it ran and failed (a failed job in the report)"),
            ("Pending", "queued: the device has not picked it up yet"),
            ("Running", "running on the device now"),
            ("Expired", "the device did not pick it up before the job expired"),
            ("Retired", "withdrawn before it ran on this device"),
        ),
        "Spelled capitalised in Datto's spec, in lower case in a published sample: compare "
        "without case (`v_job_outcomes_daily` lower-cases it).",
    ),
    ValueList(
        "Job component status",
        ("job_result_components.component_status",),
        (("Success", "the component finished without error"), ("Failure", "it failed")),
    ),
    ValueList(
        "Sync run status",
        ("sync_runs.status",),
        (
            ("running", "the run is going on (or its process died; the next run closes it)"),
            ("ok", "the resource finished and its rows are committed"),
            ("failed", "it stopped on an error (`error` says which)"),
            ("stopped", "a stop was asked for (SIGINT/SIGTERM) before it finished"),
        ),
    ),
)


def column_note(table: str, column: str, note: str) -> str:
    """A table column's notes, with a link to its value list where it has one."""
    for values in VALUE_LISTS:
        if f"{table}.{column}" in values.columns:
            link = f"values: [{values.title}](#{values.anchor})"
            return f"{note}; {link}" if note else link
    return note


def render_view(v: View) -> str:
    """One view as a Markdown section."""
    reads = ", ".join(f"`{r}`" for r in v.reads)
    made = (
        f"Created by migration {v.revision}."
        if v.revision
        else "Not in the database yet: created by the migration that adds "
        f"{', '.join(f'`{r}`' for r in v.reads if not r.startswith('v_') and r != 'sites')}."
    )
    lines = [f"## `{v.name}`", "", v.doc, "", f"Reads {reads}. {made}", ""]
    lines += ["| column | type | notes |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.family} | {c.doc} |" for c in v.columns]
    return "\n".join(lines) + "\n"


def render() -> str:
    """KPI definitions, every view, and the value lists, as Markdown."""
    parts = [
        "# Reporting views\n\nViews over the tables for dashboards and SQL reports: each "
        "leaves out Datto's system sites and removed rows unless its name says otherwise, "
        "carries `account_uid`, and computes ages and percentages in the database at query "
        "time (UTC). The SQL lives in `etl/report/catalog.py`; BI recipes in `docs/bi/`.\n",
        "## KPI definitions\n",
        *(f"### {title}\n\n{text}\n" for title, text in KPIS),
        *(render_view(v) for v in registry()),
        "# Value lists\n\nThe values each status column takes, and what they mean.\n",
    ]
    for values in VALUE_LISTS:
        where = ", ".join(f"`{c}`" for c in values.columns)
        rows = "\n".join(f"| `{value}` | {meaning} |" for value, meaning in values.values)
        note = f"\n\n{values.note}" if values.note else ""
        parts.append(
            f"## {values.title}\n\nIn {where}.\n\n| value | meaning |\n|---|---|\n{rows}{note}\n"
        )
    return "\n".join(parts)
