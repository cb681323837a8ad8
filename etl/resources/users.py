"""Users: ``GET /v2/account/users`` → ``users`` (keyed by username: the API gives no id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, String, Text

from etl.db.schema import UTCDateTime
from etl.resources.base import register
from etl.resources.convert import Field, Spec
from etl.resources.shapes import Rows, SnapshotResource

SPEC = Spec(
    Field("username", String(255), key=True),
    Field("firstName", Text),
    Field("lastName", Text),
    Field("email", Text),
    Field("telephone", Text),
    Field("status", String(64)),
    Field("created", UTCDateTime),
    Field("lastAccess", UTCDateTime, doc="NULL: never logged in"),
    Field("disabled", Boolean),
)
users = SPEC.table("users", "Users of the account; users deleted in Datto are deleted here too.")


@register
class Users(SnapshotResource):
    """The account's users, as a snapshot."""

    name = "users"
    tables = (users,)
    paths = ("/v2/account/users",)
    items_key = "users"
    cost = "one page or two; kept as a snapshot (deleted in Datto, deleted here)"

    def rows(self, body: list[dict[str, Any]], owner: None) -> Rows:
        return {users: SPEC.rows(i for i in body if isinstance(i, dict) and i.get("username"))}
