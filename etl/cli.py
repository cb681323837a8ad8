"""The ``datto-etl`` command line: demo, sync, db upgrade (and more as resources grow).

Every failure the tool foresees ends as a one-line message naming the fix and a non-zero
exit code (see :mod:`etl.errors`); no traceback reaches the user unless ``--debug``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError

from etl import __version__
from etl.commands.args import flag_values
from etl.config import Settings, load_settings
from etl.errors import ConfigError, DattoETLError, StopRequested
from etl.log import redact, setup_logging

if TYPE_CHECKING:  # imported lazily at run time: --help and --version stay fast
    from etl.sync import SyncReport

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings=HELP_OPTIONS,
    help="Keep a copy of a Datto RMM account in SQL tables (SQLite or PostgreSQL).",
)
db_app = typer.Typer(
    no_args_is_help=True, context_settings=HELP_OPTIONS, help="Database schema commands."
)
app.add_typer(db_app, name="db")
out = Console()
err = Console(stderr=True, highlight=False, soft_wrap=True)
log = logging.getLogger("etl")


class State:
    config: Path | None = None
    debug: bool = False
    level: str | None = None  # -v: DEBUG, -q: WARNING; None: log.level of the settings


def _version(value: bool) -> None:
    if value:
        typer.echo(f"datto-etl {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="TOML config file (default ./datto-etl.toml).",
            envvar="DATTO_ETL_CONFIG",
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and DEBUG logs (HTTP requests).")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="DEBUG logs: every HTTP request, timed.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Warnings and errors only, no progress.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Keep a copy of a Datto RMM account in SQL tables."""
    State.config = config
    State.debug = debug
    State.level = "DEBUG" if debug or verbose else "WARNING" if quiet else None


@contextlib.contextmanager
def failures() -> Iterator[None]:
    """Turn every foreseen error into one line on stderr and its exit code."""
    try:
        yield
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(f"config error: {redact(problem)}", markup=False)
        raise typer.Exit(exc.exit_code) from None
    except DattoETLError as exc:
        err.print(f"error: {redact(str(exc).splitlines()[0])}", markup=False)
        raise typer.Exit(exc.exit_code or 1) from None
    except (KeyboardInterrupt, StopRequested):
        err.print("interrupted", markup=False)
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except (OSError, OperationalError) as exc:  # the environment, not a bug: exit 1, not 70
        if State.debug:
            raise
        err.print(f"error: {redact(environment_line(exc))}", markup=False)
        raise typer.Exit(1) from None
    except Exception as exc:
        if State.debug:
            raise
        err.print(
            f"internal error: {redact(f'{type(exc).__name__}: {exc}'.splitlines()[0])} "
            "(run again with --debug for details, and please report it)",
            markup=False,
        )
        raise typer.Exit(70) from None


def environment_line(exc: OSError | OperationalError) -> str:
    """One line for a file-system or database failure that no layer below named."""
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return (
            f"{exc.strerror or exc}{where}: check the path, its rights and the free space "
            "on its disk"
        )
    reason = str(exc.orig if exc.orig is not None else exc).splitlines()[0]
    return f"database error: {reason} (check the database server and database.url)"


def settings_for_command() -> Settings:
    """Load the settings and set up logging from them."""
    settings = load_settings(State.config)
    setup_logging(State.level or settings.log.level, settings.log.json_lines)
    return settings


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, for summaries."""
    from etl.db.schema import metadata

    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in sorted(metadata.tables.items())
        }


def print_report(report: SyncReport, engine: Engine | None = None, title: str = "sync") -> None:
    """A table of what each resource did, then rows per table."""
    grid = RichTable(title=f"{title}: account {report.account_uid}")
    for col in ("resource", "status", "rows written", "rows seen", "requests", "seconds"):
        grid.add_column(col, justify="left" if col in ("resource", "status") else "right")
    for r in report.resources:
        grid.add_row(
            r.resource,
            r.status if r.status == "ok" else f"[red]{r.status}[/red]",
            str(r.rows_written),
            str(r.rows_seen),
            str(r.requests),
            f"{r.seconds:.2f}",
        )
    out.print(grid)
    for r in report.resources:
        if r.error:
            out.print(f"  {r.resource}: {r.error}", markup=False)
    out.print(f"requests used: {report.requests}   time taken: {report.seconds:.2f} s")
    if engine is not None:
        counts = table_counts(engine)
        out.print("rows per table: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


AccountOption = Annotated[
    str | None,
    typer.Option("--account", "-a", help="Only this account of [[accounts]] (default: all)."),
]


@app.command()
def sync(
    resources: Annotated[
        list[str] | None, typer.Argument(help="Resources to sync (default: all).")
    ] = None,
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Live display (default: on a TTY)."),
    ] = None,
    full_refresh: Annotated[
        list[str] | None,
        typer.Option(
            "--full-refresh",
            metavar="RESOURCE",
            help="Forget RESOURCE's cursor first and read it all again (rows and history kept).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The report as one JSON document.")
    ] = False,
    account: AccountOption = None,
) -> None:
    """Sync the account(s) (or the named resources) into the database once."""
    from etl.accounts import select_accounts
    from etl.commands.syncing import report_json, sync_many, sync_with_progress
    from etl.db.engine import make_engine
    from etl.sync import resolve_order

    with failures():
        settings = settings_for_command()
        refresh = resolve_order(full_refresh) if full_refresh else []
        if resources:  # a resource to refresh is synced too
            resources = resources + [r for r in refresh if r not in resources]
        chosen = select_accounts(settings, account)
        engine = make_engine(settings.database.url)
        if len(chosen) > 1:
            raise typer.Exit(sync_many(settings, chosen, resources or None, engine, refresh))
        if progress is None and State.level == "WARNING":
            progress = False  # -q: no display either
        report = sync_with_progress(
            chosen[0].settings,
            resources or None,
            engine,
            progress,
            account_name=chosen[0].name,
            full_refresh=refresh,
        )
        if as_json:
            sys.stdout.write(json.dumps(report_json(report), indent=2, default=str) + "\n")
        else:
            print_report(report, engine)
        if report.stopped:  # Ctrl-C or SIGTERM: the run is recorded `stopped`
            err.print("interrupted: the run is recorded as stopped", markup=False)
            raise typer.Exit(130)
        if not report.ok:
            raise typer.Exit(1)


@app.command()
def run(
    resources: Annotated[
        list[str] | None, typer.Argument(help="Resources to schedule (default: all).")
    ] = None,
    account: AccountOption = None,
) -> None:
    """Keep the database fresh: every resource of every account on its own cadence, until
    SIGTERM. Several daemons on one PostgreSQL database share the accounts."""
    from etl.scheduler import run_daemon

    with failures():
        run_daemon(settings_for_command(), resources or None, account)


@app.command()
def status(
    resources: Annotated[
        list[str] | None, typer.Argument(help="Resources to report (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    account: AccountOption = None,
) -> None:
    """Last and next run of each resource, per account; exit 1 when one keeps failing or is
    stale in any account."""
    from etl.db.engine import make_engine
    from etl.status import collect_status, render_status

    with failures():
        settings = settings_for_command()
        # read-only: a mistyped path must not leave an empty database behind
        engine = make_engine(settings.database.url, readonly=True)
        report = collect_status(settings, engine, resources or None, account=account)
        if as_json:
            sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
        else:  # piped into a log or a mail: do not squeeze the table into 80 columns
            render_status(report, out if out.is_terminal else Console(width=160))
        if not report["ok"]:
            raise typer.Exit(1)


@app.command()
def demo(
    db: Annotated[Path, typer.Option(help="SQLite file to fill (replaced).")] = Path("demo.db"),
    devices: Annotated[int, typer.Option(min=1, help="Simulated devices.")] = 2200,
    sites: Annotated[int, typer.Option(min=1, help="Simulated sites.")] = 60,
) -> None:
    """Start the bundled simulator on loopback, sync it into ./demo.db, print a summary."""
    from etl.demo import report_path, run_demo

    with failures():
        setup_logging(os.environ.get("DATTO_ETL_LOG_LEVEL", "WARNING").upper())
        run_demo(db, devices=devices, sites=sites, show=print_report)
        out.print(f"report: {report_path(db).resolve()}", markup=False)


@app.command()
def report(
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path(
        "datto-report.html"
    ),
    site: Annotated[
        str | None, typer.Option(help="One customer site's page (its name), e.g. for a review.")
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="First day (UTC); default 90 days to --until."),
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day (UTC); default today.")
    ] = None,
) -> None:
    """Write one self-contained HTML report (KPIs, trends, sites) from the database alone."""
    from etl.db.engine import make_engine
    from etl.report.render import write_report

    with failures():
        settings = settings_for_command()
        done = write_report(
            make_engine(settings.database.url),
            output,
            site=site,
            since=since.date() if since else None,
            until=until.date() if until else None,
        )
        out.print(
            f"report written to {done.path} ({done.bytes / 1e6:.1f} MB, {done.seconds:.1f} s)",
            markup=False,
        )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the tables (Alembic migrations to head)."""
    from etl.db.engine import make_engine
    from etl.db.migrate import upgrade

    with failures():
        settings = settings_for_command()
        started = time.monotonic()
        engine = make_engine(settings.database.url)
        upgrade(engine)
        out.print(
            f"database {engine.url.render_as_string(hide_password=True)} is at head "
            f"({time.monotonic() - started:.2f} s)",
            markup=False,
        )


@db_app.command("docs")
def db_docs(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
    resources: Annotated[
        bool, typer.Option("--resources", help="The resources reference instead.")
    ] = False,
) -> None:
    """Print (or write) the tables reference generated from the schema (or, with
    --resources, the resources reference generated from the resource classes)."""
    from etl.db.docs import render, render_resources

    text = render_resources() if resources else render()
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _register_commands() -> None:
    from etl.commands import register

    register(app)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app(args=flag_values(sys.argv[1:]), prog_name="datto-etl")
