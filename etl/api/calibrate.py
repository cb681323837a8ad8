"""Calibration: fit the budget to what the whole account has left.

``GET /v2/system/request_rate`` answers ``accountCount`` (every client's requests in Datto's
rolling window), ``accountRateLimit`` (600) and ``accountCutOffRatio`` (0.9, the line past
which Datto delays answers). Other integrations' use is that count less our own, and counts
against us: :meth:`~etl.api.budget.RateBudget.calibrate` keeps the account below the line.

:func:`calibrate` is the budget's calibration hook (a :data:`~etl.api.budget.Calibrator`):
the session hands it to :meth:`~etl.api.budget.RateBudget.calibrate_when_due` before each
request, so the first request of a run calibrates, and so does the first one after every
``calibrate_every_seconds``. It reads through the ``read`` callable it is given and knows
nothing of the client.
"""

from __future__ import annotations

import logging
from typing import Any

from etl.api.budget import Calibration, RateBudget, Reader
from etl.errors import APIError, CredentialsError, IPBlockedError, MalformedResponseError

log = logging.getLogger(__name__)
REQUEST_RATE = "/v2/system/request_rate"


def parse(body: Any) -> tuple[int, int | None, float | None]:
    """``(accountCount, accountRateLimit, accountCutOffRatio)`` of a request_rate answer."""
    if not isinstance(body, dict) or not isinstance(body.get("accountCount"), int | float):
        raise MalformedResponseError(f"{REQUEST_RATE} answered without an accountCount")

    def number(key: str) -> float | None:
        value = body.get(key)
        return float(value) if isinstance(value, int | float) and value > 0 else None

    limit = number("accountRateLimit")
    return int(body["accountCount"]), int(limit) if limit else None, number("accountCutOffRatio")


def calibrate(budget: RateBudget, read: Reader) -> Calibration | None:
    """Read the account's request rate once and fit ``budget``; None if it could not be read.

    ``read`` GETs a path once (no retries). One attempt only: a failed look leaves the limit
    as it was until the next one. Stopping errors (credentials, IP block) are raised.
    """
    before = budget.last_calibration.limit if budget.last_calibration else budget.share
    ours = budget.used()  # before our call: requests still in flight may not be counted yet
    try:
        count, limit, ratio = parse(read(REQUEST_RATE))
        result = budget.calibrate(count, ours=ours + 1, account_limit=limit, cutoff_ratio=ratio)
    except (CredentialsError, IPBlockedError):
        raise
    except APIError as exc:
        log.info("could not read the account's request rate (%s); keeping the pace", exc)
        return None
    log.debug(
        "request rate: account %d/%d in the window, others %d, our limit now %d",
        result.account_count,
        result.account_limit,
        result.others,
        result.limit,
    )
    if result.limit != before and result.limit < budget.share:
        log.info(
            "other integrations use %d requests of the account's window: slowing to %d",
            result.others,
            result.limit,
        )
    return result


__all__ = ["REQUEST_RATE", "calibrate", "parse"]
