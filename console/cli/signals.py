"""SIGHUP and SIGTERM handled like SIGINT for what fixmap itself is doing.

A dropped SSH session (SIGHUP) or a `kill` (SIGTERM) would otherwise end a headless command on
the spot, mid-write, with nothing said. Turned into KeyboardInterrupt, they take the path Ctrl-C
takes: what fixmap was doing stops cleanly (`fixmap act` stops following and leaves the change
to its supervisor, which records the outcome), and records stay whole. Only the console (a
Textual app, which owns its terminal) keeps the default handlers.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

HANDLED = (signal.SIGHUP, signal.SIGTERM)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def hangup_as_interrupt() -> None:
    """From now on SIGHUP and SIGTERM raise KeyboardInterrupt in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in HANDLED:
        signal.signal(sig, _interrupt)
