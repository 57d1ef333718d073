"""What an incident is: its timeline events, its state as their replay, severities and phases."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.core import EXIT_BAD_INPUT, FixmapError, Problem, closest, duration_text, parse_ts

SEVERITIES: tuple[str, ...] = ("S1", "S2", "S3", "S4")
SEVERITY_MEANING: dict[str, str] = {
    "S1": "major outage, most users blocked",
    "S2": "partial outage: degraded answers or timeouts",
    "S3": "narrow scope: one region or feature",
    "S4": "advisory, no breakage",
}
PHASES: tuple[str, ...] = ("investigating", "identified", "monitoring", "resolved")
KINDS: tuple[str, ...] = (
    "opened",
    "note",
    "route",
    "step",
    "probe",
    "gate",
    "query",
    "action",
    "phase",
    "severity",
    "comms",
    "closed",
    "reopened",
)


class IncidentError(FixmapError):
    """No such incident, none open, one already open, a bad severity or phase."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class TimelineEvent:
    """One line of an incident's timeline."""

    ts: str
    """ISO 8601 UTC with milliseconds and Z."""
    kind: str
    title: str
    detail: dict[str, Any] = field(default_factory=dict)
    who: str = ""

    @property
    def time(self) -> datetime:
        return parse_ts(self.ts)

    def to_json(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "kind": self.kind,
            "title": self.title,
            "detail": self.detail,
            "who": self.who,
        }


@dataclass
class Incident:
    """An incident as its timeline tells it."""

    id: str
    title: str
    severity: str
    service: str | None
    opened_at: str
    opened_by: str = ""
    host: str = ""
    site: str | None = None
    status: str = "open"
    """open | closed"""
    closed_at: str | None = None
    closed_by: str | None = None
    resolution: str | None = None
    phase: str = "investigating"
    """The comms phase: investigating | identified | monitoring | resolved."""
    events: list[TimelineEvent] = field(default_factory=list)
    path: Path | None = None
    notes: list[str] = field(default_factory=list)
    """Not stored: what went wrong around the last change (history not updated, ...)."""

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def opened(self) -> datetime:
        return parse_ts(self.opened_at)

    @property
    def closed(self) -> datetime | None:
        return parse_ts(self.closed_at) if self.closed_at else None

    def age_s(self, now: datetime | None = None) -> float:
        end = self.closed or now or datetime.now(UTC)
        return max(0.0, (end - self.opened).total_seconds())

    def age_text(self, now: datetime | None = None) -> str:
        return duration_text(self.age_s(now))

    def of_kind(self, *kinds: str) -> list[TimelineEvent]:
        return [e for e in self.events if e.kind in kinds]

    def summary_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "service": self.service,
            "status": self.status,
            "phase": self.phase,
            "opened_at": self.opened_at,
            "opened_by": self.opened_by,
            "closed_at": self.closed_at,
            "resolution": self.resolution,
            "events": len(self.events),
        }

    def to_json(self) -> dict[str, Any]:
        data = self.summary_json()
        data.update(
            {
                "host": self.host,
                "site": self.site,
                "closed_by": self.closed_by,
                "events": [e.to_json() for e in self.events],
            }
        )
        return data


def parse_severity(text: str | None) -> str:
    """'S2', 's2', 'sev2', 'SEV-2', '2' (and 'P2') -> 'S2'."""
    raw = (text or "").strip()
    m = re.match(r"^(?:s|sev|p)?[\s_-]*([1-4])$", raw, re.IGNORECASE)
    if not m:
        raise IncidentError(
            f"severity '{raw}' is not one of S1-S4",
            [
                Problem(
                    None,
                    "severity",
                    "use S1 (major outage) .. S4 (advisory); sev1..sev4 work too",
                )
            ],
        )
    return f"S{m.group(1)}"


def parse_phase(text: str) -> str:
    raw = (text or "").strip().lower()
    if raw in PHASES:
        return raw
    guess = closest(raw, PHASES)
    hint = f"did you mean '{guess}'?" if guess else "phases: " + ", ".join(PHASES)
    raise IncidentError(f"'{text}' is not a comms phase ({hint})")
