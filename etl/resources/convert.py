"""API values → column values, and the declarative specs tables and rows are derived from.

Datto sends numbers as strings now and then, nulls for unknown booleans, several time shapes
and nested objects. The converters here turn any of that into a column's value or None,
never a guess and never an exception. A :class:`Spec` lists a table's fields once (API path →
column name, type, converter, doc), and both the table's columns and the pure ``row(item)``
mapping come from it, so the two cannot drift apart.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    String,
    Table,
)
from sqlalchemy.types import TypeEngine

from etl.api.timestamps import to_date, to_utc
from etl.db.schema import UTCDateTime, account_table

log = logging.getLogger(__name__)
Convert = Callable[[Any], Any]
Item = dict[str, Any]


def pick(item: Any, *path: str) -> Any:
    """``item[a][b]…`` or None when any level is missing or null."""
    for key in path:
        if not isinstance(item, dict):
            return None
        item = item.get(key)
    return item


def as_bool(value: Any) -> bool | None:
    """A boolean or None (Datto sends nulls for unknown booleans)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def as_int(value: Any) -> int | None:
    """An integer or None."""
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def as_float(value: Any) -> float | None:
    """A float or None."""
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def as_str(value: Any) -> str | None:
    """A string or None (numbers such as Autotask ids arrive either way)."""
    return None if value is None else str(value)


def as_is(value: Any) -> Any:
    """The value unchanged (JSON documents are stored as sent)."""
    return value


def json_object(value: Any) -> dict[str, Any] | None:
    """A JSON object, or None for anything else."""
    return value if isinstance(value, dict) else None


def json_list(value: Any) -> list[Any] | None:
    """A JSON list, or None for anything else."""
    return value if isinstance(value, list) else None


def keyed(items: list[Item], key: str, what: str) -> list[Item]:
    """The items that carry their key; the others are skipped with one warning line.

    An item without its id cannot be stored or found again; failing the whole resource for
    it would stop every later page from loading.
    """
    good = [item for item in items if item.get(key) not in (None, "")]
    if len(good) < len(items):
        log.warning("%s: skipped %d item(s) without '%s'", what, len(items) - len(good), key)
    return good


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
    UTCDateTime: to_utc,
    Date: to_date,
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

    def getter(self) -> Callable[[Item], Any]:
        """``item → converted value`` for this field."""
        convert = self.convert or converter(self.type)
        source = self.source
        if not isinstance(source, str):
            return lambda item: convert(source(item))
        path = tuple(source.split("."))
        if len(path) == 1:
            return lambda item: convert(item.get(source))
        return lambda item: convert(pick(item, *path))

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
        self._getters = [(f.name, f.getter()) for f in fields]

    @property
    def names(self) -> list[str]:
        """Column names, in order."""
        return [name for name, _ in self._getters]

    def columns(self) -> list[Column[Any]]:
        """Fresh columns for a table."""
        return [f.to_column() for f in self.fields]

    def row(self, item: Item) -> dict[str, Any]:
        """An API item → a row (without ``account_uid``/``synced_at``)."""
        return {name: get(item) for name, get in self._getters}

    def table(self, name: str, doc: str, *before: Column[Any]) -> Table:
        """The table on :data:`~etl.db.schema.metadata`: ``before`` (e.g. an owner key), the
        fields, then ``account_uid`` and ``synced_at``."""
        return account_table(name, *before, *self.columns(), doc=doc)


def fields(source: Iterable[tuple[str, Any]]) -> Spec:
    """A spec from ``(API field, column type)`` pairs, columns snake_cased (audit lists)."""
    return Spec(*(Field(name, kind) for name, kind in source))
