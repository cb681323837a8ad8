"""The alerts cursor: where the resolved-alert walk stands, as pure data and interval arithmetic.

The resolved list comes newest first by raise time and cannot be asked for a time range, so
what a run still owes is kept as **gaps**: ranges of raise times ``(upper, lower)`` in epoch
ms, both ends included, ``upper`` None for the top of the list and ``lower`` None for its end.
A fresh run owes ``(None, ref - overlap)``; each page read moves the gap's upper end down to
the page's oldest raise time, and the gap is gone once an item older than ``lower`` shows
up (or the list ends). The cursor is saved with every page, in the page's transaction, so a
killed run leaves exactly the gaps it had not closed, and the next run walks them too: the
cutoff an unfinished walk was heading for is never lost.

``ref_ms`` is the newest raise time seen at the top of both lists by the last run that read
them; alerts raised after that run began are at or above it (less the overlap kept for
clock skew and late writes).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
VERSION = 1

Gap = tuple[int | None, int | None]


def above(a: int | None, b: int | None) -> bool:
    """``a >= b`` for upper ends, None being the top."""
    return a is None or (b is not None and a >= b)


def _lower(a: int | None, b: int | None) -> int | None:
    """The lower of two lower ends, None being the end of the list."""
    return None if a is None or b is None else min(a, b)


def merge(gaps: Iterable[Gap]) -> list[Gap]:
    """Gaps sorted newest first, overlapping or touching ones joined."""
    ordered = sorted(gaps, key=lambda g: (g[0] is not None, -(g[0] or 0)))
    out: list[Gap] = []
    for upper, lower in ordered:
        if lower is not None and upper is not None and upper < lower:
            continue  # empty
        if out and (out[-1][1] is None or above(upper, out[-1][1])):
            out[-1] = (out[-1][0], _lower(out[-1][1], lower))
        else:
            out.append((upper, lower))
    return out


def covered(gaps: Iterable[Gap], t: int) -> bool:
    """True when raise time ``t`` lies inside one of ``gaps``."""
    return any(above(u, t) and (lower is None or t >= lower) for u, lower in gaps)


def trim(gaps: Iterable[Gap], top: int | None, floor: int | None, ended: bool) -> list[Gap]:
    """What is still owed once every raise time in ``(floor, top]`` has been read.

    ``top`` None means from the top of the list; ``ended`` means the read reached the end
    of the list (everything at or below ``top`` is read). A gap whose upper end lies above
    ``top`` is left alone: this read did not start above it.
    """
    out: list[Gap] = []
    for upper, lower in gaps:
        if not above(top, upper):
            out.append((upper, lower))
        elif ended or floor is None or (lower is not None and floor < lower):
            continue  # read all the way past its lower end
        else:
            out.append((floor if upper is None else min(upper, floor), lower))
    return merge(out)


@dataclass
class AlertCursor:
    """``sync_state.cursor`` of the alerts resource."""

    ref_ms: int | None = None
    gaps: list[Gap] = field(default_factory=list)
    page_size: int | None = None  # items per alert page, learned from full pages
    max_param: int | None = None  # the ``max`` the alert lists accepted

    @classmethod
    def load(cls, raw: Any) -> AlertCursor:
        """Parse a stored cursor; an unreadable one means a full walk, never a crash."""
        if raw is None:
            return cls()
        try:
            if raw.get("version") != VERSION:
                raise ValueError(f"version {raw.get('version')!r}")
            gaps = [(_int(u), _int(lo)) for u, lo in raw.get("gaps") or []]
            return cls(
                ref_ms=_int(raw.get("ref_ms")),
                gaps=merge(gaps),
                page_size=_int(raw.get("page_size")),
                max_param=_int(raw.get("max_param")),
            )
        except (AttributeError, TypeError, ValueError) as exc:
            log.warning("alerts cursor unreadable (%s): walking the whole resolved list", exc)
            return cls()

    def dump(self) -> dict[str, Any]:
        """The JSON document stored in ``sync_state``."""
        return {
            "version": VERSION,
            "ref_ms": self.ref_ms,
            "gaps": [list(g) for g in self.gaps],
            "page_size": self.page_size,
            "max_param": self.max_param,
        }


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a number: {value!r}")
    return int(value)
