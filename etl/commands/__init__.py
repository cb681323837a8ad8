"""Commands beyond sync/run/status/demo/report, one module each, registered on the CLI app.

``simulator`` (:mod:`.simulator`), ``resources`` (:mod:`.resources`), ``check``
(:mod:`etl.check`) and ``plan`` (:mod:`etl.plan`): :func:`register` adds them to the typer
app so that ``etl/cli.py`` stays the core commands only.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add every command of this package to ``app``."""
    from etl.commands import check, plan, resources, simulator

    for module in (simulator, resources, check, plan):
        module.register(app)
