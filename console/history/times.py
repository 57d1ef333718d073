"""Times and spans as the history reads them: naive UTC, ISO text, 'now', or a duration ago.

The history stores naive UTC timestamps, so every time that comes in (a datetime with a zone, an
ISO string with 'Z', epoch seconds, '2h' meaning two hours ago) is turned into one here, and a
bad one is a HistoryError naming the parameter. Durations themselves are console.core's rule.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from console.core import Problem, parse_duration
from console.history.results import HistoryError


def utcnow() -> datetime:
    """Now, as naive UTC (how times are stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def seconds(value: Any, what: str) -> float:
    """'30s', '15m', '24h', '7d', '2w' or a number of seconds -> seconds, or a clear error."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise HistoryError(
            f"{what}: {exc}",
            [Problem(None, what, str(exc), hint="use e.g. 30s, 5m, 1h30m, 24h, 7d, 2w")],
        ) from None


def parse_time(value: Any, what: str, now: datetime | None = None) -> datetime:
    """A datetime, an ISO time, 'now', or a duration meaning that long ago -> naive UTC."""
    now = now or utcnow()
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == "now":
            return now
        with contextlib.suppress(ValueError):
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt
        ago = text.removesuffix(" ago").removeprefix("-")
        with contextlib.suppress(HistoryError):
            return now - timedelta(seconds=seconds(ago, what))
    raise HistoryError(
        f"{what}: '{value}' is not a time",
        [
            Problem(
                None,
                what,
                f"'{value}' is not a time",
                hint="use an ISO time (2024-05-01T10:00:00Z), 'now', or a duration ago (2h)",
            )
        ],
    )


def time_or_now(value: Any, what: str, now: datetime) -> datetime:
    """A record's own time when it has one, else `now` (the time it is being stored)."""
    return parse_time(value, what, now) if value is not None else now
