"""What a gate run says: each target's verdict, value and reason, and the set's verdict.

A target is `pass`, `fail`, `inconclusive` (between pass and fail, or no data) or `error` (its
source broke: a broken probe says nothing about the service, so errors stay apart from
failures). The set's verdict: any fail -> no-go; else any error or inconclusive, or nothing to
judge -> inconclusive; else go. Dry-run (advisory) targets are shown but never decide.

Plain data with JSON forms: `fixmap gate --json`, the console's gate screen, the incident
timeline and the exports all read these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STATUSES = ("pass", "fail", "inconclusive", "error")
VERDICTS = ("go", "no-go", "inconclusive")


@dataclass
class TargetResult:
    """One target's verdict, its value, the threshold it was judged against, and why."""

    name: str
    status: str
    """pass | fail | inconclusive | error"""
    value: float | int | bool | str | None
    """The judged value (the worst sample when there are several)."""
    threshold: str | None
    """The pass condition as applied, e.g. '<= 750 ms'."""
    reason: str
    """One line an on-call engineer can act on: 'p95 1840 ms > budget 1200 ms over 15m'."""
    source: str
    """'probe latency', 'history error_rates(window=10m)', 'history SQL'."""
    label: str = ""
    unit: str = ""
    dry_run: bool = False
    samples: int = 0
    """How many samples the verdict stands on."""
    counts: dict[str, int] = field(default_factory=dict)
    """Samples by outcome: pass, fail, inconclusive, empty (NaN/None), error (not a number)."""
    detail: dict[str, Any] = field(default_factory=dict)
    """Per-sample verdicts, the bands used, the query's note..."""
    newest: datetime | None = None
    """When the newest data point the verdict stands on was taken (naive UTC; None: unknown)."""
    age_s: float | None = None
    """How old that point was when judged, in seconds."""
    measurements: list[dict[str, Any]] = field(default_factory=list)
    """A watched run's measurements, oldest first (n, at, status, value, reason, age_s)."""

    def value_text(self) -> str:
        return format_value(self.value, self.unit)

    def age_text(self) -> str:
        """'13 min old', or '' when the age is unknown."""
        return f"{age_text(self.age_s)} old" if self.age_s is not None else ""

    def to_json(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, float):
            value = round(value, 6) if math.isfinite(value) else None
        return {
            "name": self.name,
            "status": self.status,
            "value": value,
            "threshold": self.threshold,
            "reason": self.reason,
            "source": self.source,
            "label": self.label,
            "unit": self.unit,
            "dry_run": self.dry_run,
            "samples": self.samples,
            "newest": self.newest.isoformat(timespec="seconds") + "Z" if self.newest else None,
            "age_s": age_json(self.age_s),
            **({"measurements": self.measurements} if self.measurements else {}),
        }


def age_json(seconds: float | None) -> float | None:
    """An age to one decimal, rounded up: a sample 5.04 s old is never shown as 5.0 s."""
    return None if seconds is None else math.ceil(max(0.0, float(seconds)) * 10) / 10


def age_text(seconds: float) -> str:
    """An age as an engineer says it: '5.4 s', '40 s', '13 min', '5 h', '3 d' (rounded up
    below 10 s, so a stale sample never reads as exactly its max_age)."""
    s = max(0.0, float(seconds))
    if s < 10:
        return f"{age_json(s):.1f} s"
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.0f} h"
    return f"{s / 86400:.0f} d"


@dataclass
class GateRun:
    """One run of a gate set."""

    set: str
    verdict: str
    """go | no-go | inconclusive"""
    targets: list[TargetResult]
    started_at: str
    """ISO 8601, UTC."""
    duration_ms: float
    title: str = ""
    probe_results: list[Any] = field(default_factory=list)
    """The ProbeResults the run judged (each probe ran once)."""
    notes: list[str] = field(default_factory=list)
    """Things that went wrong around the verdict (history not updated, ...)."""
    watched: bool = False
    """True: a watched run (measurements repeated until a verdict or the deadline)."""
    after: Any = None
    """gates.after.Change: the change the set's history windows were judged since."""

    @property
    def exit_code(self) -> int:
        """0 go, 1 no-go, 2 could not evaluate."""
        return {"go": 0, "no-go": 1}.get(self.verdict, 2)

    @property
    def deciding(self) -> list[TargetResult]:
        return [t for t in self.targets if not t.dry_run]

    def by_status(self, status: str) -> list[TargetResult]:
        return [t for t in self.deciding if t.status == status]

    def target(self, name: str) -> TargetResult:
        for t in self.targets:
            if t.name == name:
                return t
        raise KeyError(name)

    def summary(self) -> str:
        """The verdict in one line: 'no-go: index, p95 failing'."""
        deciding = self.deciding
        if not deciding:
            return f"{self.verdict}: no target to judge"
        failing = self.by_status("fail")
        unsure = [t for t in deciding if t.status in ("inconclusive", "error")]
        if self.verdict == "go":
            if len(deciding) == 1:
                return "go: the one target passes"
            return f"go: all {len(deciding)} targets pass"
        if failing:
            text = f"no-go: {', '.join(t.name for t in failing)} failing"
            if unsure:
                text += f"; {', '.join(t.name for t in unsure)} not judged"
            return text
        waiting = [t for t in unsure if "after_change" in t.detail and t.status != "error"]
        if waiting and self.after is not None and len(waiting) == len(unsure):
            from datetime import timedelta

            longest = max(t.detail["after_change"]["window_s"] for t in waiting)
            ready = self.after.at + timedelta(seconds=longest)
            return (
                f"not yet: clean since {self.after.text()}, but not for the whole window: "
                f"re-run after {ready:%H:%M:%S} UTC"
            )
        parts = [f"{t.name} ({'error' if t.status == 'error' else 'no verdict'})" for t in unsure]
        return f"inconclusive: could not judge {', '.join(parts)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "set": self.set,
            "verdict": self.verdict,
            "targets": [t.to_json() for t in self.targets],
            "started_at": self.started_at,
            "duration_ms": self.duration_ms,
            "summary": self.summary(),
            **({"watched": True} if self.watched else {}),
            **({"after": self.after.to_json()} if self.after is not None else {}),
        }


def overall(targets: list[TargetResult]) -> str:
    """any fail -> no-go; else any error/inconclusive (or nothing judged) -> inconclusive; else go."""
    deciding = [t for t in targets if not t.dry_run]
    if any(t.status == "fail" for t in deciding):
        return "no-go"
    if not deciding or any(t.status != "pass" for t in deciding):
        return "inconclusive"
    return "go"


def format_value(value: Any, unit: str = "") -> str:
    """A measure as an engineer reads it: '412 ms', '99.9%', '0.305', '2.1×', 'yes'."""
    if value is None:
        return "-"
    if isinstance(value, bool) or unit == "bool":
        if isinstance(value, int | float):
            return "yes" if value else "no"
        return str(value)
    if isinstance(value, str):
        return value
    if not isinstance(value, int | float):
        return str(value)
    v = float(value)
    if math.isnan(v):
        return "NaN"
    if unit == "ms":
        return f"{v:.0f} ms"
    if unit == "%":
        return f"{v * 100:.2f}".rstrip("0").rstrip(".") + "%"
    if unit == "x":
        return f"{v:.2f}×"
    if unit == "count" or (v == int(v) and abs(v) < 1e9 and unit == ""):
        return str(int(v)) if v == int(v) else f"{v:.3f}".rstrip("0").rstrip(".")
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3f}".rstrip("0").rstrip(".") if v != 0 else "0"
