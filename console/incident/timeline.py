"""Incidents: a timeline of what was seen and done while one is open, kept in the data dir.

Storage (data_dir()/incidents/, survives restarts):

- `<ID>.jsonl`: one incident, append-only, one JSON object per line, each line redacted, written
  under an flock and fsynced before the call returns (console.journal.append):

      {"v": 1, "ts": "2026-11-27T01:30:32.123Z", "kind": "opened", "title": "...",
       "detail": {"id": ..., "title": ..., "severity": "S2", "service": ..., "site": ...},
       "who": "alice", "host": "bastion-1"}

  Kinds: opened, note, route, step, probe, gate, query, action, phase, severity, comms, closed
  (any other lower-case word is kept as given). The first line is `opened`; `closed` carries
  {"resolution": ...}. The incident's state is the replay of its lines.
- `CURRENT`: the id of the current incident (written atomically; removed when it closes).

IDs look like `INC-20261127-0130-3f9a` (UTC open time + 4 random hex digits).

`record(kind, title, detail=None)` is the one call the rest of fixmap makes: it appends to the
current incident when one is open, costs one small file read when none is, and never raises.
Opening, closing and the comms phases are console.incident.lifecycle's.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from console.core import (
    FixmapError,
    closest,
    now_iso,
)
from console.incident.model import (
    PHASES,
    SEVERITIES,
    Incident,
    IncidentError,
    TimelineEvent,
)

INCIDENTS_DIR = "incidents"
CURRENT_FILE = "CURRENT"
MAX_DETAIL_CHARS = 64_000
"""A detail larger than this (a huge query result) is cut to a preview."""
ID_PATTERN = re.compile(r"^INC-\d{8}-\d{4}-[0-9a-f]{4,8}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_lock = threading.Lock()

last_error: str | None = None
"""Why the last record() call wrote nothing although an incident was open (for a status line)."""


def incidents_dir() -> Path:
    from console.core import data_dir

    path = data_dir() / INCIDENTS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def incident_file(incident_id: str) -> Path:
    return incidents_dir() / f"{incident_id}.jsonl"


@contextlib.contextmanager
def state_lock() -> Iterator[None]:
    """Serialise open/close (and the CURRENT pointer) across threads and processes."""
    with _lock:
        fd = os.open(incidents_dir() / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _who() -> tuple[str, str]:
    from console.core import host, who

    return who(), host()


def _bounded(detail: Any) -> dict[str, Any]:
    """The detail as a JSON object, cut to a preview when it is huge."""
    if detail is None:
        return {}
    if not isinstance(detail, dict):
        detail = {"value": detail}
    text = json.dumps(detail, ensure_ascii=False, default=str)
    if len(text) <= MAX_DETAIL_CHARS:
        return json.loads(text)
    return {"truncated": True, "preview": text[:MAX_DETAIL_CHARS]}


def append_event(incident_id: str, kind: str, title: str, detail: Any = None) -> TimelineEvent:
    from console.core import append_record

    if not _KIND.match(kind):
        raise IncidentError(f"timeline kind '{kind}' is not a lower-case word")
    who, host = _who()
    written = append_record(
        incident_file(incident_id),
        {
            "v": 1,
            "ts": now_iso(),
            "kind": kind,
            "title": " ".join(str(title).split())[:500],
            "detail": _bounded(detail),
            "who": who,
            "host": host,
        },
    )
    return TimelineEvent(
        written["ts"], written["kind"], written["title"], written["detail"], written["who"]
    )


# ------------------------------------------------------------------ reading


def _read_lines(path: Path) -> list[dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    out = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            rec = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue  # a torn line spoils only itself
        if isinstance(rec, dict) and isinstance(rec.get("kind"), str):
            out.append(rec)
    return out


def _replay(incident_id: str, lines: list[dict[str, Any]], path: Path | None) -> Incident:
    first = next((r for r in lines if r.get("kind") == "opened"), None)
    d = (first or {}).get("detail") or {}
    inc = Incident(
        id=incident_id,
        title=str(d.get("title") or (first or {}).get("title") or incident_id),
        severity=str(d.get("severity") or "S2"),
        service=d.get("service"),
        opened_at=str((first or lines[0]).get("ts") or now_iso()),
        opened_by=str((first or {}).get("who") or ""),
        host=str((first or {}).get("host") or ""),
        site=d.get("site"),
        path=path,
    )
    explicit_phase = None
    for r in lines:
        event = TimelineEvent(
            str(r.get("ts") or ""),
            str(r.get("kind")),
            str(r.get("title") or ""),
            r.get("detail") if isinstance(r.get("detail"), dict) else {},
            str(r.get("who") or ""),
        )
        inc.events.append(event)
        if event.kind == "severity" and event.detail.get("severity") in SEVERITIES:
            inc.severity = event.detail["severity"]
        elif event.kind in ("phase", "comms") and event.detail.get("phase") in PHASES:
            explicit_phase = event.detail["phase"]
        elif event.kind == "closed":
            inc.status = "closed"
            inc.closed_at = event.ts
            inc.closed_by = event.who
            inc.resolution = event.detail.get("resolution")
        elif event.kind == "reopened":
            inc.status = "open"
            inc.closed_at = inc.closed_by = inc.resolution = None
            explicit_phase = None  # investigating again
    inc.phase = "resolved" if inc.status == "closed" else (explicit_phase or "investigating")
    return inc


def resolve_id(text: str) -> str:
    """An incident id from what was typed: the full id, or a unique part of one (its suffix)."""
    raw = (text or "").strip()
    ids = [p.stem for p in incidents_dir().glob("INC-*.jsonl")]
    if raw in ids:
        return raw
    matches = [i for i in ids if raw and raw.lower() in i.lower()]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise IncidentError(
            f"'{raw}' matches {len(matches)} incidents: {', '.join(sorted(matches)[-5:])}; "
            "give more of the id"
        )
    guess = closest(raw, ids)
    hint = f"did you mean '{guess}'?" if guess else "see 'fixmap incident list'"
    raise IncidentError(f"no incident '{raw}' ({hint})")


def load_incident(incident_id: str) -> Incident:
    """The incident with this id (or a unique part of it); IncidentError when there is none."""
    iid = resolve_id(incident_id)
    path = incident_file(iid)
    lines = _read_lines(path)
    if not lines:
        raise IncidentError(f"incident {iid} has an empty timeline file: {path}")
    return _replay(iid, lines, path)


def current_id() -> str | None:
    """The current incident's id, or None (a small file read; never raises)."""
    try:
        text = (incidents_dir() / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if ID_PATTERN.match(text) else None


def current_incident() -> Incident | None:
    """The open current incident, or None."""
    iid = current_id()
    if iid is None:
        return None
    try:
        inc = load_incident(iid)
    except FixmapError:
        return None
    return inc if inc.is_open else None


def list_incidents() -> list[Incident]:
    """Every incident, newest first."""
    out = []
    for path in incidents_dir().glob("INC-*.jsonl"):
        lines = _read_lines(path)
        if lines:
            out.append(_replay(path.stem, lines, path))
    out.sort(key=lambda i: i.opened_at, reverse=True)
    return out


# ------------------------------------------------------------------ recording (never raises)


def record(
    kind: str, title: str, detail: Any = None, *, incident_id: str | None = None
) -> TimelineEvent | None:
    """Append to the current incident's timeline (or the given one). No incident: nothing, cheaply.

    Never raises into the caller; a failure to write is kept in `last_error`.
    """
    global last_error
    try:
        iid = incident_id or current_id()
        if iid is None:
            return None
        if incident_id is not None and not incident_file(iid).exists():
            return None
        event = append_event(iid, kind, title, detail)
        last_error = None
        return event
    except Exception as exc:
        try:
            from console.core import redact

            last_error = redact(f"timeline not written: {type(exc).__name__}: {exc}")
        except Exception:
            last_error = "timeline not written"
        return None


def record_probes(results: list[Any], *, context: str | None = None) -> TimelineEvent | None:
    """Probe verdicts as one timeline event (ProbeResult objects or their dicts)."""
    try:
        rows = [r.to_dict() if hasattr(r, "to_dict") else dict(r) for r in results]
        if not rows:
            return None
        bad = [f"{r.get('name')} {r.get('status')}" for r in rows if r.get("status") != "pass"]
        title = f"probes: {len(rows) - len(bad)} of {len(rows)} pass"
        if bad:
            title += f" ({', '.join(bad)})"
        if context:
            title = f"{context}: {title}"
        keep = ("name", "kind", "status", "value", "threshold", "reason", "embedder", "values")
        return record("probe", title, {"probes": [{k: r.get(k) for k in keep} for r in rows]})
    except Exception:
        return None


def record_action(outcome: Any) -> TimelineEvent | None:
    """An action's outcome (console.actions.Outcome) with its key, status and verify."""
    try:
        plan = getattr(outcome, "plan", None)
        verify = getattr(outcome, "verify", None)
        title = f"action {outcome.action}: {outcome.status}"
        if verify:
            title += f", verify {verify.get('status')}"
        detail = {
            "action": outcome.action,
            "key": outcome.key,
            "status": outcome.status,
            "run": getattr(outcome, "run", None),
            "exit_code": getattr(outcome, "exit_code", None),
            "http_status": getattr(outcome, "http_status", None),
            "duration_s": getattr(outcome, "duration_s", None),
            "reason": getattr(outcome, "reason", ""),
            "verify": verify,
            "break_glass": getattr(outcome, "break_glass", None),
            "guard": getattr(outcome, "guard", None),
            "params": getattr(plan, "params", None),
            "kind": getattr(plan, "kind", None),
        }
        target = getattr(plan, "incident", None)
        if target and ID_PATTERN.match(str(target)) and incident_file(str(target)).exists():
            return record("action", title, detail, incident_id=str(target))
        return record("action", title, detail)
    except Exception:
        return None


def record_query(result: Any) -> TimelineEvent | None:
    """A history query that was run (console.history.QueryResult): name or SQL, params, measures."""
    try:
        name = getattr(result, "name", None)
        title = f"query {name}" if name else "query (SQL)"
        rows = len(getattr(result, "rows", []) or [])
        title += f": {rows} rows"
        detail = {
            "name": name,
            "params": getattr(result, "params", {}),
            "sql": None if name else getattr(result, "sql", None),
            "rows": rows,
            "measures": getattr(result, "measures", {}),
            "note": getattr(result, "note", None),
        }
        return record("query", title, detail)
    except Exception:
        return None


def record_route(
    playbook_id: str, title: str | None = None, *, why: str | None = None, query: str | None = None
) -> TimelineEvent | None:
    """A playbook opened (from the router or by hand)."""
    text = f"route opened: {playbook_id}" + (f" ({title})" if title else "")
    return record("route", text, {"playbook": playbook_id, "why": why, "query": query})


def record_step(
    playbook_id: str,
    step_id: str,
    status: str,
    title: str | None = None,
    detail: dict[str, Any] | None = None,
) -> TimelineEvent | None:
    """A walkthrough step done, skipped or failed."""
    text = f"step {playbook_id}/{step_id} {status}" + (f": {title}" if title else "")
    data = {"playbook": playbook_id, "step": step_id, "status": status, **(detail or {})}
    return record("step", text, data)
