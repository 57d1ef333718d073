"""Walkthrough progress: step statuses, each step's last result, and where the engineer was.

One small JSON file per playbook in the data dir's progress/. Two consoles (or a console and
`fixmap step`) on one data dir share it: every status and every result carries the time it
was set, and a save merges with what is on disk under an flock, per step, the newer change
winning. So a mark made in one console is never lost when the other marks another step, and
`refresh()` brings in the other side's marks.

    {"playbook": ID, "cursor": STEP, "updated": TS,
     "steps": {STEP: {"status": "done", "status_at": TS, "result": [...], "result_at": TS}}}

A reset writes every step back to pending with the time of the reset, so it travels too.
Files of the older shape ({"statuses": {...}, "results": {...}}) still read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from console.core.durable import atomic_write
from console.core.identity import now_iso
from console.core.paths import data_dir

if TYPE_CHECKING:
    from console.playbooks import Playbook

Status = Literal["pending", "done", "skipped", "failed"]
STATUSES: tuple[str, ...] = ("pending", "done", "skipped", "failed")


@dataclass
class Progress:
    playbook_id: str
    statuses: dict[str, Status] = field(default_factory=dict)
    """The settled steps (a pending step has no entry)."""
    cursor: str | None = None
    updated: str | None = None
    results: dict[str, list[str]] = field(default_factory=dict)
    """The last result of each step that ran (probe verdicts, query summaries, action outcomes)."""
    status_at: dict[str, str] = field(default_factory=dict)
    """When each step's status was last set (pending included): the newer change wins a merge."""
    result_at: dict[str, str] = field(default_factory=dict)

    def status(self, step_id: str) -> Status:
        return self.statuses.get(step_id, "pending")

    def set_status(self, step_id: str, status: str, at: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"'{status}' is not one of {', '.join(STATUSES)}")
        if status == "pending":
            self.statuses.pop(step_id, None)
        else:
            self.statuses[step_id] = status  # type: ignore[assignment]
        self.status_at[step_id] = at or now_iso()

    def set_result(self, step_id: str, lines: list[str], at: str | None = None) -> None:
        self.results[step_id] = list(lines)
        self.result_at[step_id] = at or now_iso()

    def counts(self, playbook: Playbook) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for step in playbook.steps:
            out[self.status(step.id)] += 1
        return out

    def started(self) -> bool:
        """Anything marked or run yet."""
        return bool(self.statuses or self.results)

    def next_open(self, playbook: Playbook, after: str | None = None) -> str | None:
        """The first pending step after `after` (wrapping), or None when all are settled."""
        ids = [s.id for s in playbook.steps]
        start = ids.index(after) + 1 if after in ids else 0
        for sid in ids[start:] + ids[:start]:
            if self.status(sid) == "pending":
                return sid
        return None

    def merge(self, other: Progress) -> bool:
        """Take every step change of `other` that is newer than ours; True if anything changed."""
        changed = False
        for sid, at in other.status_at.items():
            if at > self.status_at.get(sid, ""):
                self.set_status(sid, other.status(sid), at)
                changed = True
        for sid, at in other.result_at.items():
            if at > self.result_at.get(sid, ""):
                if sid in other.results:
                    self.set_result(sid, other.results[sid], at)
                else:  # cleared there (a reset)
                    self.results.pop(sid, None)
                    self.result_at[sid] = at
                changed = True
        return changed

    def to_json(self) -> dict:
        steps: dict[str, dict] = {}
        for sid in sorted({*self.status_at, *self.result_at, *self.statuses, *self.results}):
            entry: dict = {}
            if sid in self.status_at or sid in self.statuses:
                entry["status"] = self.status(sid)
                entry["status_at"] = self.status_at.get(sid, self.updated or "")
            if sid in self.results or sid in self.result_at:
                entry["result"] = self.results.get(sid)  # None: cleared
                entry["result_at"] = self.result_at.get(sid, self.updated or "")
            steps[sid] = entry
        return {
            "playbook": self.playbook_id,
            "cursor": self.cursor,
            "updated": self.updated,
            "steps": steps,
        }


class ProgressStore:
    """One small JSON file per playbook under the data dir; atomic, merged writes."""

    def __init__(self, root: Path | None = None):
        # found, not made: reading progress works on a read-only data dir; saving makes it
        self.root = root or (data_dir(create=False) / "progress")

    def _path(self, playbook_id: str) -> Path:
        return self.root / f"{playbook_id}.json"

    def load(self, playbook: Playbook) -> Progress:
        return self._read(playbook.id, {s.id for s in playbook.steps})

    def save(self, progress: Progress) -> bool:
        """Merge with the file (the newer change per step wins) and write it back; True when
        the merge brought in another console's changes."""
        with self._locked(progress.playbook_id):
            on_disk = self._read(progress.playbook_id, None)
            changed = progress.merge(on_disk)
            progress.updated = now_iso()
            atomic_write(self._path(progress.playbook_id), json.dumps(progress.to_json(), indent=1))
        return changed

    def refresh(self, progress: Progress) -> bool:
        """Bring in what another console saved since; True when a step changed."""
        return progress.merge(self._read(progress.playbook_id, None))

    def in_progress(self, playbooks: Iterable[Playbook]) -> list[Progress]:
        """The walkthroughs begun and not finished (a step still pending), the latest change
        first: what triage offers to resume after a restart. Only reads."""
        saved = {p.stem for p in self.root.glob("*.json")} if self.root.is_dir() else set()
        found = []
        for playbook in playbooks:
            if playbook.id in saved:
                progress = self.load(playbook)
                if progress.started() and progress.next_open(playbook) is not None:
                    found.append(progress)
        return sorted(found, key=lambda p: p.updated or "", reverse=True)

    def reset(self, playbook: Playbook, progress: Progress | None = None) -> Progress:
        """Every step back to pending, as a change that reaches the other consoles too."""
        fresh = progress or Progress(playbook.id)
        at = now_iso()
        for step in playbook.steps:
            fresh.set_status(step.id, "pending", at)
            fresh.results.pop(step.id, None)
            fresh.result_at[step.id] = at
        fresh.cursor = None
        with self._locked(playbook.id):
            fresh.updated = at
            atomic_write(self._path(playbook.id), json.dumps(fresh.to_json(), indent=1))
        return fresh

    # ------------------------------------------------------------ file

    @contextlib.contextmanager
    def _locked(self, playbook_id: str) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / f".{playbook_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read(self, playbook_id: str, step_ids: set[str] | None) -> Progress:
        try:
            raw = json.loads(self._path(playbook_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return Progress(playbook_id)
        if not isinstance(raw, dict):
            return Progress(playbook_id)
        known = step_ids if step_ids is not None else None
        p = Progress(playbook_id, updated=raw.get("updated"))
        updated = str(raw.get("updated") or "")
        steps = raw.get("steps")
        if isinstance(steps, dict):
            for sid, entry in steps.items():
                if (known is not None and sid not in known) or not isinstance(entry, dict):
                    continue
                if entry.get("status") in STATUSES:
                    p.set_status(sid, entry["status"], str(entry.get("status_at") or updated))
                if isinstance(entry.get("result"), list):
                    lines = [str(line) for line in entry["result"]]
                    p.set_result(sid, lines, str(entry.get("result_at") or updated))
                elif entry.get("result_at"):
                    p.result_at[sid] = str(entry["result_at"])
        else:  # the older shape: one time for the whole file
            for sid, status in (raw.get("statuses") or {}).items():
                if (known is None or sid in known) and status in STATUSES:
                    p.set_status(sid, status, updated)
            for sid, lines in (raw.get("results") or {}).items():
                if (known is None or sid in known) and isinstance(lines, list):
                    p.set_result(sid, [str(line) for line in lines], updated)
        cursor = raw.get("cursor")
        p.cursor = (
            cursor if isinstance(cursor, str) and (known is None or cursor in known) else None
        )
        return p
