"""``datto-etl check``: is everything in place for a sync? One ✓/✗ line per point, with the fix.

Config, credentials, the database (reachable, writable, migrations current), the account's
headroom from ``GET /v2/system/request_rate`` and the clock against the API's ``Date``
header. Three requests at most (token, account, request_rate); nothing is written but a
table created and dropped in a transaction that is rolled back. Exit 1 on any ✗.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from pathlib import Path

import typer
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from etl.config import Settings, load_settings
from etl.errors import ConfigError, DattoETLError

SKEW_LIMIT = 30.0  # seconds: beyond, incremental cutoffs and "last seen" ages drift
MIN_HEADROOM = 0.1  # share of the account limit left under the cut-off line


@dataclass
class Point:
    """One line of the check: ✓ or ✗, what, and (for ✗) the fix."""

    ok: bool
    what: str
    detail: str

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.what}: {self.detail}"


def check_config(config: Path | None) -> tuple[Settings | None, list[Point]]:
    """Load the settings; every problem is a ✗ line."""
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        return None, [Point(False, "config", p) for p in exc.problems]
    source = str(config) if config else "environment and defaults"
    if config is None and Path("datto-etl.toml").is_file():
        source = "datto-etl.toml and the environment"
    points = [Point(True, "config", f"valid ({source})")]
    try:
        settings.require_credentials()
    except ConfigError as exc:
        points += [Point(False, "credentials", p) for p in exc.problems]
    return settings, points


def check_database(settings: Settings) -> list[Point]:
    """Reachable, writable, migrations at head; a missing SQLite file only needs its folder."""
    from alembic.migration import MigrationContext

    from etl.db.engine import make_engine, parse_url, sqlite_file
    from etl.db.migrate import heads

    url = settings.database.url
    try:
        parsed = parse_url(url)
    except DattoETLError as exc:
        return [Point(False, "database", str(exc))]
    shown = parsed.render_as_string(hide_password=True)
    path = sqlite_file(parsed)
    if path is not None and not Path(path).exists():
        folder = Path(path).resolve().parent
        while not folder.exists():
            folder = folder.parent
        import os

        if os.access(folder, os.W_OK):
            return [Point(True, "database", f"{path} does not exist yet; sync will create it")]
        return [
            Point(
                False,
                "database",
                f"cannot create {path}: {folder} is not writable; fix its "
                "rights or point database.url elsewhere",
            )
        ]
    engine: Engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            conn.rollback()  # the look above began a transaction
            trans = conn.begin()
            try:  # writable? a table made and dropped, then everything rolled back
                conn.execute(text("CREATE TABLE datto_etl_check_probe (x INTEGER)"))
                conn.execute(text("DROP TABLE datto_etl_check_probe"))
            finally:
                trans.rollback()
    except (SQLAlchemyError, OSError, DattoETLError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return [
            Point(
                False,
                "database",
                f"{shown}: {reason}; check database.url, the server and the rights of this user",
            )
        ]
    finally:
        engine.dispose()
    points = [Point(True, "database", f"{shown} reachable and writable")]
    head = heads()[0]
    if current == head:
        points.append(Point(True, "migrations", f"current (revision {head})"))
    elif current is None:
        points.append(
            Point(True, "migrations", "no tables yet; sync or `datto-etl db upgrade` creates them")
        )
    else:
        points.append(
            Point(
                False,
                "migrations",
                f"at {current}, the code needs {head}: run "
                "`datto-etl db upgrade` (a sync also does it)",
            )
        )
    return points


def check_api(settings: Settings) -> list[Point]:
    """Credentials accepted, the account's headroom, and the clock against the API's."""
    from etl.api.budget import Lane
    from etl.api.calibrate import REQUEST_RATE, parse
    from etl.api.session import DattoSession
    from etl.api.transport import RequestCounter, request_scope

    points: list[Point] = []
    counter = RequestCounter(name="check")
    try:
        with DattoSession(settings.datto, settings.budget, calibrator=None) as session:
            account = session.get("/v2/account", counter=counter)
            points.append(
                Point(
                    True,
                    "credentials",
                    f"accepted by {session.origin} (account "
                    f"{account.get('name', '?')}, uid {account.get('uid', '?')})",
                )
            )
            sent = time.time()
            with request_scope(counter, Lane.CALIBRATE):
                response = session.http.get(session.url(REQUEST_RATE))
            seen = (sent + time.time()) / 2
            count, limit, ratio, _ = parse(response.json())
    except DattoETLError as exc:
        what = "credentials" if not points else "request rate"
        return [*points, Point(False, what, str(exc).splitlines()[0])]
    except ValueError:
        return [
            *points,
            Point(False, "request rate", f"{REQUEST_RATE} answered no JSON; try later"),
        ]
    limit = limit or settings.budget.account_limit
    line = int(limit * (ratio or settings.budget.cutoff_ratio))
    left = line - count
    ours = min(settings.budget.requests_per_minute, max(0, left))
    detail = (
        f"the account used {count}/{limit} requests in the last minute; {left} left under "
        f"Datto's slow-down line ({line}); this tool may use {ours}/min"
    )
    if left < MIN_HEADROOM * limit:
        points.append(
            Point(
                False,
                "headroom",
                f"{detail}: other integrations use nearly all "
                "of it; a sync will crawl: find the busy integration or run later",
            )
        )
    else:
        points.append(Point(True, "headroom", detail))
    date = response.headers.get("Date")
    if not date:
        points.append(Point(True, "clock", "the API sent no Date header; not compared"))
        return points
    skew = seen - email.utils.parsedate_to_datetime(date).timestamp()
    if abs(skew) > SKEW_LIMIT:
        points.append(
            Point(
                False,
                "clock",
                f"{abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} "
                "the API's: set the time right (NTP: timedatectl set-ntp true)",
            )
        )
    else:
        points.append(Point(True, "clock", f"within {max(1.0, abs(skew)):.0f} s of the API's"))
    return points


def run_checks(config: Path | None) -> list[Point]:
    """Every point, in order; later points are skipped when an earlier one makes them moot."""
    settings, points = check_config(config)
    if settings is None:
        return points
    points += check_database(settings)
    if all(p.ok for p in points if p.what == "credentials"):
        points += check_api(settings)
    return points


def check() -> None:
    """Config, credentials, database, migrations, API headroom, clock: ✓/✗ with the fix."""
    from etl.cli import State, out

    points = run_checks(State.config)
    for point in points:
        out.print(point.line(), markup=False, highlight=False, soft_wrap=True)
    if not all(p.ok for p in points):
        raise typer.Exit(1)
