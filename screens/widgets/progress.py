"""How long work has run and how far it got, in one line: `… running readiness · 2/7 targets
· 3.2 s`. Screens tick it a few times a second while their worker runs."""

from __future__ import annotations

import time

TICK_S = 0.25
"""How often a running line is redrawn."""


def progress_text(doing: str, started: float, *counts: str) -> str:
    """`doing`, the counts that are known, and the seconds since `started` (time.monotonic)."""
    elapsed = max(time.monotonic() - started, 0.0)
    return " · ".join([doing, *[c for c in counts if c], f"{elapsed:.1f} s"])


def count_text(done: int, total: int | None, noun: str) -> str:
    """`2/7 targets`, or `2 probes` when the total is not known."""
    return f"{done}/{total} {noun}" if total else f"{done} {noun}"
