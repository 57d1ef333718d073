"""The action journal: an append-only JSON-lines file in the data dir, each line fsynced.

One line per event, never rewritten. Every line passes the redactor before it is written.

    {"v": 1, "type": "intent",  "run": R, "key": K, "action": A, "kind": ..., "ts": ..., "who": ...,
     "host": ..., "pid": ..., "incident": ..., "params": {...}, "plan": {...},
     "break_glass": "reason" | null, "retry_of": R0 | null, "site": {"frozen": b, "read_only": b}}
    {"v": 1, "type": "outcome", "run": R, "key": K, "action": A, "ts": ..., "status": "done"|"failed",
     "exit_code": int|null, "http_status": int|null, "duration_s": f, "timed_out": b,
     "cancelled": b, "output_tail": [lines], "reason": "..."}
    {"v": 1, "type": "verify",  "run": R, "key": K, "action": A, "ts": ..., "probe": P,
     "status": "...", "reason": "..."}
    {"v": 1, "type": "refused", "key": K, "action": A, "kind": ..., "ts": ..., "who": ..., "host": ...,
     "guard": "freeze"|"interrupted"|..., "reason": "..."}

The intent is on disk (written, fsynced) before the command starts; the outcome after it ends;
the verify record after the probe. An intent with no outcome whose key lock nobody holds is
*interrupted*: the process died mid-action (kill -9, a dropped SSH session, a crash), and the
target may or may not have changed.

Single flight: a run holds an exclusive flock on data_dir()/locks/<sha256(key)>.lock from before
it reads the journal for its key until its outcome is written. flock conflicts between open file
descriptions, so it serialises threads of one process as well as processes; the kernel drops it
when a process dies, which is how an interrupted run is told from a running one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from console.core import append_record, data_dir, redact, redact_json

JOURNAL_NAME = "journal.jsonl"
VERSION = 1
INTERRUPTED_NOTE = "interrupted — check the target before retrying"
_append_lock = threading.Lock()


def journal_path() -> Path:
    return data_dir() / JOURNAL_NAME


# ---------------------------------------------------------------- writing


def append(record: dict[str, Any], path: Path | None = None) -> dict[str, Any]:
    """Append one record as one redacted JSON line, fsynced before returning (core.durable)."""
    return append_record(path or journal_path(), {"v": VERSION, **record})


# ---------------------------------------------------------------- reading


def records(path: Path | None = None) -> tuple[list[dict[str, Any]], int]:
    """Every well-formed record in file order, and how many lines were unreadable (torn)."""
    path = path or journal_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], 0
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
        if isinstance(rec, dict) and rec.get("type") in ("intent", "outcome", "verify", "refused"):
            out.append(rec)
        else:
            bad += 1
    return out, bad


@dataclass
class Entry:
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
    exit_code: int | None = None
    http_status: int | None = None
    duration_s: float | None = None
    timed_out: bool = False
    cancelled: bool = False
    output_tail: list[str] = field(default_factory=list)
    reason: str = ""
    break_glass: str | None = None
    retry_of: str | None = None
    verify: dict[str, Any] | None = None
    guard: str | None = None
    base: str | None = None

    @property
    def interrupted(self) -> bool:
        return self.status == "interrupted"

    @property
    def note(self) -> str:
        if self.status == "interrupted":
            return INTERRUPTED_NOTE
        if self.status == "running":
            return f"running now (pid {self.pid} on {self.host})"
        return self.reason

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["interrupted"] = self.interrupted
        data["note"] = self.note
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
        elif t == "outcome":
            e = by_run.get(str(rec.get("run")))
            if e is None:
                continue
            e.status = "done" if rec.get("status") == "done" else "failed"
            e.finished_at = rec.get("ts")
            e.exit_code = rec.get("exit_code")
            e.http_status = rec.get("http_status")
            e.duration_s = rec.get("duration_s")
            e.timed_out = bool(rec.get("timed_out"))
            e.cancelled = bool(rec.get("cancelled"))
            e.output_tail = list(rec.get("output_tail") or [])
            e.reason = str(rec.get("reason") or "")
        elif t == "verify":
            e = by_run.get(str(rec.get("run")))
            if e is not None:
                e.verify = {k: rec.get(k) for k in ("probe", "status", "reason")}
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


# ---------------------------------------------------------------- locks


def lock_path(key: str) -> Path:
    folder = data_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (hashlib.sha256(key.encode("utf-8")).hexdigest()[:40] + ".lock")


def is_running(key: str) -> bool:
    """Whether some thread or process holds this key's run lock right now."""
    path = lock_path(key)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return True
        raise
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


class KeyLockTimeout(Exception):
    """The key stayed locked by another run past the deadline."""


@contextlib.contextmanager
def key_lock(
    key: str,
    wait: float,
    on_wait: Callable[[], None] | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[int]:
    """Hold the single-flight lock of `key`; wait up to `wait` seconds for a run holding it.

    Yields the lock's file descriptor: a command started with it inherited keeps the key locked
    for as long as it runs, even if fixmap itself dies (a dropped SSH session). `on_wait` is
    called once, when the lock is found taken. Raises KeyLockTimeout.
    """
    fd = os.open(lock_path(key), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
            if not told and on_wait is not None:
                on_wait()
                told = True
            if time.monotonic() >= deadline or (cancel is not None and cancel.is_set()):
                raise KeyLockTimeout(key)
            # flock has no timed wait; a short poll keeps the wait bounded and cancellable
            time.sleep(0.05)
        yield fd
    finally:
        os.close(fd)


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
    if entry.verify:
        text += f"\n    verify {entry.verify.get('probe')}: {entry.verify.get('status')} {entry.verify.get('reason') or ''}".rstrip()
    note = entry.note
    if note and entry.status in ("interrupted", "failed", "refused", "running"):
        text += f"\n    {note}"
    return redact(text)
