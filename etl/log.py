"""Logging: plain or JSON lines, secrets redacted, httpx quieted.

Secrets (API key, secret, every token) are registered with :func:`register_secret` as soon as
they are known; a filter on the root handler replaces them in every record, so no code path
can leak one into a log line or a logged traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

_secrets: set[str] = set()
_lock = threading.Lock()
REDACTED = "***"


def register_secret(value: str | None) -> None:
    """Redact ``value`` from every log record from now on."""
    if value and len(value) >= 4:  # a 1-3 character "secret" would redact half of every line
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret replaced by ``***``."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Render the message once, redacted, so args and tracebacks cannot leak a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields given as ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update(getattr(record, "fields", {}) or {})
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, default=str)


class PlainFormatter(logging.Formatter):
    """``time level logger: message key=value …``."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line


def setup_logging(level: str = "INFO", json_lines: bool = False) -> None:
    """Configure the root logger for the CLI (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_datto_etl", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._datto_etl = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.contextmanager
def log_through(console: Console) -> Iterator[None]:
    """While a live display runs on ``console``, log through it: lines print above the
    display instead of through it (a RichHandler on the same console), redacted as ever.

    Does nothing when :func:`setup_logging` did not run (a library caller's own logging).
    """
    from rich.logging import RichHandler

    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_datto_etl", False)]
    if not ours:
        yield
        return
    handler = RichHandler(
        console=console,
        show_path=False,
        markup=False,
        rich_tracebacks=False,
        log_time_format="%H:%M:%S",
    )
    handler._datto_etl = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter())
    handler.setFormatter(PlainFormatter("%(name)s: %(message)s"))
    for old in ours:
        root.removeHandler(old)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for old in ours:
            root.addHandler(old)
