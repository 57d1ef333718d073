"""How the drafts write times and table cells, so every export reads the same way.

Times in drafts are always UTC and say so: an incident crosses time zones (the on-call
engineer, the users, the vendor), and a postmortem read a week later must not depend on the
reader's clock. A timestamp that does not parse is shown as written, never dropped: a draft with
an odd time in it is still a draft.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from console.core.identity import parse_ts


def utc_hm(dt: datetime) -> str:
    """ "14:05 UTC": a time within the incident's day (status-page updates)."""
    return dt.astimezone(UTC).strftime("%H:%M UTC")


def utc_stamp(dt: datetime) -> str:
    """ "2024-11-02 14:05 UTC": a deadline or a moment written into a draft."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def utc_clock(ts: str) -> str:
    """A timeline timestamp to the second in UTC ("2024-11-02 14:05:09"), or as written."""
    try:
        return parse_ts(ts).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return ts


def md_cell(text: Any) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return " ".join(str("" if text is None else text).split()).replace("|", "\\|")
