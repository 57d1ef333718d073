"""An incident's life: open, note, severity, comms phase, update posted, close.

Every change is one line on the incident's timeline (console.incident.timeline); opening and
closing are also marked in the metric history (console.incident.recorder).
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import UTC, datetime
from typing import Any

from console.incident import recorder
from console.incident.model import (
    Incident,
    IncidentError,
    TimelineEvent,
    parse_phase,
    parse_severity,
)
from console.incident.timeline import (
    CURRENT_FILE,
    append_event,
    current_id,
    current_incident,
    incident_file,
    incidents_dir,
    load_incident,
    resolve_id,
    state_lock,
)


def _site_name(site: Any) -> str | None:
    try:
        return site.site_name if site is not None and site.path is not None else None
    except Exception:
        return None


def new_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"INC-{now:%Y%m%d-%H%M}-{secrets.token_hex(2)}"


def open_incident(
    title: str,
    severity: str | None = "S2",
    service: str | None = None,
    *,
    site: Any = None,
) -> Incident:
    """Open an incident, make it the current one, start its timeline.

    Refuses (IncidentError, exit 2) while another current incident is open.
    """
    text = " ".join((title or "").split())
    if not text:
        raise IncidentError(
            "an incident needs a title: what users see, e.g. 'answers cite old snippets'"
        )
    sev = parse_severity(severity or "S2")
    if service is None and site is not None and getattr(site, "path", None) is not None:
        with contextlib.suppress(Exception):
            service = site.default_service
    with state_lock():
        cur = current_incident()
        if cur is not None:
            raise IncidentError(
                f"incident {cur.id} ('{cur.title}', {cur.severity}, open {cur.age_text()}) is "
                "still open: close it first (fixmap incident close --resolution ...)"
            )
        iid = new_id()
        while incident_file(iid).exists():
            iid = new_id()
        detail = {
            "id": iid,
            "title": text,
            "severity": sev,
            "service": service,
            "site": _site_name(site),
            "config": str(site.path) if site is not None and site.path else None,
        }
        append_event(iid, "opened", f"incident opened: {text} ({sev})", detail)
        from console.core import atomic_write

        atomic_write(incidents_dir() / CURRENT_FILE, iid + "\n")
        kept = _take_pending_notes(iid)
    inc = load_incident(iid)
    if kept:
        inc.notes.append(f"{kept} note(s) typed while no incident was open are on its timeline")
    note = recorder.incident_state(site, inc, "opened", f"incident {iid} opened: {text} ({sev})")
    if note:
        inc.notes.append(note)
    return inc


def _target_id(incident_id: str | None) -> str:
    if incident_id:
        return resolve_id(incident_id)
    iid = current_id()
    if iid is None or current_incident() is None:
        raise IncidentError(
            "no incident is open: open one with fixmap incident open TITLE [--severity S2]"
        )
    return iid


def add_note(
    text: str, incident_id: str | None = None, *, keep: bool = False
) -> TimelineEvent | None:
    """A free-text note on the current (or given) incident.

    With `keep`, a note typed when no incident is open (another console just closed it) is
    not lost: it is kept and goes onto the next incident opened or reopened here (None).
    """
    body = " ".join((text or "").split())
    if not body:
        raise IncidentError("the note is empty")
    try:
        iid = _target_id(incident_id)
    except IncidentError:
        if not keep or incident_id:
            raise
        keep_note(text)
        return None
    return append_event(iid, "note", body, {"text": (text or "").strip()})


PENDING_NOTES = "pending-notes.jsonl"
"""Notes typed while no incident was open, waiting for the next one."""


def keep_note(text: str) -> None:
    from console.core import append_record, host, now_iso, who

    append_record(
        incidents_dir() / PENDING_NOTES,
        {"v": 1, "ts": now_iso(), "text": text.strip(), "who": who(), "host": host()},
    )


def pending_notes() -> list[dict[str, Any]]:
    """The kept notes, oldest first."""
    import json

    path = incidents_dir() / PENDING_NOTES
    out = []
    with contextlib.suppress(OSError):
        for raw in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                row = json.loads(raw)
                if isinstance(row, dict) and str(row.get("text") or "").strip():
                    out.append(row)
    return out


def _take_pending_notes(iid: str) -> int:
    """Put the kept notes onto incident `iid` (called under the state lock); how many."""
    notes = pending_notes()
    for row in notes:
        text = str(row["text"])
        append_event(
            iid,
            "note",
            " ".join(text.split()),
            {"text": text, "typed_at": row.get("ts"), "typed_by": row.get("who"), "kept": True},
        )
    with contextlib.suppress(FileNotFoundError):
        (incidents_dir() / PENDING_NOTES).unlink()
    return len(notes)


def set_severity(severity: str, incident_id: str | None = None) -> TimelineEvent:
    sev = parse_severity(severity)
    iid = _target_id(incident_id)
    return append_event(iid, "severity", f"severity set to {sev}", {"severity": sev})


def set_phase(phase: str, note: str | None = None, incident_id: str | None = None) -> TimelineEvent:
    """Move the comms phase (investigating -> identified -> monitoring -> resolved)."""
    p = parse_phase(phase)
    iid = _target_id(incident_id)
    title = f"status: {p}" + (f": {note}" if note else "")
    return append_event(iid, "phase", title, {"phase": p, "note": note})


def mark_update_posted(
    phase: str | None = None, incident_id: str | None = None, channel: str = "status page"
) -> TimelineEvent:
    """Record that a public update went out (starts the next-update timer)."""
    iid = _target_id(incident_id)
    inc = load_incident(iid)
    p = parse_phase(phase) if phase else inc.phase
    return append_event(
        iid,
        "comms",
        f"public update posted ({p}) on the {channel}",
        {"phase": p, "channel": channel},
    )


def close_incident(
    resolution: str | None = None, *, site: Any = None, incident_id: str | None = None
) -> Incident:
    """Close the current (or given) incident with its resolution; clears the current pointer."""
    with state_lock():
        iid = _target_id(incident_id)
        inc = load_incident(iid)
        if not inc.is_open:
            raise IncidentError(f"incident {iid} is already closed ({inc.closed_at})")
        text = " ".join((resolution or "").split()) or "resolved (no resolution given)"
        append_event(
            iid,
            "closed",
            f"incident closed: {text}",
            {"resolution": text, "duration_s": round(inc.age_s(), 1)},
        )
        if current_id() == iid:
            with contextlib.suppress(FileNotFoundError):
                (incidents_dir() / CURRENT_FILE).unlink()
    inc = load_incident(iid)
    note = recorder.incident_state(site, inc, "resolved", f"incident {iid} resolved: {text}")
    if note:
        inc.notes.append(note)
    return inc


def reopen_incident(incident_id: str | None, reason: str, *, site: Any = None) -> Incident:
    """Reopen a closed incident (the newest closed one when no id is given) with a reason."""
    why = " ".join((reason or "").split())
    if len(why) < 5:
        raise IncidentError(
            "reopening needs a reason: what came back, e.g. 'rate_429 climbing again after 09:40'"
        )
    from console.incident.timeline import list_incidents

    with state_lock():
        cur = current_incident()
        if cur is not None:
            raise IncidentError(
                f"incident {cur.id} ('{cur.title}') is open: close it before reopening another"
            )
        if incident_id:
            iid = resolve_id(incident_id)
        else:
            closed = [i for i in list_incidents() if not i.is_open]
            if not closed:
                raise IncidentError("no closed incident to reopen: fixmap incident list --all")
            iid = closed[0].id
        inc = load_incident(iid)
        if inc.is_open:
            raise IncidentError(f"incident {iid} is open already")
        append_event(iid, "reopened", f"incident reopened: {why}", {"reason": why})
        from console.core import atomic_write

        atomic_write(incidents_dir() / CURRENT_FILE, iid + "\n")
        kept = _take_pending_notes(iid)
    inc = load_incident(iid)
    note = recorder.incident_state(site, inc, "reopened", f"incident {iid} reopened: {why}")
    if note:
        inc.notes.append(note)
    if kept:
        inc.notes.append(f"{kept} note(s) typed while no incident was open are on its timeline")
    return inc
