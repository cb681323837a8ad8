"""Users: ``GET /v2/account/users`` → ``users`` (keyed by username: the API gives no id)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Boolean, Column, String, Table, Text

from etl.api.timestamps import to_utc
from etl.db.schema import UTCDateTime, account_columns, metadata
from etl.resources.base import as_bool, register
from etl.resources.patterns import Rows, SnapshotResource

users = Table(
    "users",
    metadata,
    Column("username", String(255), primary_key=True),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("email", Text),
    Column("telephone", Text),
    Column("status", String(64)),
    Column("created", UTCDateTime()),
    Column("last_access", UTCDateTime(), info={"doc": "NULL: never logged in"}),
    Column("disabled", Boolean),
    *account_columns(),
    info={"doc": "Users of the account; users deleted in Datto are deleted here too."},
)


def to_row(item: dict[str, Any]) -> dict[str, Any]:
    """A user item → a ``users`` row."""
    return {
        "username": str(item["username"]),
        "first_name": item.get("firstName"),
        "last_name": item.get("lastName"),
        "email": item.get("email"),
        "telephone": item.get("telephone"),
        "status": item.get("status"),
        "created": to_utc(item.get("created")),
        "last_access": to_utc(item.get("lastAccess")),
        "disabled": as_bool(item.get("disabled")),
    }


@register
class Users(SnapshotResource):
    """The account's users, as a snapshot."""

    name = "users"
    paths = ("/v2/account/users",)
    items_key = "users"
    tables: ClassVar = (users,)

    def rows(self, items: list[dict[str, Any]]) -> Rows:
        return {users: [to_row(i) for i in items if i.get("username")]}
