"""The reporting views: how each is declared, written per dialect, created and set aside.

Every view lives in :mod:`etl.report.catalog` as a :class:`View`: its columns (name, type,
meaning: the same list documents it in ``docs/tables.md`` and types it for readers) and one
SELECT written once, with the few fragments that differ between SQLite and PostgreSQL (date
arithmetic, ages, rounding) taken from :class:`Sql`. The migration that introduces a view
names it by ``revision`` and creates it from here.

Views hold no data, so they are rebuilt rather than migrated: while Alembic runs pending
migrations, :func:`set_aside` drops the views before the first step and :func:`after_step`
after each one; at the end every view whose revision the database has reached is created
again from the SQL here (so changing a view's SQL needs a migration only to make existing
databases pick it up: an empty one that bumps the revision). Without that, a later migration
that rebuilds a table the views read would fail: SQLite's batch mode (copy, drop, rename)
refuses a rename while a view names the dropped table, and PostgreSQL refuses to drop or
retype a column a view uses.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, MetaData, Table, inspect, text
from sqlalchemy.sql import sqltypes
from sqlalchemy.types import TypeEngine

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext, MigrationInfo


class Sql:
    """SQL fragments that differ between the dialects; the rest of each view is shared.

    Ages and durations are computed in the database at query time, in UTC on both sides:
    SQLite keeps naive UTC text (``julianday`` reads it), PostgreSQL ``timestamptz``.
    """

    def __init__(self, dialect: str) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"no view SQL for the {dialect!r} dialect")
        self.pg = dialect == "postgresql"

    def hours(self, start: str, end: str | None = None) -> str:
        """Hours from ``start`` to ``end`` (default: now), as a fractional number."""
        if self.pg:
            return f"EXTRACT(EPOCH FROM ({end or 'now()'}) - ({start})) / 3600.0"
        end = end or "'now'"
        return f"(julianday({end}) - julianday({start})) * 24.0"

    def same_account(self, inner: str, outer: str) -> str:
        """The join condition ``inner.account_uid = outer.account_uid``.

        On SQLite the inner side gets a unary ``+``: without statistics SQLite would search
        the inner table through its ``account_uid`` index (one account: every row) instead
        of the key that follows, a scan per outer row (13 s instead of 0.01 s for the open
        alerts of 2,000 devices). PostgreSQL plans from its statistics and needs no hint.
        """
        return f"{'' if self.pg else '+'}{inner}.account_uid = {outer}.account_uid"

    def round1(self, expr: str) -> str:
        """A number rounded to one decimal, as a float on both dialects."""
        if self.pg:  # numeric rounding, then a float like SQLite's REAL
            return f"CAST(ROUND(CAST({expr} AS numeric), 1) AS double precision)"
        return f"ROUND({expr}, 1)"

    def at_least_zero(self, expr: str) -> str:
        """``expr``, but never below 0 (a clock a little ahead must not give negative ages)."""
        return f"GREATEST(0, {expr})" if self.pg else f"MAX(0, {expr})"

    def whole(self, expr: str) -> str:
        """A non-negative number cut down to a whole number (floor)."""
        # SQLite's CAST truncates toward zero: the same as floor once clamped at 0.
        return f"CAST(FLOOR({expr}) AS integer)" if self.pg else f"CAST({expr} AS INTEGER)"

    def age_hours(self, col: str) -> str:
        """Hours since ``col`` until now, one decimal, never negative."""
        return self.at_least_zero(self.round1(self.hours(col)))

    def whole_since(self, col: str, unit: str) -> str:
        """Whole ``days`` or ``minutes`` since ``col`` until now, never negative."""
        scaled = {"days": "/ 24.0", "minutes": "* 60.0"}[unit]
        return self.whole(self.at_least_zero(f"({self.hours(col)}) {scaled}"))

    def day(self, col: str) -> str:
        """The UTC calendar day of a timestamp, as a DATE (SQLite: ``YYYY-MM-DD`` text)."""
        return f"CAST(({col} AT TIME ZONE 'UTC') AS date)" if self.pg else f"date({col})"

    def days_until(self, date_col: str) -> str:
        """Whole days from today (UTC) to a DATE column; negative once it has passed."""
        if self.pg:
            return f"({date_col} - CAST((now() AT TIME ZONE 'UTC') AS date))"
        return f"CAST(julianday({date_col}) - julianday(date('now')) AS INTEGER)"

    def pct(self, part: str, whole: str) -> str:
        """``100 * part / whole`` with one decimal; NULL when ``whole`` is 0."""
        return self.round1(f"100.0 * ({part}) / NULLIF({whole}, 0)")

    @staticmethod
    def count_if(cond: str) -> str:
        """How many rows of the group meet ``cond``."""
        return f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)"

    @staticmethod
    def flag(cond: str) -> str:
        """``cond`` as a boolean that is never NULL (unknown counts as false)."""
        return f"COALESCE({cond}, FALSE)"


def family(type_: TypeEngine[Any]) -> str:
    """The kind of a column's values, the same on both dialects (the exact type is not:
    a count is ``bigint`` on PostgreSQL and ``INTEGER`` on SQLite)."""
    type_ = getattr(type_, "impl", type_)  # a TypeDecorator such as UTCDateTime
    for kind, name in (
        (sqltypes.Boolean, "boolean"),
        (sqltypes.DateTime, "timestamp (UTC)"),
        (sqltypes.Date, "date"),
        (sqltypes.Integer, "integer"),
        (sqltypes.Float, "number"),
        (sqltypes.Numeric, "number"),
        (sqltypes.String, "text"),
    ):
        if isinstance(type_, kind):
            return name
    return str(type_).lower()


@dataclass(frozen=True)
class ViewColumn:
    """One column of a view: its name, the type readers get, and what it means."""

    name: str
    type: TypeEngine[Any]
    doc: str

    @property
    def family(self) -> str:
        """The kind of its values (text, integer, number, boolean, date, timestamp)."""
        return family(self.type)


@dataclass(frozen=True)
class View:
    """A reporting view: documented columns and one SELECT, written with :class:`Sql`."""

    name: str
    doc: str
    columns: tuple[ViewColumn, ...]
    select: Callable[[Sql], str]
    reads: tuple[str, ...]
    #: The Alembic revision that creates it; None while a table it reads does not exist yet.
    revision: str | None

    def sql(self, dialect: str) -> str:
        """The SELECT of this view for ``dialect`` (``sqlite`` or ``postgresql``)."""
        return self.select(Sql(dialect)).strip()

    def create_statement(self, dialect: str) -> str:
        """``CREATE VIEW`` for ``dialect``."""
        return f"CREATE VIEW {self.name} AS\n{self.sql(dialect)}"

    def drop_statement(self) -> str:
        """``DROP VIEW IF EXISTS`` (the same on both dialects)."""
        return f"DROP VIEW IF EXISTS {self.name}"

    @functools.cached_property
    def table(self) -> Table:
        """A typed stand-in for reading the view with SQLAlchemy Core (not on the metadata
        Alembic compares: views are not tables)."""
        return Table(self.name, _VIEW_METADATA, *(Column(c.name, c.type) for c in self.columns))


_VIEW_METADATA = MetaData()


def registry() -> tuple[View, ...]:
    """Every view, in creation order (a view after those it reads)."""
    from etl.report.catalog import VIEWS

    return VIEWS


def view(name: str) -> View:
    """The view called ``name``."""
    for v in registry():
        if v.name == name:
            return v
    raise KeyError(name)


def introduced_in(revision: str) -> list[View]:
    """The views that the migration ``revision`` creates, in creation order."""
    return [v for v in registry() if v.revision == revision]


def create_statements(views: Iterable[View], dialect: str) -> list[str]:
    """``CREATE VIEW`` statements for ``views`` and the registry views they read, in
    creation order; each a no-op where the view exists (a migration may run on a database
    where env.py has just set the views aside, or where they are still there)."""
    wanted = {v.name for v in views}
    for v in reversed(registry()):  # a view comes after those it reads: walk back once
        if v.name in wanted:
            wanted.update(v.reads)
    verb = "CREATE OR REPLACE VIEW" if dialect == "postgresql" else "CREATE VIEW IF NOT EXISTS"
    return [
        v.create_statement(dialect).replace("CREATE VIEW", verb, 1)
        for v in registry()
        if v.name in wanted
    ]


def drop_statements(views: Iterable[View]) -> list[str]:
    """``DROP VIEW`` statements, dependants first."""
    return [v.drop_statement() for v in reversed(list(views))]


def create_for(revision: str, op: Any) -> None:
    """In migration ``revision``'s upgrade: create the views it introduces (``op``: alembic's)."""
    for statement in create_statements(introduced_in(revision), op.get_context().dialect.name):
        op.execute(statement)


def drop_for(revision: str, op: Any) -> None:
    """In migration ``revision``'s downgrade: drop the views it introduced."""
    for statement in drop_statements(introduced_in(revision)):
        op.execute(statement)


def existing(conn: Connection) -> set[str]:
    """Names of the views the database holds now."""
    return set(inspect(conn).get_view_names())


def _drop_all(conn: Connection) -> None:
    held = existing(conn)
    for statement in drop_statements(v for v in registry() if v.name in held):
        conn.execute(text(statement))


def _pending(env: Any) -> bool:
    """Whether this Alembic run may apply a step (an ``upgrade head`` at head will not)."""
    argument = env.get_revision_argument()
    if not isinstance(argument, str) or re.search(r"[-+@]", argument):
        return True  # relative (-1, +2, head-1): resolved against the moving current
    current = set(env.get_context().get_current_heads())
    try:
        return current != {s.revision for s in env.script.get_revisions(argument)}
    except Exception:  # anything Alembic itself cannot resolve here: assume work to do
        return True


def after_step(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    """Alembic ``on_version_apply`` hook: set the views aside again before the next step
    (a migration earlier in the same run may have created them)."""
    if ctx.connection is not None:
        _drop_all(ctx.connection)


@contextlib.contextmanager
def set_aside(env: Any, conn: Connection) -> Iterator[None]:
    """Drop the views while migrations run; then recreate those due at the new revision.

    ``env`` is Alembic's EnvironmentContext (``alembic.context``) inside env.py, configured
    with ``on_version_apply=after_step``. Nothing is touched when no migration is pending,
    so the ``upgrade`` before every sync costs no DDL and no lock a dashboard would wait on.
    """
    if not _pending(env):
        yield
        return
    _drop_all(conn)
    yield
    heads = env.get_context().get_current_heads()
    reached = {s.revision for s in env.script.iterate_revisions(heads, "base")} if heads else set()
    due = [v for v in registry() if v.revision in reached]
    for statement in create_statements(due, conn.dialect.name):
        conn.execute(text(statement))
