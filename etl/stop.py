"""Stop requests: SIGTERM/SIGINT set a ``threading.Event`` that the whole run observes.

The event is the API session's (:class:`~etl.api.session.DattoSession` ``stop``): budget waits
and retry backoff sleep on it and end at once with :class:`~etl.errors.StopRequested`, and
``RunContext.checkpoint()`` checks it between pages, so the page in hand commits or rolls back
whole and the run is recorded ``stopped``. ``datto-etl sync`` and ``datto-etl run`` both use
:func:`stop_on_signals`.
"""

from __future__ import annotations

import _thread
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator

log = logging.getLogger(__name__)


@contextlib.contextmanager
def stop_on_signals(
    stop: threading.Event, hurry: threading.Event | None = None, grace: float | None = None
) -> Iterator[None]:
    """SIGTERM/SIGINT set ``stop``; a second one sets ``hurry`` (give up waiting).

    Without ``hurry``, a second signal interrupts at once (KeyboardInterrupt), as a plain
    Ctrl-C did before. With ``grace``, the block gets that many seconds after the first
    signal to end by itself (budget waits, backoff and requests out end at once); then it is
    interrupted as by a second signal: a migration or a long write never holds Ctrl-C up.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signals can only be caught in the main thread (in-process tests)
        return

    def handler(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            if hurry is None:
                raise KeyboardInterrupt
            hurry.set()
            log.warning("%s again: not waiting for running jobs any longer", name)
            return
        log.info("%s received: finishing the page in hand, then stopping", name)
        stop.set()
        if grace is not None:
            watchdog.start()

    # interrupt_main() raises SIGINT's handler in the main thread: the second-signal path
    watchdog = threading.Timer(grace or 0.0, _thread.interrupt_main)
    watchdog.daemon = True
    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        watchdog.cancel()
        for sig, old in previous.items():
            signal.signal(sig, old)


__all__ = ["stop_on_signals"]
