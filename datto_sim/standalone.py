"""The simulator on its own: ``python -m datto_sim`` serves an account until Ctrl-C.

It prints the URL and the credentials to export for the ETL (``DATTO_API_URL``,
``DATTO_API_KEY``, ``DATTO_API_SECRET``) and the budget window to set (the account's rolling
window in real seconds: the simulator's clock may run fast). :func:`serve` is the piece a
``datto-etl simulator`` command calls: it starts the simulator, hands it to ``on_ready`` and
blocks until SIGINT/SIGTERM or a ``stop`` event, then stops it cleanly.

Any knob of :class:`~datto_sim.core.SimSettings` can be set with ``--set NAME=VALUE``
(tuples comma-separated: ``--set trickle=lists``); jobs follow the clock here unless told
otherwise, as on a live account.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
import typing
from collections.abc import Callable, Sequence
from typing import Any

from datto_sim.core import SimSettings, Simulator


def serve(
    settings: SimSettings | None = None,
    *,
    port: int = 0,
    on_ready: Callable[[Simulator], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve ``settings`` on 127.0.0.1:``port`` (0: a free one) until SIGINT or SIGTERM (on
    the main thread) or until ``stop`` is set; ``on_ready`` gets the started simulator."""
    stop = stop or threading.Event()
    sim = Simulator(settings)
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        sim.start(port)
        if on_ready:
            on_ready(sim)
        while not stop.wait(0.2):  # short waits: the signal handler runs between them
            pass
    finally:
        sim.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def describe(sim: Simulator) -> str:
    """What to export to point the ETL at ``sim``."""
    s = sim.settings
    return "\n".join(
        [
            f"Datto RMM simulator at {sim.url} (seed {s.seed}, {len(sim.devices)} devices, "
            f"{len(sim.sites)} sites, time x{s.time_scale:g})",
            f"export DATTO_API_URL={sim.url}",
            f"export DATTO_API_KEY={s.api_key}",
            f"export DATTO_API_SECRET={s.api_secret}",
            # in API seconds: the ETL scales it by the window request_rate reports
            f"export DATTO_ETL_BUDGET_BLOCK_SECONDS={s.block_seconds:g}"
            f"  # an IP block lasts {s.block_seconds:g} simulated s",
            "Press Ctrl-C to stop.",
        ]
    )


def parse_knob(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` → the knob's name and its value in the knob's type."""
    name, sep, raw = text.partition("=")
    hints = typing.get_type_hints(SimSettings)
    if not sep or name not in hints:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE with a SimSettings knob")
    kind, value = hints[name], raw.strip()
    args = typing.get_args(kind)
    try:
        if value.lower() == "none" and type(None) in args:
            return name, None
        if kind is bool:
            return name, value.lower() in ("1", "true", "yes", "on")
        if typing.get_origin(kind) is tuple:
            return name, tuple(args[0](v.strip()) for v in value.split(",") if v.strip())
        base = next((a for a in args if a is not type(None)), kind)
        return name, base(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m datto_sim``: serve until Ctrl-C; 0 on a clean stop, 2 on bad arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m datto_sim",
        description="Serve a simulated Datto RMM account on 127.0.0.1 until Ctrl-C.",
    )
    parser.add_argument("--devices", type=int, default=SimSettings.devices)
    parser.add_argument("--sites", type=int, default=SimSettings.sites)
    parser.add_argument("--seed", type=int, default=SimSettings.seed)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument(
        "--set",
        dest="knobs",
        action="append",
        type=parse_knob,
        default=[],
        metavar="NAME=VALUE",
        help="any SimSettings knob, e.g. --set activity_date_unit=ms --set trickle=lists",
    )
    args = parser.parse_args(argv)
    knobs = {"jobs_follow_clock": True, **dict(args.knobs)}  # a live account's jobs move on
    settings = SimSettings(
        seed=args.seed, devices=args.devices, sites=args.sites, time_scale=args.time_scale
    )
    settings = dataclasses.replace(settings, **knobs)

    def ready(sim: Simulator) -> None:
        print(describe(sim), flush=True)

    serve(settings, port=args.port, on_ready=ready)
    print("simulator stopped", file=sys.stderr, flush=True)
    return 0
