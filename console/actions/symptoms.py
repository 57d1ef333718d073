"""What an action is for: the probes and gate targets failing when it was planned.

A plan records them (the symptom the engineer came with), read from this data dir's records:
the newest result of each probe in probe_runs.jsonl, and the newest run of each gate set in
the metric history, when they are recent (the site's key_ttl) and say *fail*. An error or an
inconclusive is "could not measure", never a symptom. After the action, the re-check
(verify.py) measures them again; before a derived key is reused, a symptom newer than that
re-check is a relapse (keys.py).

Reading never writes: no history file is created to look for gate runs, and one that is busy
costs a note, not the plan.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from console.core import parse_ts, redact

MITIGATIONS = frozenset({"rollback", "flag", "index_alias", "cache_rotate"})
"""Kinds that are meant to fix what is failing, so their outcome says whether it did. A freeze,
read-only mode (and their undoing) stop change rather than fix it, and what a custom action is
for fixmap cannot know: those answer for their own verify probe only."""

GATE_READ_TIMEOUT = 1.0
"""The longest a plan waits for a history file another process is writing."""


@dataclass(frozen=True)
class Symptom:
    """One probe or gate target whose newest verdict is a failure."""

    kind: str
    """'probe' or 'gate'"""
    name: str
    """The probe, or the gate target."""
    seen_at: str
    """When that verdict was measured (ISO, UTC)."""
    reason: str
    gate_set: str | None = None
    source: str = ""
    """What the verdict stood on: 'probe index', 'history error_rates(window=10m)'."""

    @property
    def label(self) -> str:
        return f"{self.gate_set}.{self.name}" if self.gate_set else self.name

    @property
    def from_history(self) -> bool:
        return self.source.startswith("history")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Symptom | None:
        try:
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except TypeError:
            return None


@dataclass
class Symptoms:
    """What is failing now, by label, and what could not be read."""

    failing: list[Symptom]
    notes: list[str]

    def newer_than(self, when: str) -> list[Symptom]:
        """Those measured after `when` (ISO)."""
        t = parse_ts(when)
        return [s for s in self.failing if parse_ts(s.seen_at) > t]


def failing_for(kind: str, site: Any, window_s: float) -> Symptoms:
    """What an action of `kind` is for: what is failing now, for a mitigation; nothing else."""
    return failing_now(site, window_s) if kind in MITIGATIONS else Symptoms([], [])


def failing_now(site: Any, window_s: float, *, now: datetime | None = None) -> Symptoms:
    """The probes and gate targets whose newest verdict, within the window, is a failure."""
    now = now or datetime.now(UTC)
    since = now - timedelta(seconds=window_s)
    notes: list[str] = []
    failing = _probes(site, since)
    try:
        failing += _gates(site, since)
    except Exception as exc:  # the history is a copy; a busy or broken one costs a note
        notes.append(redact(f"gate runs not read from the history ({type(exc).__name__}: {exc})"))
    return Symptoms(sorted(failing, key=lambda s: s.seen_at), notes)


def _probes(site: Any, since: datetime) -> list[Symptom]:
    from console.probes import read_runs

    configured = set(site.config.probes) if site is not None else set()
    newest: dict[str, dict[str, Any]] = {}
    for row in read_runs():
        name = row.get("name")
        at = row.get("started_at")
        if name not in configured or not isinstance(at, str):
            continue
        if name not in newest or at >= str(newest[name].get("started_at")):
            newest[name] = row
    out = []
    for name, row in newest.items():
        try:
            when = parse_ts(row["started_at"])
        except ValueError:
            continue
        if row.get("status") == "fail" and when >= since:
            out.append(
                Symptom(
                    "probe",
                    name,
                    _iso(when),
                    str(row.get("reason") or ""),
                    source=f"probe {name}",
                )
            )
    return out


def _gates(site: Any, since: datetime) -> list[Symptom]:
    if site is None or getattr(site, "path", None) is None:
        return []
    from console.history import default_db_path

    if not default_db_path(site).is_file():
        return []  # reading must not create the history file
    from console.history import history_for

    history = history_for(site, lock_timeout=GATE_READ_TIMEOUT)
    newest: dict[str, Any] = {}
    for event in history.events(since=since, kinds=["gate"]):
        detail = event.detail or {}
        name = detail.get("set")
        if isinstance(name, str):
            newest[name] = (event, detail)
    out = []
    for set_name, (event, detail) in newest.items():
        at = _event_time(event.ts)
        for target in detail.get("targets") or []:
            if target.get("status") == "fail" and not target.get("dry_run"):
                out.append(
                    Symptom(
                        "gate",
                        str(target.get("name")),
                        at,
                        str(target.get("reason") or ""),
                        gate_set=set_name,
                        source=str(target.get("source") or ""),
                    )
                )
    return out


def _event_time(ts: Any) -> str:
    if isinstance(ts, datetime):
        return _iso(ts if ts.tzinfo else ts.replace(tzinfo=UTC))
    return _iso(parse_ts(str(ts)))


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clock(iso: str) -> str:
    """'09:12' (UTC, as the journal lists times) for a record's timestamp."""
    try:
        return parse_ts(iso).astimezone(UTC).strftime("%H:%M")
    except ValueError:
        return iso
