"""Account and site variables → ``account_variables``, ``site_variables``.

Values are stored exactly as the API gives them: a masked variable's value arrives masked
and stays so (the ETL never asks for, nor could store, the secret behind it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Connection, String, Text

from etl.resources.base import RunContext, register
from etl.resources.convert import Field, Spec
from etl.resources.shapes import PerSiteResource, Rows, Site, SnapshotResource
from etl.resources.sites import live_sites

SPEC = Spec(
    Field("id", BigInteger, key=True),
    Field("name", Text),
    Field("value", Text, doc="as the API shows it: masked values stay masked"),
    Field("masked", Boolean),
)
SITE_SPEC = Spec(*SPEC.fields)  # the same fields; its own table name in skip notes
account_variables = SPEC.table("account_variables", "Account-level variables.")
site_variables = SITE_SPEC.table(
    "site_variables", "Site-level variables.", Column("site_uid", String(64), primary_key=True)
)


def to_rows(items: Any, spec: Spec = SPEC) -> list[dict[str, Any]]:
    """Variable items → rows (values as given, never unmasked; no id, no row)."""
    rows = spec.rows(item for item in items if isinstance(item, dict))
    return [row for row in rows if row["id"] is not None]


@register
class AccountVariables(SnapshotResource):
    """The account's variables, as a snapshot."""

    name = "account_variables"
    tables = (account_variables,)
    paths = ("/v2/account/variables",)
    items_key = "variables"
    cost = "one page or two; kept as a snapshot (deleted in Datto, deleted here)"

    def rows(self, body: list[dict[str, Any]], owner: None) -> Rows:
        return {account_variables: to_rows(body)}


@register
class SiteVariables(PerSiteResource):
    """Each live site's variables, replaced per site."""

    name = "site_variables"
    tables = (site_variables,)
    path = "/v2/site/{uid}/variables"
    items_key = "variables"
    cost = "one per live site"

    def owners(self, ctx: RunContext, conn: Connection) -> list[Site]:
        return live_sites(conn, ctx.account_uid)

    def rows(self, body: Any, owner: Site) -> Rows:
        return {
            site_variables: [{"site_uid": owner.uid, **row} for row in to_rows(body, SITE_SPEC)]
        }
