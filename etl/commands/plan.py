"""``datto-etl plan`` (see :mod:`etl.plan`)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add ``plan`` to ``app``."""
    from etl.plan import plan

    app.command()(plan)
