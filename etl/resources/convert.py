"""API values → column values, and the declarative specs tables and rows are derived from.

Datto sends numbers as strings now and then, nulls for unknown booleans, several time shapes
and nested objects. The converters here turn any of that into a column's value or None,
never a guess and never an exception. A :class:`Spec` lists a table's fields once (API path →
column name, type, converter, doc), and both the table's columns and the pure ``row(item)``
mapping come from it, so the two cannot drift apart.

A value no column of its type can hold (a lone surrogate, an integer past the column's
range, a list where text belongs, a key too long for an index) makes :meth:`Spec.row` raise
:class:`BadItem`; :meth:`Spec.rows` and :func:`mapped` skip such items and note them in the
run's :mod:`~etl.resources.issues`, so one bad item never fails its resource and never
reaches the database. A non-null time that cannot be read is stored as NULL and noted too.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    SmallInteger,
    String,
    Table,
)
from sqlalchemy.types import TypeEngine

from etl.api.timestamps import UnreadableTime, read_date, read_utc
from etl.db.schema import UTCDateTime, account_table
from etl.resources.issues import current

log = logging.getLogger(__name__)
Convert = Callable[[Any], Any]
Item = dict[str, Any]
T = TypeVar("T")
R = TypeVar("R")
#: PostgreSQL's btree refuses index entries past about 2,700 bytes: a longer key or indexed
#: value would fail the whole transaction, so the mapping refuses it first (on both dialects).
INDEX_BYTES = 2000
#: Integer column types, most specific first, and the bound of their values.
INT_BOUNDS: tuple[tuple[type[Any], int], ...] = (
    (BigInteger, 2**63),
    (SmallInteger, 2**15),
    (Integer, 2**31),
)


class BadValue(ValueError):
    """A value no column of its type can hold; the message says why."""


class BadItem(ValueError):
    """An API item that cannot be stored: ``table.column`` (None: the item) and why."""

    def __init__(self, table: str, column: str | None, why: str, key: Any = None) -> None:
        super().__init__(f"{table}.{column or '*'}: {why}")
        self.table, self.column, self.why, self.key = table, column, why, key


def pick(item: Any, *path: str) -> Any:
    """``item[a][b]…`` or None when any level is missing or null."""
    for key in path:
        if not isinstance(item, dict):
            return None
        item = item.get(key)
    return item


# The converters below take scalars: a list or an object where a scalar belongs is bad
# (BadValue), never NULL and never its repr. The checks sit off the common path: the
# mapping of every row goes through here.


def as_bool(value: Any) -> bool | None:
    """A boolean or None (Datto sends nulls for unknown booleans)."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    _scalar(value, "boolean")
    return bool(value)


def as_int(value: Any) -> int | None:
    """An integer or None."""
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        _scalar(value, "number")
        return None
    except OverflowError:  # float("inf") and the like
        return None


def as_float(value: Any) -> float | None:
    """A float or None."""
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        _scalar(value, "number")
        return None
    except OverflowError:  # an integer past any float
        raise BadValue("a number past the range of a float") from None


def as_str(value: Any) -> str | None:
    """A string or None (numbers such as Autotask ids arrive either way)."""
    if value is None or value.__class__ is str:
        return value
    _scalar(value, "text")
    return str(value)


def _scalar(value: Any, what: str) -> None:
    if isinstance(value, list | dict):
        raise BadValue(f"a {_json_kind(value)} where {what} belongs")


def kind_name(kind: TypeEngine[Any]) -> str:
    """What a column of type ``kind`` holds, in a word ("text", "number", "time", ...)."""
    names: tuple[tuple[type[Any], str], ...] = (
        (String, "text"),
        (Integer, "number"),
        (Float, "number"),
        (Boolean, "boolean"),
        (UTCDateTime, "time"),
        (Date, "date"),
    )
    return next((name for cls, name in names if isinstance(kind, cls)), type(kind).__name__)


def _json_kind(value: Any) -> str:
    return "list" if isinstance(value, list) else "JSON object"


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored on every dialect, or None."""
    if "\x00" in text:
        return "a NUL character (PostgreSQL cannot store it)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "not valid Unicode (a lone surrogate)"
    return None


def value_check(kind: TypeEngine[Any], indexed: bool = False) -> Callable[[Any], None] | None:
    """``value → None`` for a converted, non-null value, raising :class:`BadValue` when a
    column of type ``kind`` (``indexed``: a key or index column) cannot hold it on SQLite or
    PostgreSQL; None when every value its converter gives fits."""
    if isinstance(kind, JSON):
        return _check_json
    if isinstance(kind, String):
        return _text_check(getattr(kind, "length", None), indexed)
    bound = next((b for cls, b in INT_BOUNDS if isinstance(kind, cls)), None)
    if bound is None:
        return None
    name = type(kind).__name__

    def check_int(value: Any) -> None:
        if value.__class__ is int and not -bound <= value < bound:
            raise BadValue(f"an integer past the range of its column ({name})")

    return check_int


def _check_json(value: Any) -> None:
    if value.__class__ in (bool, int, float):
        return
    text = json.dumps(value, ensure_ascii=False)
    if text.isascii() and "\\u0000" not in text:
        return  # the common case: nothing PostgreSQL's jsonb would refuse
    # jsonb refuses NUL escapes and (as everyone) lone surrogates
    problem = "a NUL character (PostgreSQL cannot store it)" if "\\u0000" in text else None
    if problem or (problem := text_problem(text)):
        raise BadValue(problem)


def _text_check(length: int | None, indexed: bool) -> Callable[[Any], None]:
    def check_text(value: Any) -> None:
        if value.__class__ is not str:
            _scalar(value, "text")  # a custom converter's list or object
            return
        if not value.isascii() or "\x00" in value:
            problem = text_problem(value)
            if problem:
                raise BadValue(problem)
        if length is not None and len(value) > length:
            raise BadValue(f"longer than {length} characters ({len(value)})")
        if indexed and len(value) * 4 > INDEX_BYTES and len(value.encode()) > INDEX_BYTES:
            raise BadValue(f"longer than {INDEX_BYTES} bytes, too long for an index")

    return check_text


def as_is(value: Any) -> Any:
    """The value unchanged (JSON documents are stored as sent)."""
    return value


def json_object(value: Any) -> dict[str, Any] | None:
    """A JSON object, or None for anything else."""
    return value if isinstance(value, dict) else None


def json_list(value: Any) -> list[Any] | None:
    """A JSON list, or None for anything else."""
    return value if isinstance(value, list) else None


def keyed(items: list[Any], key: str, what: str) -> list[Item]:
    """The items (objects) that carry their key; the others are skipped and noted in the
    run's issues (one warning for the run).

    An item without its id cannot be stored or found again; failing the whole resource for
    it would stop every later page from loading.
    """
    good = []
    for item in items:
        if isinstance(item, dict) and item.get(key) not in (None, ""):
            good.append(item)
        else:
            current().skip(what, key, f"no '{key}'" if isinstance(item, dict) else "not an object")
    return good


def mapped(items: Iterable[T], fn: Callable[[T], R]) -> list[R]:
    """``fn`` of each item, leaving out (and noting) the items it finds bad (:class:`BadItem`).

    For mappings of an item to several rows (a component and its variables): the item is
    skipped as a whole, so no half of it is stored.
    """
    out = []
    issues = current()
    for item in items:
        try:
            out.append(fn(item))
        except BadItem as bad:
            issues.skip(bad.table, bad.column, bad.why, bad.key)
    return out


def snake(name: str) -> str:
    """``macAddress`` → ``mac_address``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def numbered(items: Any, owner: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(item, owner + position)`` for each dict of a list (the API gives list rows no key)."""
    if not isinstance(items, list):
        return []
    return [
        (item, {**owner, "position": n}) for n, item in enumerate(items) if isinstance(item, dict)
    ]


#: Column type → converter; a type's first base class listed here decides (Text is a String).
CONVERT: dict[type[Any], Convert] = {
    Integer: as_int,  # and BigInteger
    Float: as_float,
    Boolean: as_bool,
    String: as_str,  # and Text
    UTCDateTime: read_utc,  # strict: an unreadable time is noted, then stored as NULL
    Date: read_date,
    JSON: as_is,  # and JSONDoc
}


def converter(kind: TypeEngine[Any]) -> Convert:
    """The converter of a column type (:data:`CONVERT`)."""
    for cls in type(kind).__mro__:
        if cls in CONVERT:
            return CONVERT[cls]
    raise TypeError(f"no converter for column type {kind!r}; pass convert=")


def always_none(item: Item) -> None:
    """The value of a column the mapping leaves empty (e.g. ``removed_at`` of a row seen now)."""
    return None


@dataclass(frozen=True)
class Field:
    """One column and where its value comes from in an API item.

    ``source`` is a dotted API path (``"devicesStatus.numberOfDevices"``) or a function of the
    whole item. The column is ``column`` (default: the path's last part, snake_cased), typed
    ``kind`` (a SQLAlchemy type or type class), converted by ``convert`` (default: by its type,
    :data:`CONVERT`); ``doc`` goes to the column's ``info`` and so to docs/tables.md.
    """

    source: str | Callable[[Item], Any]
    kind: Any
    column: str | None = None
    convert: Convert | None = None
    doc: str | None = None
    key: bool = False
    index: bool = False
    nullable: bool = True

    @property
    def name(self) -> str:
        """The column name."""
        if self.column:
            return self.column
        if not isinstance(self.source, str):
            raise TypeError("a field computed by a function needs column=")
        return snake(self.source.rsplit(".", 1)[-1])

    @property
    def type(self) -> TypeEngine[Any]:
        """The column type as an instance."""
        return self.kind if isinstance(self.kind, TypeEngine) else self.kind()

    def raw(self) -> Callable[[Item], Any]:
        """``item → API value`` for this field, unconverted (a function source: its result)."""
        source = self.source
        if not isinstance(source, str):
            return source
        path = tuple(source.split("."))
        if len(path) == 1:
            return lambda item: item.get(source)
        return lambda item: pick(item, *path)

    def getter(self) -> Callable[[Item], Any]:
        """``item → converted value`` for this field.

        Raises :class:`BadValue` for a value the column cannot hold and
        :class:`~etl.api.timestamps.UnreadableTime` for a time no shape reads.
        """
        convert = self.convert or converter(self.type)
        raw = self.raw()
        check = value_check(self.type, self.key or self.index)
        if check is None:
            return lambda item: convert(raw(item))

        def get(item: Item) -> Any:
            value = convert(raw(item))
            if value is not None:
                check(value)
            return value

        return get

    def to_column(self) -> Column[Any]:
        """The SQLAlchemy column (only the options set are passed, as written by hand)."""
        options: dict[str, Any] = {}
        if self.key:
            options["primary_key"] = True
        if self.index:
            options["index"] = True
        if not self.nullable:
            options["nullable"] = False
        if self.doc:
            options["info"] = {"doc": self.doc}
        return Column(self.name, self.type, **options)


class Spec:
    """The fields of one table, in column order: its columns and its row mapping."""

    def __init__(self, *fields: Field) -> None:
        self.fields = fields
        self.table_name = "?"  # set by :meth:`table`; names the table in skip notes
        self._getters = [(f.name, f.getter(), f.raw()) for f in fields]
        self._keys = [f.raw() for f in fields if f.key]

    @property
    def names(self) -> list[str]:
        """Column names, in order."""
        return [name for name, _, _ in self._getters]

    def columns(self) -> list[Column[Any]]:
        """Fresh columns for a table."""
        return [f.to_column() for f in self.fields]

    def key_of(self, item: Any) -> str | None:
        """The item's key fields as sent, joined by ``/`` (for skip notes), or None."""
        if not self._keys or not isinstance(item, dict):
            return None
        return "/".join(str(get(item)) for get in self._keys)

    def row(self, item: Item) -> dict[str, Any]:
        """An API item → a row (without ``account_uid``/``synced_at``).

        Raises :class:`BadItem` when a value cannot be stored; a time that cannot be read is
        noted in the run's issues and mapped to None.
        """
        if not isinstance(item, dict):
            raise BadItem(self.table_name, None, "not an object")
        try:  # the common case in one comprehension; a problem is told apart below
            return {name: get(item) for name, get, _ in self._getters}
        except (UnreadableTime, BadValue):
            pass
        out: dict[str, Any] = {}
        for name, get, raw in self._getters:
            try:
                out[name] = get(item)
            except UnreadableTime:
                out[name] = None
                current().unreadable_time(self.table_name, name, raw(item), self.key_of(item))
            except BadValue as exc:
                raise BadItem(self.table_name, name, str(exc), self.key_of(item)) from None
        return out

    def rows(self, items: Iterable[Any]) -> list[dict[str, Any]]:
        """Rows of ``items``, leaving out (and noting) those that cannot be stored."""
        return mapped(items, self.row)

    def numbered(self, items: Any, owner: dict[str, Any]) -> list[dict[str, Any]]:
        """Rows of a list without keys (:func:`numbered`): ``owner`` + position + the item's
        fields, leaving out (and noting) the items that cannot be stored."""
        return mapped(numbered(items, owner), lambda pair: {**pair[1], **self.row(pair[0])})

    def table(self, name: str, doc: str, *before: Column[Any]) -> Table:
        """The table on :data:`~etl.db.schema.metadata`: ``before`` (e.g. an owner key), the
        fields, then ``account_uid`` and ``synced_at``."""
        self.table_name = name
        return account_table(name, *before, *self.columns(), doc=doc)


_TABLE_FIELDS: dict[str, dict[str, Callable[[Item], Any]]] = {}


def table_row(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """A row built by hand (an owner's key, a software title): each value converted and
    checked by its column of ``table``, as a :class:`Field` would; :class:`BadItem` when
    one cannot be stored."""
    getters = _TABLE_FIELDS.get(table.name)
    if getters is None:
        getters = _TABLE_FIELDS[table.name] = {
            c.name: Field(c.name, c.type, key=c.primary_key, index=bool(c.index)).getter()
            for c in table.columns
        }
    out = {}
    for name, value in values.items():
        try:
            out[name] = getters[name]({name: value})
        except (BadValue, UnreadableTime) as exc:
            raise BadItem(table.name, name, str(exc), _key_shown(table, values)) from None
    return out


def _key_shown(table: Table, values: dict[str, Any]) -> str:
    return "/".join(str(values.get(c.name)) for c in table.primary_key if c.name != "account_uid")


def fields(source: Iterable[tuple[str, Any]]) -> Spec:
    """A spec from ``(API field, column type)`` pairs, columns snake_cased (audit lists)."""
    return Spec(*(Field(name, kind) for name, kind in source))
