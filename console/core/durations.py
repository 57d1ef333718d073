"""Durations, the one way fixmap reads and writes them: '250ms', '30s', '1h30m', '7d', '2w'."""

from __future__ import annotations

import math
import re
from typing import Any

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
HINT = "use e.g. '250ms', '30s', '5m', '1h30m', '24h', '7d' or '2w'"


def parse_duration(value: Any) -> float:
    """A duration in the config or on the command line -> seconds (ValueError saying how)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration ({HINT})")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"'{value}' is not a duration: it must be a finite number of seconds")
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        parts = list(_PART.finditer(text))
        units = [(m.group(2) or "s").lower() for m in parts]
        whole = bool(text) and "".join(m.group(0) for m in parts) == text
        # '1h30m' is fine; '1h30' (a bare number after a unit) and '5m5m' are not
        if (
            whole
            and (len(parts) == 1 or all(m.group(2) for m in parts))
            and len(set(units)) == len(units)
        ):
            return sum(
                float(m.group(1)) * _UNIT_SECONDS[u] for m, u in zip(parts, units, strict=True)
            )
    raise ValueError(f"'{value}' is not a duration ({HINT})")


def duration_text(seconds: float) -> str:
    """A span as a person reads it: '45s', '13m', '2h 05m', '3d 4h'."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def compact(seconds: float) -> str:
    """A duration as it would be written back into a config: '7d', '90m', '2.5s'."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
