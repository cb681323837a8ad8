"""Shared fixtures: a simulator on loopback, and a real database per dialect.

Every test that takes ``engine`` runs twice, on a fresh SQLite file and on a throwaway
PostgreSQL database (created per test session, dropped at its end). PostgreSQL is at
``ETL_TEST_PG`` (default ``postgresql://postgres@127.0.0.1:5432/test``); when it cannot
be reached the PostgreSQL variants fail, unless ``ETL_TEST_SKIP_PG=1`` is set by hand.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from datto_sim import Simulator
from etl.api.client import DattoClient
from etl.api.session import DattoSession
from etl.config import Settings
from etl.db.engine import make_engine
from etl.demo import demo_settings

PG_ADMIN_URL = os.environ.get("ETL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session (dropped afterwards)."""
    if os.environ.get("ETL_TEST_SKIP_PG") == "1":
        pytest.skip("ETL_TEST_SKIP_PG=1")
    name = f"etl_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _reset_pg(url: str) -> None:
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database of each dialect."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'etl.db'}"
    url = request.getfixturevalue("pg_server_url")
    _reset_pg(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database of each dialect."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def _state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run locks and IP-block memory in a fresh directory per test, never the user's own."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A default simulated account (≥ 50 sites, ≥ 2,000 devices) on loopback."""
    with Simulator() as s:
        yield s


def settings_for(sim: Simulator, db_url: str = "sqlite://", **budget: object) -> Settings:
    """Settings pointing at ``sim`` (the budget learns the window from its request_rate)."""
    return demo_settings(sim, db_url, **budget)


@contextlib.contextmanager
def client_for(sim: Simulator, **datto: object) -> Iterator[DattoClient]:
    """A client view on a fresh API session to ``sim`` (``datto`` overrides DattoSettings)."""
    s = settings_for(sim)
    with DattoSession(s.datto.model_copy(update=datto), s.budget) as session:
        yield DattoClient(session)


def sim_env(sim: Simulator, db_url: str) -> dict[str, str]:
    """Environment for a ``datto-etl`` subprocess against ``sim``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATTO")}
    env.update(
        DATTO_API_URL=sim.url,
        DATTO_API_KEY=sim.settings.api_key,
        DATTO_API_SECRET=sim.settings.api_secret,
        DATTO_ETL_DATABASE_URL=db_url,
    )  # no window: the ETL follows the one the simulator reports in request_rate
    return env
