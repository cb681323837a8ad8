"""Several simulated accounts in one configuration: a TOML file and its environment."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datto_sim import Simulator

SHARED_IDS = 7  # the simulators' id_seed: usernames, component uids (and filter/variable ids)


@contextlib.contextmanager
def simulators(count: int, **knobs: Any) -> Iterator[list[Simulator]]:
    """``count`` small accounts (seeds 1, 2, …) whose ids collide on purpose, started."""
    sims: list[Simulator] = []
    own = [knobs.pop(f"sim{n}", {}) for n in range(count)]  # knobs of one simulator only
    try:
        for n, extra in enumerate(own):
            sims.append(
                Simulator(
                    **{
                        "seed": n + 1,
                        "id_seed": SHARED_IDS,
                        "devices": 30,
                        "sites": 3,
                        "time_scale": 100.0,
                        "api_key": f"key-{n}",
                        "api_secret": f"secret-{n}",
                        **knobs,
                        **extra,
                    }
                ).start()
            )
        yield sims
    finally:
        for sim in sims:
            sim.stop()


def write_config(
    folder: Path, sims: list[Simulator], db_url: str, *, extra: str = "", names: str = "abcdef"
) -> tuple[Path, dict[str, str]]:
    """A config naming one account per simulator (``a``, ``b``, …), and its environment."""
    lines = [extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATTO")}
    for name, sim in zip(names, sims, strict=False):
        upper = name.upper()
        lines += [
            "[[accounts]]",
            f'name = "{name}"',
            f'api_url = "{sim.url}"',
            f'api_key_env = "ACCOUNT_{upper}_KEY"',
            f'api_secret_env = "ACCOUNT_{upper}_SECRET"',
        ]
        env[f"ACCOUNT_{upper}_KEY"] = sim.settings.api_key
        env[f"ACCOUNT_{upper}_SECRET"] = sim.settings.api_secret
    path = folder / "datto-etl.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env.update(
        DATTO_ETL_DATABASE_URL=db_url,
        DATTO_ETL_BUDGET_WINDOW_SECONDS=str(60.0 / sims[0].settings.time_scale),
        DATTO_ETL_BUDGET_STATE_DIR=str(folder / "state"),
    )
    return path, env
