"""What an incident's drafts draw on besides the timeline's words: the actions run during it
(from the timeline and from the action journal, one row per run), every probe result, the pins
in play, and the site's config when there is one.

The journal is read as well as the timeline because an action can outlive the console that
started it (a crash, a second terminal): a run tagged with the incident, or started while it was
open, belongs to it. A missing journal or a site config that does not validate costs the rows it
would have given, never the draft.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from console.core.identity import parse_ts
from console.exports.render import utc_clock
from console.incident import Incident


def site_config(site: Any) -> Any:
    """The site's validated config, or None without a site file or when it does not validate."""
    try:
        return site.config if site is not None and site.path is not None else None
    except Exception:
        return None


def incident_actions(incident: Incident) -> list[dict[str, Any]]:
    """Actions during the incident: from its timeline and from the action journal (runs tagged
    with the incident, or started while it was open), oldest first, one row per run."""
    rows: dict[str, dict[str, Any]] = {}
    for e in incident.of_kind("action"):
        d = e.detail
        key = f"{d.get('key')}:{d.get('run') or e.ts}"
        rows[key] = {
            "ts": e.ts,
            "action": d.get("action"),
            "status": d.get("status"),
            "key": d.get("key"),
            "run": d.get("run"),
            "exit_code": d.get("exit_code"),
            "http_status": d.get("http_status"),
            "verify": d.get("verify"),
            "break_glass": d.get("break_glass"),
            "reason": d.get("reason"),
            "who": e.who,
            "from": "timeline",
        }
    try:
        from console.actions import read_journal

        entries = read_journal()
    except Exception:
        entries = []
    start = incident.opened
    end = incident.closed or datetime.now(UTC)
    for entry in entries:
        try:
            started = parse_ts(entry.started_at)
        except ValueError:
            continue
        if entry.incident != incident.id and not (start <= started <= end):
            continue
        if entry.incident and entry.incident != incident.id:
            continue
        key = f"{entry.key}:{entry.run or entry.started_at}"
        existing = next(
            (r for r in rows.values() if r["run"] and r["run"] == entry.run),
            None,
        )
        row = existing or rows.setdefault(key, {"ts": entry.started_at, "from": "journal"})
        found = {
            "action": entry.action,
            "status": entry.status,
            "key": entry.key,
            "run": entry.run,
            "exit_code": entry.exit_code,
            "http_status": entry.http_status,
            "verify": entry.verify,
            "break_glass": entry.break_glass,
            "reason": entry.note or row.get("reason"),
            "who": entry.who or row.get("who"),
        }
        row.update({k: v for k, v in found.items() if v is not None or k not in row})
        if existing is not None:
            existing["from"] = "timeline + journal"
    return sorted(rows.values(), key=lambda r: str(r.get("ts")))


def probe_rows(incident: Incident) -> list[tuple[str, dict[str, Any]]]:
    """(ts, probe result) for every probe result on the timeline (own events and gate runs)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for e in incident.events:
        if e.kind in ("probe", "gate"):
            for p in e.detail.get("probes") or []:
                if isinstance(p, dict):
                    out.append((e.ts, p))
    return out


def pins_in_play(incident: Incident, site: Any) -> tuple[list[tuple[str, str, str]], str]:
    """(pin, deployed, lock) rows and where they come from."""
    observed = [(ts, p) for ts, p in probe_rows(incident) if p.get("kind") == "pins"]
    for ts, p in reversed(observed):
        values = p.get("values") or {}
        deployed = values.get("deployed")
        lock = values.get("lock")
        if isinstance(deployed, dict) and isinstance(lock, dict):
            rows = [(k, str(deployed.get(k)), str(lock.get(k))) for k in lock]
            first = observed[0][1].get("values") or {}
            note = f"from the pins probe at {utc_clock(ts)}"
            drift = [
                k
                for k in lock
                if isinstance(first.get("deployed"), dict)
                and str(first["deployed"].get(k)) != str(deployed.get(k))
            ]
            if drift and len(observed) > 1:
                note += f"; at {utc_clock(observed[0][0])} these differed: " + ", ".join(
                    f"{k} {first['deployed'].get(k)}" for k in drift
                )
            return rows, note
    config = site_config(site)
    pins: dict[str, str] = dict(config.pins) if config is not None else {}
    if pins:
        return [(k, "(not observed)", v) for k, v in pins.items()], (
            "the site config's pinned lock; no pins probe ran during the incident"
        )
    return [], "not captured: run the pins probe (fixmap probe pins) during the incident"


def action_title(a: dict[str, Any]) -> str:
    """One action run as a timeline line: "action rollback: done, verify pass"."""
    text = f"action {a.get('action')}: {a.get('status')}"
    verify = a.get("verify") or {}
    if verify:
        text += f", verify {verify.get('status')}"
    return text
