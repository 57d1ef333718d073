"""Small measures several probe kinds share: a percentile and a tally of answer statuses."""

from __future__ import annotations

from collections.abc import Iterable

from console.probes.client import Answer
from console.probes.result import Verdict


def percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile (numpy's default), without importing numpy."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * pct / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def status_counts(answers: Iterable[Answer | Verdict]) -> dict[str, int]:
    """How many answers had each status ('no answer' for requests that got none)."""
    counts: dict[str, int] = {}
    for a in answers:
        key = str(a.status) if isinstance(a, Answer) else "no answer"
        counts[key] = counts.get(key, 0) + 1
    return counts
