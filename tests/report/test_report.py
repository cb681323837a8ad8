"""``datto-etl report``: one offline HTML file from the database alone, figures that match
the simulator, plain notes where history is missing, one-line errors on bad input."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from markupsafe import escape
from sqlalchemy import Engine, insert

from etl.db.engine import make_engine
from etl.db.migrate import upgrade
from etl.report.render import collect
from tests.report import expected as ex
from tests.report import standins
from tests.report.conftest import HOSTILE, RESOURCES, Synced
from tests.resources.helpers import small_sim, sync


def report(args: list[str], db_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``datto-etl report`` in a subprocess with no Datto settings at all."""
    env = {"PATH": "/usr/bin:/bin", "DATTO_ETL_DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "etl", "report", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def fetches(page: str) -> list[str]:
    """What the markup would load from elsewhere: src/href/url() to a URL, outside the inline
    scripts (plotly.js mentions map attribution URLs it never loads for these charts; the
    browser test watches the real requests)."""
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
    return re.findall(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//|url\(\s*[\"']?https?:", markup)


def test_report_is_one_offline_file_without_datto(synced_db: Synced, tmp_path: Path) -> None:
    done = report(["-o", "out.html"], synced_db.url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "report written to out.html" in done.stdout
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert fetches(page) == []
    assert page.count("<script>") >= 2 and "Plotly.newPlot" in page
    for label in ("Devices", "Online", "Patch compliance", "Antivirus coverage", "Open alerts",
                  "Failed jobs"):  # fmt: skip
        assert f'<div class="label">{label}</div>' in page
    for name in ex.customer_sites(synced_db.sim).values():
        assert str(escape(name)) in page
    assert HOSTILE not in page  # escaped, never markup
    assert "Patch compliance: history too short" in page  # device_daily has its first day
    assert "job results not recorded yet" not in page  # job_results has landed (issue 13)


def test_site_page_for_a_review(synced_db: Synced, tmp_path: Path) -> None:
    sites = ex.customer_sites(synced_db.sim)
    uid, name = next((u, n) for u, n in sites.items() if n != HOSTILE)
    done = report(["--site", name.upper(), "-o", "site.html", "--since", "2026-01-01"],
                  synced_db.url, tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "site.html").read_text(encoding="utf-8")
    assert f"<h1>{name}" in page and "customer review" in page
    for title in ("Open alerts", "Offline devices", "Not fully patched", "Antivirus gaps"):
        assert f"<h2>{title}</h2>" in page
    hosts = {d["hostname"] for d in ex.live_devices(synced_db.sim).values() if d["siteUid"] == uid}
    others = {d["hostname"] for d in ex.live_devices(synced_db.sim).values()} - hosts
    assert not [h for h in others if f">{h}<" in page]
    assert "Period 2026-01-01 to" in page


def test_bad_input_is_one_line_and_no_file(synced_db: Synced, tmp_path: Path) -> None:
    name = next(iter(ex.customer_sites(synced_db.sim).values()))
    cases = [
        (["--site", name[:-1] + "X"], synced_db.url, "no customer site is called"),
        (["--site", "Deleted Devices"], synced_db.url, "no customer site is called"),
        (["--since", "2026-05-02", "--until", "2026-05-01"], synced_db.url, "is after --until"),
        ([], f"sqlite:///{tmp_path / 'missing.db'}", "no database at"),
    ]
    for args, url, said in cases:
        done = report([*args, "-o", "bad.html"], url, tmp_path)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1 and len(lines) == 1 and said in lines[0], done.stderr
        assert "Traceback" not in done.stderr and not (tmp_path / "bad.html").exists()
    assert not (tmp_path / "missing.db").exists()
    assert "did you mean" in report(["--site", name[:5]], synced_db.url, tmp_path).stderr


def test_a_database_without_views_says_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(make_engine(url), "0012")
    done = report([], url, tmp_path)
    assert done.returncode == 1 and "datto-etl db upgrade" in done.stderr


def test_figures_equal_the_simulator(engine: Engine) -> None:
    with small_sim(devices=60, sites=4, seed=5) as sim:
        sync(sim, engine, RESOURCES)
        until = datetime.now(UTC).date()
        got = collect(engine, since=until - timedelta(days=29), until=until)
    tiles = {t.label: t for t in got.tiles}
    live, open_alerts = ex.live_devices(sim), ex.open_alerts(sim)
    assert tiles["Devices"].value == f"{len(live):,}"
    online = sum(1 for d in live.values() if d["online"])
    assert tiles["Online"].value == f"{100 * online / len(live):.1f} %"
    assert tiles["Open alerts"].value == f"{len(open_alerts):,}"
    urgent = Counter(a["priority"] for a in open_alerts.values())
    assert f"Critical {urgent['Critical']:,}" in tiles["Open alerts"].detail
    raised = next(c for c in got.charts if c.key == "alerts").series[0]
    want = Counter(day for (day, _, _), n in ex.alerts_raised_daily(sim).items() for _ in range(n))
    assert raised.y == [want.get(date.fromisoformat(x), 0) for x in raised.x]
    assert [c.key for c in got.charts] == ["alerts", "mttr", "patch", "antivirus"]


def test_trends_from_history_and_plain_notes_when_short(engine: Engine) -> None:
    with small_sim(devices=30, sites=3, seed=7) as sim:
        sync(sim, engine, ["sites", "devices"])
        devices = [(uid, d["siteUid"]) for uid, d in sim.devices.items()]
    standins.ensure(engine)
    today = datetime.now(UTC).date()  # the sync recorded today's device_daily rows
    short = collect(engine)
    assert "compliance" not in [c.key for c in short.charts]
    assert any("Patch compliance: history too short" in n and "one day" in n for n in short.notes)
    days = [today - timedelta(days=n) for n in range(1, 5)]
    jobs = list(standins.job_rows(sim.account_uid, devices, days))
    with engine.begin() as conn:
        conn.execute(insert(standins.device_daily),
                     list(standins.daily_rows(sim.account_uid, devices, days)))  # fmt: skip
        conn.execute(insert(standins.job_results), jobs)
    full = collect(engine)
    assert {"compliance", "jobs"} <= {c.key for c in full.charts}
    failed = sum(
        1 for j in jobs
        if j["ran_on"] and j["job_deployment_status"].lower() == "failure"
        and j["site_uid"] in ex.customer_sites(sim)
    )  # fmt: skip
    assert {t.label: t.value for t in full.tiles}["Failed jobs"] == f"{failed:,}"
