"""Status-page drafts per comms phase, and when the next public update is due.

The seed's comms page sets the rules kept here: the first public update within 10 minutes of
the incident opening, then one every 15-20 minutes until the service is stable, every 30 once it
is being monitored, and the postmortem within 48 hours of the resolution. The text is built from
the incident's public fields only (service, severity, phase, times): internal measures (ΔS,
coverage, λ, hashes, p95 numbers) never reach users, and `internal_terms` is the check that
says so. Every draft passes the redactor. Nothing is posted: a bastion often has no outbound
access, so a draft is text to paste.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from console.core.durations import duration_text
from console.exports.evidence import incident_actions
from console.exports.render import utc_hm, utc_stamp
from console.incident import PHASES, Incident

# the comms cadence (seed §4.14), in minutes, and the postmortem deadline in hours
FIRST_UPDATE_MIN = 10
UPDATE_EVERY_MIN = 15
UPDATE_EVERY_MAX_MIN = 20
STABLE_EVERY_MIN = 30
POSTMORTEM_HOURS = 48

STATUS_STATE = {
    "S1": "Major outage",
    "S2": "Degraded performance",
    "S3": "Partial outage",
    "S4": "Informational",
}
"""Severity -> the status-page state while investigating (seed §4.14)."""

USER_EFFECT = {
    "S1": "errors or missing answers for most users",
    "S2": "slow or degraded answers and some timeouts",
    "S3": "problems for some users of one feature or region",
    "S4": "a possible issue; we do not expect any disruption",
}
"""Severity -> what users notice, in their words (never in the console's measures)."""

_INTERNAL = re.compile(
    r"ΔS|delta[ _-]?s|\bds[ _]|coverage|λ|lambda|flip[ _]rate|p9[59]|p50|index[ _]?hash|"
    r"INDEX_HASH|embedd|idempoten|\bgate\b|\bprobe|mismatch",
    re.IGNORECASE,
)


def internal_terms(text: str) -> list[str]:
    """Internal measure names found in a text meant for users (empty when it is clean)."""
    return sorted({m.group(0) for m in _INTERNAL.finditer(text or "")})


@dataclass(frozen=True)
class UpdateDue:
    """When the next public update is due, and why."""

    due: datetime | None
    overdue: bool
    why: str

    def text(self, now: datetime | None = None) -> str:
        if self.due is None:
            return self.why
        now = now or datetime.now(UTC)
        delta = (self.due - now).total_seconds()
        when = f"overdue by {duration_text(-delta)}" if delta < 0 else f"in {duration_text(delta)}"
        return f"next update due {utc_hm(self.due)} ({when}): {self.why}"


def next_update_due(incident: Incident, now: datetime | None = None) -> UpdateDue:
    """First update ≤ 10 min after open, then every 15-20 min, every 30 min once stable."""
    now = now or datetime.now(UTC)
    if not incident.is_open:
        closed = incident.closed or now
        return UpdateDue(
            None,
            False,
            f"resolved: no more updates; publish the postmortem by "
            f"{utc_stamp(closed + timedelta(hours=POSTMORTEM_HOURS))} (≤ {POSTMORTEM_HOURS} h)",
        )
    posts = incident.of_kind("comms")
    if not posts:
        due = incident.opened + timedelta(minutes=FIRST_UPDATE_MIN)
        why = f"the first public update is due ≤ {FIRST_UPDATE_MIN} min after the incident opened"
    else:
        last = posts[-1].time
        if incident.phase == "monitoring":
            due = last + timedelta(minutes=STABLE_EVERY_MIN)
            why = f"stable (monitoring): an update every {STABLE_EVERY_MIN} min"
        else:
            due = last + timedelta(minutes=UPDATE_EVERY_MIN)
            why = (
                f"an update every {UPDATE_EVERY_MIN}-{UPDATE_EVERY_MAX_MIN} min until stable "
                f"(last posted {utc_hm(last)})"
            )
    return UpdateDue(due, now > due, why)


@dataclass(frozen=True)
class StatusDraft:
    """One status-page update, ready to paste; no internal measures in it."""

    phase: str
    state: str
    """The status-page component state: Major outage, Degraded performance, Monitoring..."""
    title: str
    body: str
    banner: str
    """The in-product banner that must say the same thing."""
    next_update: datetime | None

    def text(self) -> str:
        lines = [f"[{self.phase.upper()}] {self.state}: {self.title}", "", self.body]
        lines += ["", f"Banner: {self.banner}"]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "state": self.state,
            "title": self.title,
            "body": self.body,
            "banner": self.banner,
            "next_update": self.next_update.isoformat() if self.next_update else None,
        }


def _component(incident: Incident) -> str:
    name = incident.service or "the service"
    name = re.sub(r"[^A-Za-z0-9 ._/-]", "", name).strip() or "the service"
    return name if not internal_terms(name) else "the service"


def _rolled_back(actions: list[dict[str, Any]]) -> bool:
    return any(
        "rollback" in str(a.get("action") or "").lower()
        and a.get("status") in ("done", "already_done")
        for a in actions
    )


def status_draft(incident: Incident, phase: str, now: datetime | None = None) -> StatusDraft:
    """The update for one comms phase, from the incident's public fields only."""
    from console.core import redact

    now = now or datetime.now(UTC)
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {', '.join(PHASES)}")
    comp = _component(incident)
    sev = incident.severity if incident.severity in STATUS_STATE else "S2"
    effect = USER_EFFECT[sev]
    actions = incident_actions(incident)
    rolled_back = _rolled_back(actions)
    acted = bool(actions)
    if phase == "investigating":
        nxt = now + timedelta(minutes=UPDATE_EVERY_MIN)
        state = STATUS_STATE[sev]
        title = f"Investigating {'issues' if sev != 'S4' else 'a possible issue'} with {comp}"
        body = f"We are investigating {effect} on {comp}. " + (
            "We have engaged our rollback options. " if acted else ""
        )
        body += f"Next update by {utc_hm(nxt)}."
        banner = f"We are looking into {effect} on {comp}. See our status page for updates."
    elif phase == "identified":
        nxt = now + timedelta(minutes=UPDATE_EVERY_MIN)
        state = STATUS_STATE[sev]
        title = f"Cause identified: {comp}"
        body = (
            f"We have identified the cause of the {effect} on {comp} and are "
            + ("rolling back the latest change. " if acted or rolled_back else "applying a fix. ")
            + "Cause: [one sentence in user terms, e.g. 'a configuration change in our latest "
            "release']. " + f"Next update by {utc_hm(nxt)}."
        )
        banner = f"We know what is causing problems on {comp} and are fixing it."
    elif phase == "monitoring":
        nxt = now + timedelta(minutes=STABLE_EVERY_MIN)
        state = "Monitoring"
        fix = (
            f"We have restored the previous version of {comp}"
            if rolled_back
            else "A fix has been applied"
        )
        title = f"Recovering: {comp}"
        body = (
            f"{fix} and {comp} is recovering. We are monitoring it closely. "
            f"Next update by {utc_hm(nxt)}."
        )
        banner = f"{comp} is recovering; we are monitoring it."
    else:
        nxt = None
        state = "Operational"
        since = incident.closed or now
        title = f"Resolved: {comp}"
        body = (
            f"This incident has been resolved: {comp} has been working normally since "
            f"{utc_hm(since)}. We are sorry for the disruption. A write-up with the cause and our "
            f"prevention steps will follow within {POSTMORTEM_HOURS} hours."
        )
        banner = "(remove the banner)"
    return StatusDraft(phase, state, redact(title), redact(body), redact(banner), nxt)


def status_drafts(incident: Incident, now: datetime | None = None) -> list[StatusDraft]:
    """One draft per comms phase: investigating, identified, monitoring, resolved."""
    return [status_draft(incident, p, now) for p in PHASES]
