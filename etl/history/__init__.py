"""History: how each device, site and software list changed, day by day (DATA_CONTRACT.md).

The API shows only the present, so the ETL records what each sync sees, at no extra request:

* :mod:`etl.history.versions`: ``device_history`` and ``site_history``, one version per change
  of the tracked, slowly-changing attributes, chained ``valid_from``/``valid_to``;
* :mod:`etl.history.daily`: ``device_daily``, every live device's posture per UTC day;
* :mod:`etl.history.software`: ``device_software_history``, when each title came and went.

Every writer runs inside the transaction of the rows it derives from (a list page, a removal
confirmation, a batch of software lists) and compares with what is stored before writing,
so a crash, a rerun or a sync that sees no change never duplicates or splits a version.
The resources call them through small hooks (``ListResource.track``/``untrack``, the
software resource's ``save``); ``[history] enabled = false`` turns them all off.
"""

from __future__ import annotations

from typing import Any

from etl.resources.base import RunContext


def enabled(ctx: RunContext) -> bool:
    """Whether this run records history (``[history] enabled``, default on)."""
    return bool(ctx.settings.history.enabled)


def clean(value: Any, length: int | None = None) -> Any:
    """A value as the loader stores it (no NUL characters, cut to the column's length), so
    that what is compared with the stored history is what was stored."""
    if isinstance(value, str):
        value = value.replace("\x00", "")
        return value[:length] if length else value
    return value
