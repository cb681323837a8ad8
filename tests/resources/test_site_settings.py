"""Site settings: general and proxy settings (no password), mail recipients per site."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from datto_sim import site_settings as sim_settings
from etl.resources.site_settings import site_mail_recipients, site_settings
from tests.resources.helpers import rows, small_sim, sync


def test_site_settings_and_recipients(engine: Engine) -> None:
    with small_sim(devices=5, sites=8) as sim:
        proxied = next(s for s in sim.sites.values() if s["proxySettings"] is None)
        proxied["proxySettings"] = {
            "host": "proxy.example",
            "port": 3128,
            "type": "http",
            "username": "svc",
            "password": "s3cret-proxy-pw",
        }
        assert sync(sim, engine, ["sites", "site_settings"]).ok
        stored = {r.site_uid: r for r in rows(engine, site_settings)}
        assert set(stored) == set(sim.sites)
        row = stored[proxied["uid"]]
        assert (row.name, row.proxy_host, row.proxy_port, row.proxy_username) == (
            proxied["name"],
            "proxy.example",
            3128,
            "svc",
        )
        columns = [c["name"] for c in inspect(engine).get_columns("site_settings")]
        assert not [c for c in columns if "password" in c]
        assert "s3cret-proxy-pw" not in repr(rows(engine, site_settings))

        recipients = {(r.site_uid, r.email) for r in rows(engine, site_mail_recipients)}
        assert recipients == {
            (uid, m["email"]) for uid in sim.sites for m in sim_settings.recipients(sim, uid)
        }
