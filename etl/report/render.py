"""``datto-etl report``: one self-contained HTML file from the database alone.

It reads the reporting views (never the Datto API, so it works while Datto is unreachable)
and writes a single file: styles, data and plotly.js inline, nothing fetched when it opens.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy import Connection, Engine, column, func, select, table
from sqlalchemy.exc import SQLAlchemyError

from etl.errors import ReportError
from etl.report import figures, trends
from etl.report.charts import plotly_js, to_div
from etl.report.model import Report, Scope
from etl.report.views import existing, registry, view

_sites = table("sites", column("uid"), column("name"), column("system_site"), column("removed_at"))
_account = table("account", column("uid"), column("name"))


@dataclass(frozen=True)
class Written:
    """Where the report went, how big it is and how long it took."""

    path: Path
    bytes: int
    seconds: float


def find_site(conn: Connection, name: str) -> tuple[str, str]:
    """The uid and name of the live customer site called ``name`` (any case)."""
    query = select(_sites.c.uid, _sites.c.name).where(
        func.lower(_sites.c.name) == name.strip().lower(),
        ~_sites.c.system_site,
        _sites.c.removed_at.is_(None),
    )
    found = conn.execute(query).all()
    if len(found) == 1:
        return str(found[0][0]), str(found[0][1])
    if found:
        raise ReportError(f"{len(found)} customer sites are called {name!r}; rename one in Datto")
    names = sorted(str(n) for (n,) in conn.execute(select(_sites.c.name).where(
        ~_sites.c.system_site, _sites.c.removed_at.is_(None))))  # fmt: skip
    close = [n for n in names if name.strip().lower() in n.lower()][:5]
    hint = f"; did you mean {', '.join(repr(n) for n in close)}?" if close else ""
    raise ReportError(f"no customer site is called {name!r}{hint} (names as in sites.name)")


def _have_views(conn: Connection, engine: Engine) -> set[str]:
    have = existing(conn)
    missing = [v.name for v in registry() if v.revision and v.name not in have]
    if missing:
        where = engine.url.render_as_string(hide_password=True)
        raise ReportError(
            f"the database {where} has no reporting views ({missing[0]} is missing): "
            "run `datto-etl db upgrade` or a sync first"
        )
    return have


def collect(
    engine: Engine,
    *,
    site: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Report:
    """Read the figures of the whole account (or one customer ``site``) for the period."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and not Path(database).exists():
        raise ReportError(f"no database at {database}: run `datto-etl sync` (or the demo) first")
    try:
        with engine.connect() as conn:
            have = _have_views(conn, engine)
            found = find_site(conn, site) if site else (None, None)
            scope = Scope.default(since, until, site_uid=found[0], site_name=found[1])
            if scope.since > scope.until:
                raise ReportError(f"--since {scope.since} is after --until {scope.until}")
            return _gather(conn, scope, have)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ReportError(f"cannot read the database for the report: {reason}") from None


def _gather(conn: Connection, scope: Scope, have: set[str]) -> Report:
    f = view("v_sync_freshness").table
    as_of = conn.execute(select(func.max(f.c.last_ok_at)).where(f.c.resource == "devices"))
    names = [str(n or u) for u, n in conn.execute(select(_account.c.uid, _account.c.name))]
    title = scope.site_name or (names[0] if len(names) == 1 else "Datto RMM account")
    report = Report(title, scope, datetime.now(UTC), as_of.scalar_one_or_none(), names)
    report.tiles, notes = figures.tiles(conn, scope, have)
    report.charts, chart_notes = trends.charts(conn, scope, have)
    report.notes = chart_notes + notes
    if scope.site_uid:
        report.listings = figures.attention(conn, scope)
    else:
        report.listings = [figures.site_table(conn, scope)]
    if report.as_of is None:
        report.notes.insert(0, "No devices sync has finished yet: the figures may be empty.")
    if len(names) > 1:
        report.notes.insert(0, f"This database holds {len(names)} accounts: figures add up all.")
    return report


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("etl.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = lambda d: "—" if d is None else f"{d:%Y-%m-%d %H:%M} UTC"
    env.filters["code"] = _code
    return env


def _code(text: str) -> Markup:
    """Escape a note, then show its `names` as code."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def render_html(report: Report) -> str:
    """The whole page as one string."""
    template = _environment().get_template("report.html.j2")
    charts = [(c, to_div(c)) for c in report.charts]
    return template.render(report=report, charts=charts, plotly_js=plotly_js())


def write_report(
    engine: Engine,
    output: Path,
    *,
    site: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Written:
    """Build the report and write it to ``output`` (replaced)."""
    started = time.monotonic()
    html = render_html(collect(engine, site=site, since=since, until=until))
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write the report to {output}: {exc.strerror}") from None
    return Written(output, len(html.encode("utf-8")), time.monotonic() - started)
