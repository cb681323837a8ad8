"""The PostgreSQL run lock is checked before every commit: a lost lock never goes unnoticed.

Its session is ended the way a server restart, an idle-session kill or a failover ends it
(``pg_terminate_backend``); free, the lock is taken again and the run goes on; taken by
another holder meanwhile, the run stops at once: the transaction in hand rolls back, the
run is recorded failed, one line says why, exit 5.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, func, select, text

from datto_sim import Simulator
from datto_sim.server import Request, Response
from etl.api.memory import account_key
from etl.config import Settings
from etl.db.engine import make_engine
from etl.db.migrate import upgrade
from etl.db.schema import utcnow
from etl.db.state import start_run, sync_runs, sync_state
from etl.errors import RunLockLostError
from etl.lock import account_lock
from etl.pglock import pg_keys
from etl.resources.activity_logs import activity_logs
from tests.conftest import settings_for, sim_env
from tests.resources.helpers import FAST
from tests.test_cli import run
from tests.test_lock import account

OTHER_HOST = "datto-etl pid=4242 host=elsewhere"  # how another machine's run names itself


@pytest.fixture
def admin(pg_server_url: str) -> Iterator[Connection]:
    """A session of our own on the test database, outside any transaction."""
    eng = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        yield conn
    eng.dispose()


@pytest.fixture
def db(pg_server_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_server_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sync_state.delete())
    yield engine
    engine.dispose()


def holder_pid(admin: Connection, settings: Settings) -> int | None:
    """The backend pid holding the account's advisory lock."""
    a, b = (k & 0xFFFFFFFF for k in pg_keys(account_key(settings.datto)))
    return admin.execute(
        text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid::bigint = :a AND objid::bigint = :b"
        ),
        {"a": a, "b": b},
    ).scalar()


def kill_lock_sessions(admin: Connection) -> int:
    """End every datto-etl lock session of this test's database but ours, as a server
    restart would (only this database's: other runs share the server)."""
    return len(
        admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name LIKE 'datto-etl pid=%' AND pid <> pg_backend_pid() "
                "AND datname = current_database()"
            )
        ).all()
    )


def grab(admin: Connection, settings: Settings) -> None:
    """Take the account's lock from "another host" (waits until the killed session is gone)."""
    admin.execute(text("SELECT set_config('application_name', :n, false)"), {"n": OTHER_HOST})
    a, b = pg_keys(account_key(settings.datto))
    admin.execute(text("SELECT pg_advisory_lock(:a, :b)"), {"a": a, "b": b})


def write_cursor(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sync_state.insert().values(
                account_uid="a", resource=name, cursor={}, synced_at=utcnow()
            )
        )


def cursors(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(sync_state.c.resource)).scalars())


def test_a_lost_lock_is_taken_again_when_free(
    db: Engine, admin: Connection, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = account(str(db.url.render_as_string(hide_password=False)), tmp_path)
    with caplog.at_level(logging.WARNING, "etl.pglock"), account_lock(settings, wait=0):
        first = holder_pid(admin, settings)
        assert first is not None and kill_lock_sessions(admin) == 1
        write_cursor(db, "after-the-kill")  # the commit finds the lock gone, takes it again
        second = holder_pid(admin, settings)
        assert second is not None and second != first
    assert holder_pid(admin, settings) is None  # released at the end
    assert cursors(db) == {"after-the-kill"}
    [line] = [r.getMessage() for r in caplog.records]
    assert "was lost (its database session ended: " in line and line.endswith("taken again")


def test_a_lock_taken_by_another_meanwhile_stops_every_commit(
    db: Engine, admin: Connection, tmp_path: Path
) -> None:
    settings = account(str(db.url.render_as_string(hide_password=False)), tmp_path)
    with account_lock(settings, wait=0):
        write_cursor(db, "before")
        kill_lock_sessions(admin)
        grab(admin, settings)
        for name in ("refused", "refused-too"):
            with pytest.raises(RunLockLostError) as exc:
                write_cursor(db, name)
        start_run(db, "a", "alerts")  # the run's own record still gets written
    message = str(exc.value)
    assert message.startswith("the run lock of account http://127.0.0.1:9 was lost")
    assert "pid 4242 on elsewhere, since " in message and "this run stopped" in message
    assert exc.value.exit_code == 5 and "\n" not in message
    assert cursors(db) == {"before"}


def test_sync_stops_when_another_host_took_the_lock(
    pg_server_url: str, db: Engine, admin: Connection, tmp_path: Path
) -> None:
    requests = 0
    took = threading.Event()

    def lose_the_lock_on_page_three(sim: Simulator, req: Request) -> Response | None:
        nonlocal requests
        if req.endpoint == "GET /v2/activity-logs":
            requests += 1
            if requests == 3:  # pages 1 and 2 are committed; page 3 is on its way
                kill_lock_sessions(admin)
                grab(admin, settings)
                took.set()
        return None

    with Simulator(devices=40, sites=4, time_scale=FAST) as sim:
        settings = settings_for(sim, pg_server_url)  # the account the CLI will lock
        sim.middlewares.insert(0, lose_the_lock_on_page_three)
        env = {**sim_env(sim, pg_server_url), "DATTO_ETL_DATTO_PAGE_SIZE": "10"}
        result = run(["sync", "activity_logs"], env, tmp_path)
        origin = sim.url
    assert took.is_set()
    assert result.returncode == 5, result.stderr[-2000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: the run lock of account {origin} was lost (its database")
    assert "pid 4242 on elsewhere" in line and "Traceback" not in result.stderr
    with db.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(activity_logs)).scalar_one()
        status, error = conn.execute(
            select(sync_runs.c.status, sync_runs.c.error).where(
                sync_runs.c.resource == "activity_logs"
            )
        ).one()
    assert stored == 20  # pages 1 and 2, each with its cursor; nothing of page 3
    assert status == "failed" and error.startswith("the run lock of account")
