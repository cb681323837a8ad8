"""Calibration: fit the budget to what the whole account has left.

``GET /v2/system/request_rate`` answers ``accountCount`` (every client's requests in Datto's
rolling window), ``slidingTimeWindowSizeSeconds`` (60, that window), ``accountRateLimit`` (600)
and ``accountCutOffRatio`` (0.9, the line past which Datto delays answers). The budget follows
every figure the API gives (its settings are only the fallback when one is missing). Other
integrations' use is the count less our own, and counts against us:
:meth:`~etl.api.budget.RateBudget.calibrate` keeps the account below the line.

:func:`calibrate` is the budget's calibration hook (a :data:`~etl.api.budget.Calibrator`):
the session hands it to :meth:`~etl.api.budget.RateBudget.calibrate_when_due` before each
request, so the first request of a run calibrates, and so does the first one after every
``calibrate_every_seconds``. It reads through the ``read`` callable it is given and knows
nothing of the client.
"""

from __future__ import annotations

import logging
import math
from typing import Any, NamedTuple

from etl.api.budget import Calibration, RateBudget, Reader
from etl.errors import APIError, CredentialsError, IPBlockedError, MalformedResponseError

log = logging.getLogger(__name__)
REQUEST_RATE = "/v2/system/request_rate"


class RequestRate(NamedTuple):
    """The figures of one request_rate answer; None where the API did not give a usable one."""

    account_count: int
    limit: int | None
    ratio: float | None
    window: float | None


def parse(body: Any) -> RequestRate:
    """The figures of a request_rate answer (``accountCount`` is required, the rest not).

    A figure that is missing, not a number, not positive or not finite counts as not given
    (a ratio above 1 too): the budget keeps its setting for it.
    """
    if not isinstance(body, dict) or not isinstance(body.get("accountCount"), int | float):
        raise MalformedResponseError(f"{REQUEST_RATE} answered without an accountCount")

    def number(key: str, most: float = math.inf) -> float | None:
        value = body.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if 0 < value <= most and math.isfinite(value) else None

    limit = number("accountRateLimit")
    return RequestRate(
        int(body["accountCount"]),
        int(limit) if limit and limit >= 1 else None,
        number("accountCutOffRatio", most=1.0),
        number("slidingTimeWindowSizeSeconds"),
    )


def calibrate(budget: RateBudget, read: Reader) -> Calibration | None:
    """Read the account's request rate once and fit ``budget``; None if it could not be read.

    ``read`` GETs a path once (no retries). One attempt only: a failed look leaves the limit
    as it was until the next one. Stopping errors (credentials, IP block) are raised.
    """
    before = budget.last_calibration.limit if budget.last_calibration else budget.share
    ours = budget.used()  # before our call: requests still in flight may not be counted yet
    try:
        rate = parse(read(REQUEST_RATE))
        result = budget.calibrate(
            rate.account_count,
            ours=ours + 1,
            account_limit=rate.limit,
            cutoff_ratio=rate.ratio,
            window=rate.window,
        )
    except (CredentialsError, IPBlockedError):
        raise
    except APIError as exc:
        log.info("could not read the account's request rate (%s); keeping the pace", exc)
        return None
    log.debug(
        "request rate: account %d/%d in the %g s window, others %d, our limit now %d",
        result.account_count,
        result.account_limit,
        result.window,
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


__all__ = ["REQUEST_RATE", "RequestRate", "calibrate", "parse"]
