"""The action journal: an append-only JSON-lines file in the data dir, each line fsynced.

One line per event, never rewritten. Every line passes the redactor before it is written. This
module owns the format: the records are built here (`write_*`) and read back here (`entries`).

    {"v": 1, "type": "intent",  "run": R, "key": K, "base": B, "action": A, "kind": ..., "ts": ...,
     "who": ..., "host": ..., "pid": ..., "incident": ..., "params": {...}, "plan": {...},
     "break_glass": "reason" | null, "retry_of": R0 | null, "site": {"frozen": b, "read_only": b}}
    {"v": 1, "type": "started", "run": R, "key": K, "action": A, "ts": ..., "pid": P,
     "supervisor": S, "output": "runs/R.log"}
    {"v": 1, "type": "outcome", "run": R, "key": K, "action": A, "ts": ..., "status": "done"|"failed",
     "exit_code": int|null, "http_status": int|null, "duration_s": f, "timed_out": b,
     "cancelled": b, "output_tail": [lines], "reason": "..."}
    {"v": 1, "type": "verify",  "run": R, "key": K, "action": A, "ts": ..., "probe": P,
     "status": "...", "reason": "..."}
    {"v": 1, "type": "refused", "key": K, "action": A, "kind": ..., "ts": ..., "who": ..., "host": ...,
     "guard": "freeze"|"interrupted"|..., "reason": "...", "params": {...}, "incident": ...}

`base` is the hash of what makes two runs the same change (keys.py): a key reused for another
change is refused. The outcome's fields are a RunResult (result.py), the verify's a Verify.

The intent is on disk (written, fsynced) before the command starts; `started` when an argv
action's supervisor (supervisor.py) has started it; the outcome after it ends, written by the
supervisor itself, whether or not the console is still there; the verify record after the
probe. An outcome the journal could not take (a full disk) is kept in its run's reserved file
(runs.py): reading picks it up as the outcome line, and the next write folds it in. An intent
with no outcome whose key lock nobody holds is *interrupted*: everything that held the run died
(kill -9 of the supervisor, a crash of the machine), and the target may or may not have
changed. The key locks are locks.py's (single flight).

Reading is forgiving: unreadable (torn) lines are counted and skipped, missing fields read as
'not said', so journals written by older versions still read.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from console.actions import runs
from console.actions.locks import KeyLockTimeout, is_running, key_lock, lock_path
from console.actions.result import ResultFields, RunResult, Verify
from console.core import append_record, data_dir, redact, redact_json
from console.core.identity import host, now_iso, who

__all__ = [
    "INTERRUPTED_NOTE",
    "Entry",
    "KeyLockTimeout",
    "append",
    "describe",
    "entries",
    "is_running",
    "journal_path",
    "key_history",
    "key_lock",
    "lock_path",
    "outcome_record",
    "read_journal",
    "records",
    "write_intent",
    "write_outcome",
    "write_refused",
    "write_started",
    "write_verify",
]

JOURNAL_NAME = "journal.jsonl"
VERSION = 1
INTERRUPTED_NOTE = "interrupted — check the target before retrying"
RECORD_TYPES = ("intent", "started", "outcome", "verify", "refused")


def journal_path() -> Path:
    return data_dir() / JOURNAL_NAME


# ---------------------------------------------------------------- writing


class Planned(Protocol):
    """What the journal needs of a plan (console.actions.plan.Plan)."""

    action: str
    kind: str
    key: str
    incident: str | None
    params: dict[str, Any]

    def to_json(self) -> dict[str, Any]: ...


def append(record: dict[str, Any], path: Path | None = None) -> dict[str, Any]:
    """Append one record as one redacted JSON line, fsynced before returning (core.durable);
    outcomes kept in their runs' reservations (runs.py) are folded in first. OSError when the
    journal cannot take it (read-only, full): then no line, not even part of one, was added."""
    path = path or journal_path()
    _fold_fallbacks(path)
    return append_record(path, {"v": VERSION, **record})


def _fold_fallbacks(path: Path) -> None:
    """Move outcomes kept in reservations into the journal (each claimed by a rename, so two
    writers never fold one twice); one that still cannot be written stays where it was."""
    for kept, rec in runs.fallback_outcomes():
        claimed = kept.with_name(kept.name + ".folding")
        try:
            os.rename(kept, claimed)
        except OSError:
            continue
        try:
            append_record(path, {"v": VERSION, **rec})
        except OSError:
            with contextlib.suppress(OSError):
                os.rename(claimed, kept)
            return
        runs.discard(claimed)


def write_intent(
    plan: Planned,
    *,
    run: str,
    base: str,
    break_glass: str | None,
    retry_of: str | None,
    frozen: bool,
    read_only: bool,
) -> dict[str, Any]:
    """The run is about to start: on disk before the command is."""
    return append(
        {
            "type": "intent",
            "run": run,
            "key": plan.key,
            "base": base,
            "action": plan.action,
            "kind": plan.kind,
            "ts": now_iso(),
            "who": who(),
            "host": host(),
            "pid": os.getpid(),
            "incident": plan.incident,
            "params": plan.params,
            "plan": plan.to_json(),
            "break_glass": break_glass,
            "retry_of": retry_of,
            "site": {"frozen": frozen, "read_only": read_only},
        }
    )


def write_started(spec: dict[str, Any], *, pid: int, supervisor: int, path: str) -> None:
    """The supervisor has started the command (supervisor.py)."""
    append(
        {
            "type": "started",
            "run": spec["run"],
            "key": spec["key"],
            "action": spec["action"],
            "ts": now_iso(),
            "pid": pid,
            "supervisor": supervisor,
            "output": spec["log"],
        },
        Path(path),
    )


def outcome_record(key: str, action: str, run: str, result: RunResult) -> dict[str, Any]:
    """The outcome line of a run."""
    return {
        "type": "outcome",
        "run": run,
        "key": key,
        "action": action,
        "ts": now_iso(),
        **result.to_record(),
    }


def write_outcome(plan: Planned, run: str, result: RunResult) -> dict[str, Any]:
    """How the run ended (an HTTP action, or a run whose supervisor never started)."""
    return append(outcome_record(plan.key, plan.action, run, result))


def write_verify(plan: Planned, run: str | None, verify: Verify) -> dict[str, Any]:
    """What the verify probe said after a run that was done."""
    return append(
        {
            "type": "verify",
            "run": run,
            "key": plan.key,
            "action": plan.action,
            "ts": now_iso(),
            **verify,
        }
    )


def write_refused(plan: Planned, guard: str, reason: str) -> dict[str, Any]:
    """A refusal worth a line of its own (a change-shipping action tried during a freeze)."""
    return append(
        {
            "type": "refused",
            "key": plan.key,
            "action": plan.action,
            "kind": plan.kind,
            "ts": now_iso(),
            "who": who(),
            "host": host(),
            "guard": guard,
            "reason": reason,
            "params": plan.params,
            "incident": plan.incident,
        }
    )


# ---------------------------------------------------------------- reading


def records(path: Path | None = None) -> tuple[list[dict[str, Any]], int]:
    """Every well-formed record in file order, and how many lines were unreadable (torn); an
    outcome kept in a reservation counts as written after them."""
    default = path is None
    path = path or journal_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raw = b""
    out: list[dict[str, Any]] = []
    bad = 0
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            rec = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            bad += 1
            continue
        if isinstance(rec, dict) and rec.get("type") in RECORD_TYPES:
            out.append(rec)
        else:
            bad += 1
    if default:
        have = {r.get("run") for r in out if r.get("type") == "outcome"}
        out += [rec for _p, rec in runs.fallback_outcomes() if rec.get("run") not in have]
    return out, bad


@dataclass
class Entry(ResultFields):
    """One run (intent + outcome + verify merged), or one refusal; what `fixmap journal` lists."""

    key: str
    action: str
    kind: str
    status: str
    """done | failed | running | interrupted | refused"""
    started_at: str
    run: str | None = None
    finished_at: str | None = None
    who: str = ""
    host: str = ""
    pid: int | None = None
    incident: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    result: RunResult | None = None
    """The run's outcome line, once one was written."""
    reason: str = ""
    break_glass: str | None = None
    retry_of: str | None = None
    verify: Verify | None = None
    guard: str | None = None
    base: str | None = None
    supervisor: int | None = None
    """The pid of the supervisor that owns the command (argv actions)."""
    output: str | None = None
    """The run's output log (runs/<run>.log)."""
    kept_because: str | None = None
    """Why the outcome is in the run's reservation, not the journal (a full disk)."""

    @property
    def interrupted(self) -> bool:
        return self.status == "interrupted"

    @property
    def note(self) -> str:
        if self.status == "interrupted":
            return INTERRUPTED_NOTE
        if self.status == "running":
            by = (
                f"; its supervisor (pid {self.supervisor}) records the outcome"
                if self.supervisor
                else ""
            )
            out = f"; output: {self.output}" if self.output else ""
            return f"running now (pid {self.pid} on {self.host}{by}{out})"
        return self.reason

    def to_json(self, *, brief: bool = False) -> dict[str, Any]:
        """The entry for `fixmap journal --json`; `brief`: the few fields a plan shows of the
        run before it under its key (a plan is journaled, and must not nest earlier plans)."""
        if brief:
            data: dict[str, Any] = {
                "status": self.status,
                "run": self.run,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "who": self.who,
                "exit_code": self.exit_code,
                "http_status": self.http_status,
                "reason": self.reason,
            }
        else:
            data = {
                "key": self.key,
                "action": self.action,
                "kind": self.kind,
                "status": self.status,
                "started_at": self.started_at,
                "run": self.run,
                "finished_at": self.finished_at,
                "who": self.who,
                "host": self.host,
                "pid": self.pid,
                "incident": self.incident,
                "params": self.params,
                "plan": self.plan,
                **self.evidence(),
                "reason": self.reason,
                "break_glass": self.break_glass,
                "retry_of": self.retry_of,
                "verify": self.verify,
                "guard": self.guard,
                "base": self.base,
                "supervisor": self.supervisor,
                "output": self.output,
                "kept_because": self.kept_because,
                "interrupted": self.interrupted,
                "note": self.note,
            }
        return json.loads(redact_json(data))


def _entries(recs: list[dict[str, Any]], running: Callable[[str], bool]) -> list[Entry]:
    """Merge records into entries in file order (oldest first)."""
    entries: list[Entry] = []
    by_run: dict[str, Entry] = {}
    for rec in recs:
        t = rec.get("type")
        if t == "intent":
            e = Entry(
                key=str(rec.get("key", "")),
                action=str(rec.get("action", "")),
                kind=str(rec.get("kind", "")),
                status="open",
                started_at=str(rec.get("ts", "")),
                run=rec.get("run"),
                who=str(rec.get("who", "")),
                host=str(rec.get("host", "")),
                pid=rec.get("pid"),
                incident=rec.get("incident"),
                params=rec.get("params") or {},
                plan=rec.get("plan") or {},
                break_glass=rec.get("break_glass"),
                retry_of=rec.get("retry_of"),
                base=rec.get("base"),
            )
            entries.append(e)
            if e.run:
                by_run[e.run] = e
        elif t == "started":
            e = by_run.get(str(rec.get("run")))
            if e is not None:
                e.pid = rec.get("pid", e.pid)
                e.supervisor = rec.get("supervisor")
                e.output = rec.get("output")
        elif t == "outcome":
            e = by_run.get(str(rec.get("run")))
            if e is None or e.result is not None:
                continue  # one outcome per run: a folded-in copy says nothing new
            e.result = RunResult.from_record(rec)
            e.status = e.result.status
            e.finished_at = rec.get("ts")
            e.reason = e.result.reason
            e.kept_because = rec.get("kept_because")
        elif t == "verify":
            e = by_run.get(str(rec.get("run")))
            if e is not None:
                e.verify = Verify.from_record(rec)
        elif t == "refused":
            entries.append(
                Entry(
                    key=str(rec.get("key", "")),
                    action=str(rec.get("action", "")),
                    kind=str(rec.get("kind", "")),
                    status="refused",
                    started_at=str(rec.get("ts", "")),
                    who=str(rec.get("who", "")),
                    host=str(rec.get("host", "")),
                    reason=str(rec.get("reason") or ""),
                    guard=rec.get("guard"),
                    params=rec.get("params") or {},
                    incident=rec.get("incident"),
                )
            )
    latest_intent: dict[str, Entry] = {}
    for e in entries:
        if e.run:
            latest_intent[e.key] = e
    for e in entries:
        if e.status == "open":
            # only the newest intent of a key can still be running; older open ones were cut off
            alive = latest_intent.get(e.key) is e and running(e.key)
            e.status = "running" if alive else "interrupted"
            if not alive:
                e.reason = INTERRUPTED_NOTE
    return entries


def entries(path: Path | None = None, *, held: str | None = None) -> list[Entry]:
    """Every entry, oldest first, with running/interrupted decided from the key locks.

    `held`: a key whose lock the caller holds; its open intents cannot be running (the lock
    the caller sees taken is its own), so they are interrupted.
    """
    recs, _ = records(path)
    return _entries(recs, lambda key: key != held and is_running(key))


def read_journal(limit: int | None = None, path: Path | None = None) -> list[Entry]:
    """The journal newest first; intents with no outcome and no live run are marked interrupted."""
    out = list(reversed(entries(path)))
    return out[:limit] if limit else out


def key_history(key: str, path: Path | None = None, *, holding_lock: bool = False) -> list[Entry]:
    """The runs (not refusals) recorded under one key, oldest first.

    Pass holding_lock=True from inside `key_lock(key)`.
    """
    return [e for e in entries(path, held=key if holding_lock else None) if e.key == key and e.run]


def describe(entry: Entry) -> str:
    """One line for `fixmap journal`."""
    ts = entry.started_at.replace("T", " ").rstrip("Z")[:19]
    bits = [
        ts,
        f"{entry.action:<12}",
        f"{entry.status.upper() if entry.status == 'interrupted' else entry.status:<11}",
    ]
    if entry.exit_code is not None:
        bits.append(f"exit {entry.exit_code}")
    if entry.http_status is not None:
        bits.append(f"HTTP {entry.http_status}")
    if entry.duration_s is not None:
        bits.append(f"{entry.duration_s:.1f}s")
    if entry.timed_out:
        bits.append("timed out")
    bits.append(f"key={entry.key}")
    if entry.who:
        bits.append(f"by {entry.who}")
    text = "  ".join(bits)
    if entry.break_glass:
        text += f"\n    break-glass: {entry.break_glass}"
    if entry.plan.get("key_reason"):
        text += f"\n    new key: {entry.plan['key_reason']}"
    if entry.verify:
        text += f"\n    {entry.verify.line()}"
    if entry.kept_because:
        text += f"\n    outcome kept in its run's reserved file ({entry.kept_because})"
    note = entry.note
    if note and entry.status in ("interrupted", "failed", "refused", "running"):
        text += f"\n    {note}"
    return redact(text)
