"""``datto-etl sync`` on a pseudo-terminal: what the operator's screen shows (pyte emulates it)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pyte

from datto_sim import Simulator
from tests.conftest import sim_env

ROWS, COLS = 60, 140


def run_on_pty(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, list[list[str]]]:
    """Run ``datto-etl ARGS`` on a pseudo-terminal; its exit code and every screen seen."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    env = {**env, "TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(ROWS)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=cwd,
        close_fds=True,
    )
    os.close(slave)
    screen = pyte.Screen(COLS, ROWS)
    stream = pyte.ByteStream(screen)
    screens: list[list[str]] = []
    deadline = time.monotonic() + 240  # only guards against a hang
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            stream.feed(chunk)
            screens.append(list(screen.display))
        code = proc.wait(timeout=30)
    finally:
        proc.kill()
        os.close(master)
    return code, screens


def test_one_live_display_with_log_lines_above_and_budget_waits_said(tmp_path: Path) -> None:
    with Simulator(devices=30, sites=3, time_scale=1.0) as sim:
        env = sim_env(sim, f"sqlite:///{tmp_path / 'etl.db'}")
        # a tiny budget: the sync must wait for the window, and say so
        env["DATTO_ETL_BUDGET_REQUESTS_PER_MINUTE"] = "3"
        env["DATTO_ETL_BUDGET_WINDOW_SECONDS"] = "4"
        env["DATTO_ETL_LOG_LEVEL"] = "INFO"
        code, screens = run_on_pty(["sync", "sites", "devices"], env, tmp_path)
    final = screens[-1]
    text = "\n".join(final)
    assert code == 0, text
    # a "waiting for budget (n s)" line showed while the budget made the sync wait
    assert any("waiting for budget (" in line for screen in screens for line in screen), text
    # one display: each resource's line once on the final screen, not a copy per log line
    for name in ("sites", "devices"):
        display = [ln for ln in final if ln.split()[1:2] == [name] and "requests" in ln]
        assert len(display) == 1, text
    # log lines print above the display, never inside it
    log_rows = [i for i, ln in enumerate(final) if "etl.sync:" in ln]
    display_rows = [i for i, ln in enumerate(final) if " requests " in ln]
    assert log_rows and display_rows, text
    assert max(log_rows) < min(display_rows), text
    assert "Traceback" not in text
