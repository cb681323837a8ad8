"""``python -m bench accounts``: many accounts at once, each against its own rate limit.

Ten simulated accounts of 500 devices each (their ids colliding on purpose) are synced into
one PostgreSQL database: sites, devices and one audit per device, some 460 requests per
account. Each account has its own budget (100 requests per 60 s here, so that the budget
and not the machine paces the run; the audits allowed the whole of it), so the least
possible time is the per-account floor: the busiest account's requests through its own
sliding window (``((requests - 1) // budget) * 60 s``), not the sum over accounts. Figures,
as ratios of wall time to that floor (1.0 is ideal; one account after the other would be
about 10):

- one process: ``datto-etl sync`` of every account (``schedule.parallel_accounts`` = 10);
- two daemons: two ``datto-etl run`` processes sharing the accounts through advisory locks,
  timed until every account has its audits.

The simulators run on a scaled clock (``SCALE``); times are simulated seconds.
``DATTO_ETL_BENCH_PG`` is the PostgreSQL server (as for ``bench alerts``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select

from bench.alerts import pg_database
from datto_sim import Simulator
from etl.accounts import Account, accounts_of, sync_accounts
from etl.config import load_settings
from etl.db.engine import make_engine
from etl.db.migrate import upgrade
from etl.db.state import sync_runs
from etl.sync import SyncReport, run_sync

ACCOUNTS = int(os.environ.get("DATTO_ETL_BENCH_ACCOUNTS", "10"))
DEVICES = int(os.environ.get("DATTO_ETL_BENCH_DEVICES", "500"))
SCALE = 4.0  # simulated seconds per real second
RPM = 100
NAMES = ["sites", "devices", "device_audits"]


@contextlib.contextmanager
def simulators() -> Iterator[list[Simulator]]:
    """The accounts, started (seeds 1…N; usernames and component uids shared)."""
    sims = [
        Simulator(
            seed=n + 1,
            id_seed=7,
            devices=DEVICES,
            sites=10,
            time_scale=SCALE,
            api_key=f"key-{n}",
            api_secret=f"secret-{n}",
        )
        for n in range(ACCOUNTS)
    ]
    try:
        yield [s.start() for s in sims]
    finally:
        for sim in sims:
            sim.stop()


def configure(folder: Path, sims: list[Simulator], url: str) -> tuple[Path, dict[str, str]]:
    """A config with one ``[[accounts]]`` entry per simulator, and its environment."""
    lines = [
        "[schedule]",
        f"time_scale = {SCALE}",
        f"parallel_accounts = {ACCOUNTS}",
        "takeover_seconds = 10",
        *(f'{n} = "every 1d"' for n in NAMES),
        "[budget]",
        f"requests_per_minute = {RPM}",
        "low_priority_share = 1.0",
        f"window_seconds = {60.0 / SCALE}",
        f'state_dir = "{folder / "state"}"',
        "[log]",
        'level = "WARNING"',
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATTO")}
    for n, sim in enumerate(sims):
        lines += [
            "[[accounts]]",
            f'name = "account{n}"',
            f'api_url = "{sim.url}"',
            f'api_key_env = "BENCH_KEY_{n}"',
            f'api_secret_env = "BENCH_SECRET_{n}"',
        ]
        env[f"BENCH_KEY_{n}"], env[f"BENCH_SECRET_{n}"] = (
            sim.settings.api_key,
            sim.settings.api_secret,
        )
    path = folder / "datto-etl.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env["DATTO_ETL_DATABASE_URL"] = url
    return path, env


def floor(sims: list[Simulator], before: list[int]) -> float:
    """The per-account floor in simulated seconds: the sliding window lets ``RPM`` requests
    through per 60 s, so the busiest account's last request cannot go out before this."""
    busiest = max(len(s.records) - b for s, b in zip(sims, before, strict=True))
    return (busiest - 1) // RPM * 60.0


def one_process(sims: list[Simulator], path: Path, env: dict[str, str], url: str) -> None:
    """Every account synced by one process; prints wall ÷ floor."""
    settings = load_settings(path, env=env)
    engine = make_engine(url)
    upgrade(engine)
    before = [len(s.records) for s in sims]
    started = time.monotonic()

    def one(account: Account) -> SyncReport:
        own = make_engine(url)  # as `datto-etl sync` does: each account's commits, its lock
        try:
            return run_sync(account.settings, NAMES, engine=own, account_name=account.name)
        finally:
            own.dispose()

    outcomes = sync_accounts(accounts_of(settings), one, parallel=ACCOUNTS, stop=threading.Event())
    wall = (time.monotonic() - started) * SCALE
    engine.dispose()
    ok = sum(1 for o in outcomes if o.exit_code == 0)
    least = floor(sims, before)
    requests = sum(len(s.records) - b for s, b in zip(sims, before, strict=True))
    print(f"one process        {ok}/{len(sims)} accounts ok, {requests} requests")
    print(f"  wall / floor     {wall / least:.2f} (floor {least:.0f} s simulated per account;")
    print(f"                   one account after the other: about {len(sims)})")


def two_daemons(sims: list[Simulator], path: Path, env: dict[str, str], url: str) -> None:
    """Two ``datto-etl run`` processes; prints wall ÷ floor until every account is audited."""
    engine = make_engine(url)
    upgrade(engine)
    before = [len(s.records) for s in sims]
    command = [sys.executable, "-m", "etl", "--config", str(path), "run", *NAMES]
    started = time.monotonic()
    env = {**env, "DATTO_ETL_LOG_LEVEL": "INFO"}  # the daemons say which accounts they take
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    done, first_run = 0, 0.0
    try:
        while done < len(sims) and time.monotonic() - started < 3600:
            with engine.connect() as conn:
                done = conn.execute(
                    select(func.count(func.distinct(sync_runs.c.account_uid))).where(
                        sync_runs.c.resource == "device_audits", sync_runs.c.status == "ok"
                    )
                ).scalar_one()
                runs = conn.execute(select(func.count()).select_from(sync_runs)).scalar_one()
            if runs and not first_run:
                first_run = time.monotonic() - started
            time.sleep(0.2)
        wall = (time.monotonic() - started) * SCALE
    finally:
        for proc in procs:
            proc.terminate()
        logs = [proc.communicate(timeout=60)[1] for proc in procs]
        engine.dispose()
    least = floor(sims, before)
    taken = [log.count("running account ") for log in logs]
    handed = sum(log.count("handing account ") for log in logs)
    print(f"two daemons        {done}/{len(sims)} accounts audited")
    print(f"  taken            {' + '.join(map(str, taken))} accounts, {handed} handed back")
    print(f"  first run after  {first_run * SCALE:.0f} s simulated (start-up, membership settle)")
    print(f"  wall / floor     {wall / least:.2f} (start-up included)")


def main() -> None:
    """Both scenarios, each on a fresh database and fresh accounts."""
    print(f"accounts           {ACCOUNTS} x {DEVICES} devices, budget {RPM} per 60 s each")
    for scenario in (one_process, two_daemons):
        with (
            tempfile.TemporaryDirectory() as tmp,
            pg_database() as url,
            simulators() as sims,
        ):
            if url is None:
                return
            path, env = configure(Path(tmp), sims, url)
            scenario(sims, path, env, url)


if __name__ == "__main__":
    main()
