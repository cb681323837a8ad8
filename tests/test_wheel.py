"""A built wheel works on its own: migrations and the simulator ship inside it.

Builds the project's wheel, installs it (not editable) into a fresh virtual environment
and runs ``datto-etl db upgrade`` and a small ``datto-etl demo`` from a folder outside the
checkout, so nothing of the source tree can stand in for what the wheel lacks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"{args[:3]} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_wheel_installs_and_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)]
    _run(build, ROOT)
    (wheel,) = dist.glob("datto_rmm_etl-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    _run([str(bin_dir / "pip"), "install", "-q", str(wheel)], tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATTO", "PYTHON"))}
    env["DATTO_ETL_DATABASE_URL"] = f"sqlite:///{work / 'upgraded.db'}"
    printed = _run([str(bin_dir / "datto-etl"), "db", "upgrade"], work, env)
    assert "is at head" in printed
    printed = _run(
        [str(bin_dir / "datto-etl"), "demo", "--devices", "40", "--sites", "4"], work, env
    )
    assert "devices=" in printed
    assert (work / "demo.db").is_file()
