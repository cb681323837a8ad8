"""``datto-etl check`` (see :mod:`etl.check`)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add ``check`` to ``app``."""
    from etl.check import check

    app.command()(check)
