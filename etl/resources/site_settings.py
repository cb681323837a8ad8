"""Site settings: ``GET /v2/site/{uid}/settings`` → ``site_settings``, ``site_mail_recipients``.

The proxy password is not stored: secrets stay out of the database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Connection, Integer, String, Text

from etl.resources.base import RunContext, register
from etl.resources.convert import Field, Spec, pick
from etl.resources.shapes import PerSiteResource, Rows, Site
from etl.resources.sites import live_sites

SPEC = Spec(
    Field("generalSettings.name", Text),
    Field("generalSettings.description", Text),
    Field("generalSettings.onDemand", Boolean),
    Field("proxySettings.host", Text, column="proxy_host"),
    Field("proxySettings.port", Integer, column="proxy_port"),
    Field("proxySettings.type", String(16), column="proxy_type"),
    Field(
        "proxySettings.username",
        Text,
        column="proxy_username",
        doc="the proxy password is never stored",
    ),
)
RECIPIENT = Spec(
    Field("name", Text),
    Field("email", Text),
    Field("type", String(32)),
    Field("receives", BigInteger),
    Field("receivesAlerts", Boolean),
    Field("receivesReports", Boolean),
    Field("receivesNewDevices", Boolean),
)
site_settings = SPEC.table(
    "site_settings",
    "General and proxy settings of each site.",
    Column("site_uid", String(64), primary_key=True),
)
site_mail_recipients = RECIPIENT.table(
    "site_mail_recipients",
    "Who receives each site's mails (alerts, reports, new devices).",
    Column("site_uid", String(64), primary_key=True),
    Column("position", Integer, primary_key=True, info={"doc": "place in the settings list"}),
)


@register
class SiteSettings(PerSiteResource):
    """Each live site's settings document, one request per site."""

    name = "site_settings"
    tables = (site_settings, site_mail_recipients)
    path = "/v2/site/{uid}/settings"
    cost = "one per live site"

    def owners(self, ctx: RunContext, conn: Connection) -> list[Site]:
        return live_sites(conn, ctx.account_uid)

    def rows(self, body: Any, owner: Site) -> Rows:
        owns = {"site_uid": owner.uid}
        return {
            site_settings: [{**owns, **SPEC.row(body if isinstance(body, dict) else {})}],
            site_mail_recipients: RECIPIENT.numbered(pick(body, "mailRecipients"), owns),
        }
