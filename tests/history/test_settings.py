"""``[history]``: on by default, off on request, history starting with an existing database,
and the retention of ``device_daily``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from datto_sim import Simulator
from etl.config import Settings, load_settings
from etl.errors import ConfigError
from etl.history.tables import device_daily, device_history, site_history
from etl.sync import run_sync
from tests.conftest import settings_for
from tests.resources.helpers import rows, small_sim

PAIR = ["sites", "devices"]


def with_history(sim: Simulator, **history: object) -> Settings:
    """Settings for ``sim`` with ``[history]`` values."""
    settings = settings_for(sim)
    return settings.model_copy(update={"history": settings.history.model_copy(update=history)})


def test_history_starts_with_the_first_run_on_an_existing_database(engine: Engine) -> None:
    with small_sim(devices=30, sites=3) as sim:
        # a database filled while history was off, as one synced before the upgrade
        assert run_sync(with_history(sim, enabled=False), PAIR, engine=engine).ok
        assert not rows(engine, device_history) and not rows(engine, device_daily)
        sim.clock.advance(86_400)
        when = sim.clock.now_dt()
        assert run_sync(settings_for(sim), PAIR, engine=engine, clock=lambda: when).ok
        live = {u for u, d in sim.devices.items() if not d["deleted"]}
        versions = rows(engine, device_history)
        assert {r.device_uid for r in versions} == live and len(versions) == len(live)
        assert all(r.valid_from == when and r.valid_to is None for r in versions)
        assert {r.site_uid for r in rows(engine, site_history)} == set(sim.sites)
        assert {(r.device_uid, r.day) for r in rows(engine, device_daily)} == {
            (u, when.date()) for u in live
        }


def test_device_daily_keeps_the_days_it_is_told(engine: Engine) -> None:
    with small_sim(devices=20, sites=2) as sim:
        days: list[datetime] = []
        for _ in range(4):
            days.append(sim.clock.now_dt())
            settings = with_history(sim, device_daily_days=2)
            report = run_sync(settings, PAIR, engine=engine, clock=lambda at=days[-1]: at)
            assert report.ok
            sim.clock.advance(86_400)
        with engine.connect() as conn:
            kept = set(conn.execute(select(device_daily.c.day)).scalars())
        assert kept == {d.date() for d in days[-2:]}
        assert days[-1].date() - days[-2].date() == timedelta(days=1)


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"DATTO_ETL_HISTORY_DEVICE_DAILY_DAYS": "0"}, "history.device_daily_days"),
        ({"DATTO_ETL_HISTORY_ENABLED": "maybe"}, "history.enabled"),
    ],
)
def test_bad_history_settings_name_the_key(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env)
    assert fragment in str(caught.value)


def test_history_settings_from_the_environment() -> None:
    settings = load_settings(
        env={"DATTO_ETL_HISTORY_ENABLED": "false", "DATTO_ETL_HISTORY_DEVICE_DAILY_DAYS": "400"}
    )
    assert settings.history.enabled is False and settings.history.device_daily_days == 400
    assert load_settings(env={}).history.device_daily_days is None  # default: keep every day
