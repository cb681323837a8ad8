"""Account and site variables → ``account_variables``, ``site_variables``.

Values are stored exactly as the API gives them: a masked variable's value arrives masked
and stays so (the ETL never asks for, nor could store, the secret behind it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import BigInteger, Boolean, Column, String, Table, Text

from etl.db.schema import account_columns, metadata
from etl.resources.base import as_bool, as_int, as_str, register
from etl.resources.patterns import PerSiteResource, Rows, SnapshotResource


def _columns() -> list[Column[Any]]:
    return [
        Column("name", Text),
        Column("value", Text, info={"doc": "as the API shows it: masked values stay masked"}),
        Column("masked", Boolean),
        *account_columns(),
    ]


account_variables = Table(
    "account_variables",
    metadata,
    Column("id", BigInteger, primary_key=True),
    *_columns(),
    info={"doc": "Account-level variables."},
)

site_variables = Table(
    "site_variables",
    metadata,
    Column("site_uid", String(64), primary_key=True),
    Column("id", BigInteger, primary_key=True),
    *_columns(),
    info={"doc": "Site-level variables."},
)


def to_row(item: dict[str, Any]) -> dict[str, Any]:
    """A variable item → row fields (the value as given, never unmasked)."""
    return {
        "id": as_int(item.get("id")),
        "name": item.get("name"),
        "value": as_str(item.get("value")),
        "masked": as_bool(item.get("masked")),
    }


@register
class AccountVariables(SnapshotResource):
    """The account's variables, as a snapshot."""

    name = "account_variables"
    paths = ("/v2/account/variables",)
    items_key = "variables"
    tables: ClassVar = (account_variables,)

    def rows(self, items: list[dict[str, Any]]) -> Rows:
        return {account_variables: [to_row(i) for i in items if as_int(i.get("id")) is not None]}


@register
class SiteVariables(PerSiteResource):
    """Each live site's variables, replaced per site."""

    name = "site_variables"
    path = "/v2/site/{uid}/variables"
    items_key = "variables"
    tables: ClassVar = (site_variables,)

    def rows(self, site_uid: str, body: Any) -> Rows:
        return {
            site_variables: [
                {"site_uid": site_uid, **to_row(i)}
                for i in body
                if isinstance(i, dict) and as_int(i.get("id")) is not None
            ]
        }
