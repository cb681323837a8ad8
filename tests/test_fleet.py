"""Two daemons on one PostgreSQL database share four accounts, and take over a dead one's."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import Engine, select

from datto_sim import Simulator
from etl.config import load_settings
from etl.db.engine import make_engine
from etl.db.migrate import upgrade
from etl.db.state import sync_runs
from etl.fleet import Fleet
from etl.scheduler import AccountSlots
from tests.accounts_helpers import simulators, write_config
from tests.conftest import _reset_pg
from tests.test_scheduler import Daemon, wait_for

SCALE = 60.0  # one simulated minute per real second
TAKEOVER = 120  # simulated seconds: a dead daemon's accounts move within 2 real seconds
NAMES = ["sites", "devices", "filters", "users"]


def config(tmp_path: Path, sims: list[Simulator], db_url: str) -> tuple[Path, dict[str, str]]:
    """Four accounts, second-scale cadences, JSON log lines."""
    schedule = [
        "[schedule]",
        f"time_scale = {SCALE}",
        f"takeover_seconds = {TAKEOVER}",
        *(f'{n} = "every 2m"' for n in NAMES),
    ]
    path, env = write_config(tmp_path, sims, db_url, extra="\n".join(schedule))
    env["DATTO_ETL_LOG_JSON_LINES"] = "true"
    return path, env


def ok_accounts(engine: Engine, after: float = 0.0) -> set[str]:
    """Accounts with an ok run of every resource started after ``after`` (epoch seconds)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(sync_runs.c.account_uid, sync_runs.c.resource, sync_runs.c.started_at).where(
                sync_runs.c.status == "ok"
            )
        ).all()
    done: dict[str, set[str]] = defaultdict(set)
    for uid, resource, started in rows:
        if started.timestamp() > after:
            done[uid].add(resource)
    return {uid for uid, names in done.items() if set(NAMES) <= names}


def running(daemon: Daemon) -> list[str]:
    """The accounts this daemon said it took, in order."""
    names = []
    for line in list(daemon.lines):
        with_json = line.startswith("{")
        message = json.loads(line).get("message", "") if with_json else line
        if message.startswith("running account "):
            names.append(message.rsplit(" ", 1)[-1])
    return names


def one_client_at_a_time(sim: Simulator) -> None:
    """The simulator's log: the tokens (clients) that called it never overlap in time."""
    spans: dict[str, list[float]] = {}
    with sim.lock:
        for record in sim.records:
            token = record.authorization or ""
            if token.startswith("Bearer "):
                span = spans.setdefault(token, [record.time, record.time])
                span[1] = record.time
    ordered = sorted(spans.values())
    for before, after in itertools.pairwise(ordered):
        assert before[1] < after[0], ordered


def test_two_daemons_share_four_accounts_and_take_over(pg_server_url: str, tmp_path: Path) -> None:
    _reset_pg(pg_server_url)
    engine = make_engine(pg_server_url)
    upgrade(engine)  # the daemons would, but the test reads sync_runs from the start
    with simulators(4, time_scale=SCALE) as sims:
        path, env = config(tmp_path, sims, pg_server_url)
        uids = {s.account_uid for s in sims}
        first = Daemon(env, path, tmp_path, *NAMES)
        second = Daemon(env, path, tmp_path, *NAMES)
        try:
            wait_for(lambda: ok_accounts(engine) == uids, "every account synced")
            wait_for(lambda: bool(running(first)) and bool(running(second)), "a split")
            killed_at = time.time()
            first.kill()
            wait_for(
                lambda: ok_accounts(engine, after=killed_at) == uids,
                "every account synced again after the kill",
                timeout=60,
            )
            taken = set(running(second))
        finally:
            if first.proc.poll() is None:
                first.kill()
            code, err, _ = second.terminate()
        assert code == 0, err[-3000:]
        assert taken == {"a", "b", "c", "d"}  # the dead daemon's accounts moved here
        for sim in sims:
            one_client_at_a_time(sim)
    engine.dispose()


def test_slots_bound_the_accounts_running_at_once() -> None:
    slots = AccountSlots(1)
    stop = threading.Event()
    with slots.hold("a", stop) as first, slots.hold("a", stop) as again:
        assert first and again  # the account that has the slot takes more runs
        waiting = threading.Thread(target=lambda: slots.hold("b", stop).__enter__())
        waiting.start()
        waiting.join(0.3)
        assert waiting.is_alive()  # b waits for a's slot
        stop.set()
        waiting.join(5)
    assert not waiting.is_alive()


def test_the_fair_share_rounds_up(tmp_path: Path) -> None:
    with simulators(3) as sims:
        path, env = write_config(tmp_path, sims, f"sqlite:///{tmp_path / 'etl.db'}")
        fleet = Fleet(load_settings(path, env=env))
    assert [fleet.share(n) for n in (1, 2, 3, 4)] == [3, 2, 1, 1]


def test_one_daemon_runs_every_account_while_one_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'etl.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with simulators(3, time_scale=SCALE) as sims:
        path, env = config(tmp_path, sims, url)
        env["ACCOUNT_B_SECRET"] = "wrong"
        fleet = Fleet(load_settings(path, env=env), NAMES)
        thread = threading.Thread(target=fleet.run)
        thread.start()
        try:
            good = {sims[0].account_uid, sims[2].account_uid}
            wait_for(lambda: ok_accounts(engine) == good, "the two good accounts synced")
            wait_for(lambda: fleet.failures.get("b", 0) >= 1, "b's refusal noted")
            assert fleet.fatal is None  # one account's credentials do not end the daemon
        finally:
            fleet.stop.set()
            thread.join(30)
        assert not thread.is_alive()
        assert sims[1].count(status=200) == 0  # b never got further than its token
    engine.dispose()
