"""Site settings: ``GET /v2/site/{uid}/settings`` → ``site_settings``, ``site_mail_recipients``.

The proxy password is not stored: secrets stay out of the database.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import BigInteger, Boolean, Column, Integer, String, Table, Text

from etl.db.schema import account_columns, metadata
from etl.resources.base import as_bool, as_int, pick, register
from etl.resources.common import numbered
from etl.resources.patterns import PerSiteResource, Rows

site_settings = Table(
    "site_settings",
    metadata,
    Column("site_uid", String(64), primary_key=True),
    Column("name", Text),
    Column("description", Text),
    Column("on_demand", Boolean),
    Column("proxy_host", Text),
    Column("proxy_port", Integer),
    Column("proxy_type", String(16)),
    Column("proxy_username", Text, info={"doc": "the proxy password is never stored"}),
    *account_columns(),
    info={"doc": "General and proxy settings of each site."},
)

site_mail_recipients = Table(
    "site_mail_recipients",
    metadata,
    Column("site_uid", String(64), primary_key=True),
    Column("position", Integer, primary_key=True, info={"doc": "place in the settings list"}),
    Column("name", Text),
    Column("email", Text),
    Column("type", String(32)),
    Column("receives", BigInteger),
    Column("receives_alerts", Boolean),
    Column("receives_reports", Boolean),
    Column("receives_new_devices", Boolean),
    *account_columns(),
    info={"doc": "Who receives each site's mails (alerts, reports, new devices)."},
)


@register
class SiteSettings(PerSiteResource):
    """Each live site's settings document, one request per site."""

    name = "site_settings"
    path = "/v2/site/{uid}/settings"
    tables: ClassVar = (site_settings, site_mail_recipients)

    def rows(self, site_uid: str, body: Any) -> Rows:
        general = pick(body, "generalSettings")
        proxy = pick(body, "proxySettings")
        recipients = numbered(pick(body, "mailRecipients"), {"site_uid": site_uid})
        return {
            site_settings: [
                {
                    "site_uid": site_uid,
                    "name": pick(general, "name"),
                    "description": pick(general, "description"),
                    "on_demand": as_bool(pick(general, "onDemand")),
                    "proxy_host": pick(proxy, "host"),
                    "proxy_port": as_int(pick(proxy, "port")),
                    "proxy_type": pick(proxy, "type"),
                    "proxy_username": pick(proxy, "username"),
                }
            ],
            site_mail_recipients: [
                {
                    **key,
                    "name": item.get("name"),
                    "email": item.get("email"),
                    "type": item.get("type"),
                    "receives": as_int(item.get("receives")),
                    "receives_alerts": as_bool(item.get("receivesAlerts")),
                    "receives_reports": as_bool(item.get("receivesReports")),
                    "receives_new_devices": as_bool(item.get("receivesNewDevices")),
                }
                for item, key in recipients
            ],
        }
