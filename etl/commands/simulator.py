"""``datto-etl simulator``: the bundled fake Datto account, served until Ctrl-C.

It prints the URL and the credentials to export, so every command can be tried against it
(:mod:`datto_sim.standalone` does the serving, as ``python -m datto_sim`` does).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer


def simulator(
    devices: Annotated[int, typer.Option(min=1, help="Simulated devices.")] = 2200,
    sites: Annotated[int, typer.Option(min=1, help="Simulated customer sites.")] = 60,
    seed: Annotated[int, typer.Option(help="Seed of the generated account.")] = 1,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: a free one).")] = 0,
    time_scale: Annotated[
        float, typer.Option(min=0.001, help="Simulated seconds per real second.")
    ] = 1.0,
    knobs: Annotated[
        list[str] | None,
        typer.Option(
            "--set", metavar="NAME=VALUE", help="Any simulator knob, e.g. --set fault_5xx=0.1."
        ),
    ] = None,
) -> None:
    """Serve a simulated Datto RMM account on 127.0.0.1 until Ctrl-C; prints what to export."""
    import argparse

    from datto_sim.core import SimSettings
    from datto_sim.standalone import describe, parse_knob, serve

    try:
        changes = dict(parse_knob(k) for k in knobs or [])
    except argparse.ArgumentTypeError as exc:
        typer.echo(f"error: --set {exc}", err=True)
        raise typer.Exit(2) from None
    settings = SimSettings(seed=seed, devices=devices, sites=sites, time_scale=time_scale)
    # a live account's jobs move on with the clock
    settings = dataclasses.replace(settings, **{"jobs_follow_clock": True, **changes})
    serve(settings, port=port, on_ready=lambda sim: typer.echo(describe(sim)))
    typer.echo("simulator stopped", err=True)


def register(app: typer.Typer) -> None:
    """Add ``simulator`` to ``app``."""
    app.command()(simulator)
