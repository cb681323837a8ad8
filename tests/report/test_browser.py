"""The report in a real browser: headless Chromium (Debian's ``chromium``) opens the file
offline, every chart draws, nothing errs in the console and nothing is fetched.

Screenshots of the account page and a site page go to the test's temporary folder; with
``ETL_TEST_SCREENSHOTS=docs`` they refresh ``docs/report.png`` and ``docs/report-site.png``
(the README shows the first), so a plain test run leaves the checkout as it was.
``.ci/run`` installs Chromium where it is missing; elsewhere the test skips without it, but
never under CI.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from etl.db.engine import make_engine
from etl.report.render import write_report
from tests.report import expected as ex
from tests.report import standins
from tests.report.conftest import HOSTILE, Synced, synced_account

DOCS = Path(__file__).resolve().parents[2] / "docs"


def shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``docs/`` when asked to refresh them, else the temporary folder."""
    return DOCS if os.environ.get("ETL_TEST_SCREENSHOTS") == "docs" else tmp_path


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Per chart: how many drawn marks (bar or line paths with a shape, or points) its SVG holds.
MARKS = """sections => sections.map(s => ({
  key: s.dataset.chart,
  svg: s.querySelectorAll('svg.main-svg').length,
  width: (s.querySelector('svg.main-svg') || {getBoundingClientRect: () => ({width: 0})})
           .getBoundingClientRect().width,
  marks: [...s.querySelectorAll('.cartesianlayer .trace path')]
           .filter(p => (p.getAttribute('d') || '').length > 4).length,
}))"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium context with a new empty profile."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("no chromium here: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        yield context
        context.close()


def open_offline(browser: Any, page_file: Path) -> tuple[Any, list[str], list[str]]:
    """Open the file with every non-file request refused; return the page, the problems
    (console errors, script errors, dialogs) and the URLs it tried to fetch."""
    page = browser.new_page()
    problems: list[str] = []
    fetched: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))

    def guard(route: Any) -> None:
        if route.request.url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            fetched.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(page_file.as_uri(), wait_until="load")
    return page, problems, fetched


def check_charts(browser: Any, page_file: Path, want: set[str] | None, shot: Path | None) -> None:
    """Every chart on the page drew marks (``want``: which charts, None: whichever it has)."""
    page, problems, fetched = open_offline(browser, page_file)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')]"
        ".every(s => s.querySelector('svg.main-svg .cartesianlayer g.trace'))",
        timeout=30_000,
    )
    charts = page.eval_on_selector_all("[data-chart]", MARKS)
    assert want is None or {c["key"] for c in charts} == want
    for chart in charts:
        assert chart["svg"] >= 1 and chart["width"] > 100 and chart["marks"] > 0, chart
    assert problems == [] and fetched == []
    if shot:
        page.screenshot(
            path=str(shot), full_page=True, clip={"x": 0, "y": 0, "width": 1400, "height": 1400}
        )
    page.close()


@pytest.fixture(scope="module")
def clean_db(tmp_path_factory: pytest.TempPathFactory) -> Synced:
    """A demo-like account, smaller for speed, with ordinary names (for the screenshots)."""
    return synced_account(tmp_path_factory.mktemp("clean"), hostile=False, devices=150, sites=8)


def biggest_site(synced: Synced) -> str:
    """The customer site with the most live devices (the fullest review page)."""
    sites = ex.customer_sites(synced.sim)
    counts = Counter(sites[d["siteUid"]] for d in ex.live_devices(synced.sim).values())
    return counts.most_common(1)[0][0]


def test_account_and_site_pages_draw_every_chart(
    browser: Any, clean_db: Synced, tmp_path: Path
) -> None:
    engine = make_engine(clean_db.url)
    account = write_report(engine, tmp_path / "report.html").path
    site = write_report(engine, tmp_path / "site.html", site=biggest_site(clean_db)).path
    engine.dispose()
    charts = {"alerts", "mttr", "patch", "antivirus"}
    check_charts(browser, account, charts, shots(tmp_path) / "report.png")
    check_charts(browser, site, charts, shots(tmp_path) / "report-site.png")


def test_names_with_markup_stay_text(browser: Any, synced_db: Synced, tmp_path: Path) -> None:
    engine = make_engine(synced_db.url)
    pages = [write_report(engine, tmp_path / "a.html").path,
             write_report(engine, tmp_path / "s.html", site=HOSTILE).path]  # fmt: skip
    engine.dispose()
    for page in pages:  # an executed onerror would open a dialog: check_charts fails on it
        check_charts(browser, page, None, None)


def test_history_charts_draw(browser: Any, tmp_path: Path) -> None:
    synced = synced_account(tmp_path, hostile=False, devices=40, sites=3)
    engine = make_engine(synced.url)
    standins.ensure(engine)
    devices = [(uid, d["siteUid"]) for uid, d in synced.sim.devices.items()]
    # the sync recorded today's device_daily rows: the 13 days before are filled in
    days = [datetime.now(UTC).date() - timedelta(days=n) for n in range(1, 14)]
    with engine.begin() as conn:
        conn.execute(
            insert(standins.device_daily),
            list(standins.daily_rows(synced.sim.account_uid, devices, days)),
        )
        conn.execute(insert(standins.job_results),
                     list(standins.job_rows(synced.sim.account_uid, devices, days)))  # fmt: skip
    page = write_report(engine, tmp_path / "history.html").path
    engine.dispose()
    check_charts(
        browser, page, {"compliance", "alerts", "mttr", "jobs", "patch", "antivirus"}, None
    )
