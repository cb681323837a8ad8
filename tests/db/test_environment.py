"""The environment refuses (full disk, read-only file, bad path or URL): one line, exit 1.

Exit 70 ("internal error … please report it") is for bugs only; what the operator can fix
gets a one-line cause and fix, and never loses what was committed before.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from datto_sim import Simulator
from etl.db.engine import make_engine
from etl.errors import StorageError
from etl.resources.devices import devices
from etl.resources.sites import sites
from etl.sync import run_sync
from tests.conftest import settings_for, sim_env
from tests.test_cli import run


@contextlib.contextmanager
def small_disk(where: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (root only; skips the test otherwise)."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` up to ``leave`` free bytes with one file; return it."""
    filler = disk / "filler"
    with filler.open("wb") as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 65536)
            fh.flush()
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The last stderr line, checked to be the one-line error of an environment problem."""
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: "), result.stderr[-2000:]
    return line


def counts(db: Path) -> tuple[int, int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return (
            conn.execute("SELECT count(*) FROM sites").fetchone()[0],
            conn.execute("SELECT count(*) FROM devices").fetchone()[0],
        )


def test_disk_full_says_so_and_keeps_what_was_loaded(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    with small_disk(disk), Simulator(devices=300, sites=10) as sim:
        db = disk / "etl.db"
        env = sim_env(sim, f"sqlite:///{db}")
        assert run(["sync", "sites"], env, tmp_path).returncode == 0
        filler = fill(disk, leave=100_000)  # room for a run row, not for 300 devices
        line = one_error_line(run(["sync", "sites", "devices"], env, tmp_path))
        assert "disk" in line and "is full" in line and "free some space" in line
        assert str(db) in line
        filler.unlink()
        assert counts(db) == (len(sim.sites), 0)  # the sites are intact, no half page
        assert run(["sync", "sites", "devices"], env, tmp_path).returncode == 0  # space freed
        assert counts(db) == (len(sim.sites), len(sim.devices))


def test_disk_full_in_process_when_no_small_disk_can_be_mounted(tmp_path: Path) -> None:
    """The same fault without root: SQLite's max_page_count makes the file "full"."""
    db = tmp_path / "etl.db"
    engine = make_engine(f"sqlite:///{db}")
    with Simulator(devices=300, sites=10) as sim:
        assert run_sync(settings_for(sim), ["sites"], engine=engine).ok
        with contextlib.closing(sqlite3.connect(db)) as conn:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
        engine.dispose()

        @event.listens_for(engine, "connect")
        def _cap(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            dbapi_conn.execute(f"PRAGMA max_page_count={pages + 8}")

        with pytest.raises(StorageError, match="is full: free some space"):
            run_sync(settings_for(sim), ["sites", "devices"], engine=engine)
        engine.dispose()
    with make_engine(f"sqlite:///{db}").connect() as conn:
        assert conn.execute(select(func.count()).select_from(sites)).scalar_one() == len(sim.sites)
        assert conn.execute(select(func.count()).select_from(devices)).scalar_one() == 0


def test_read_only_database_says_so(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    env = {"PATH": "/usr/bin:/bin"}
    with small_disk(disk):
        db = disk / "etl.db"
        env["DATTO_ETL_DATABASE_URL"] = f"sqlite:///{db}"
        assert run(["db", "upgrade"], env, tmp_path).returncode == 0
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        line = one_error_line(run(["db", "upgrade"], env, tmp_path))
        assert f"the database {db} is read-only" in line and "writable" in line
        fresh = disk / "new" / "etl.db"  # a directory that cannot be made on a read-only disk
        env["DATTO_ETL_DATABASE_URL"] = f"sqlite:///{fresh}"
        assert "read-only" in one_error_line(run(["db", "upgrade"], env, tmp_path))


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite://", "in-memory SQLite database: nothing would be kept"),
        ("sqlite:///", "in-memory SQLite database: nothing would be kept"),
        ("sqlite:///:memory:", "in-memory SQLite database: nothing would be kept"),
        ("sqlite:///file:x?mode=memory&uri=true", "in-memory"),
        ("sqlite+nodriver:///x.db", "driver 'sqlite+nodriver' is not available"),
        ("postgresql+nodriver://u@h/db", "driver 'postgresql+nodriver' is not available"),
        ("mysql://u@h/db", "'mysql' is not supported: use SQLite or PostgreSQL"),
        ("not a url", "is not valid: set database.url"),
        ("sqlite:///{tmp}", "points at the directory"),
        ("sqlite:///{tmp}/afile/x.db", "cannot create the database"),
    ],
)
def test_unusable_database_urls(tmp_path: Path, url: str, says: str) -> None:
    (tmp_path / "afile").write_text("not a directory")
    before = sorted(tmp_path.iterdir())
    env = {"PATH": "/usr/bin:/bin", "DATTO_ETL_DATABASE_URL": url.format(tmp=tmp_path)}
    # status opens the database read-only: a missing file is "no database at …" there
    commands = [["db", "upgrade"], ["sync"]] + ([["status"]] if "{tmp}" not in url else [])
    env.update(DATTO_API_URL="http://127.0.0.1:9", DATTO_API_KEY="k", DATTO_API_SECRET="s")
    for command in commands:
        line = one_error_line(run(command, env, tmp_path))
        assert says in line, (command, line)
    assert sorted(tmp_path.iterdir()) == before  # nothing created


def test_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "new" / "etl.db"
    env = {"PATH": "/usr/bin:/bin", "DATTO_ETL_DATABASE_URL": f"sqlite:///{db}"}
    result = run(["db", "upgrade"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"created the directory {db.parent} for the database" in result.stderr
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:  # the -wal and -shm files exist while a connection is open
        conn.execute(select(func.count()).select_from(sites)).scalar_one()
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in db.parent.iterdir()}
    engine.dispose()
    assert modes == {"etl.db": 0o600, "etl.db-wal": 0o600, "etl.db-shm": 0o600}


def test_status_on_a_mistyped_path_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "missing" / "etl.db"
    env = {"PATH": "/usr/bin:/bin", "DATTO_ETL_DATABASE_URL": f"sqlite:///{db}"}
    line = one_error_line(run(["status"], env, tmp_path))
    assert line == (f"error: no database at {db}: run `datto-etl sync` first or check database.url")
    assert not db.parent.exists()
    db.parent.mkdir()
    one_error_line(run(["status"], env, tmp_path))
    assert list(db.parent.iterdir()) == []  # no empty file either
    assert run(["db", "upgrade"], env, tmp_path).returncode == 0
    writes = os.stat(db).st_mtime_ns
    shown = run(["status", "--json"], env, tmp_path)  # read-only, on a real database
    assert shown.returncode == 1 and '"never synced successfully"' in shown.stdout
    assert os.stat(db).st_mtime_ns == writes
