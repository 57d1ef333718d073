"""Walkthrough progress: step statuses and where the engineer was, saved on every change."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from console.core import atomic_write, data_dir

if TYPE_CHECKING:
    from console.playbooks import Playbook

Status = Literal["pending", "done", "skipped", "failed"]
STATUSES: tuple[str, ...] = ("pending", "done", "skipped", "failed")


@dataclass
class Progress:
    playbook_id: str
    statuses: dict[str, Status] = field(default_factory=dict)
    cursor: str | None = None
    updated: str | None = None
    results: dict[str, list[str]] = field(default_factory=dict)
    """The last result of each step that ran (probe verdicts, query summaries, action outcomes)."""

    def status(self, step_id: str) -> Status:
        return self.statuses.get(step_id, "pending")

    def counts(self, playbook: Playbook) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for step in playbook.steps:
            out[self.status(step.id)] += 1
        return out

    def next_open(self, playbook: Playbook, after: str | None = None) -> str | None:
        """The first pending step after `after` (wrapping), or None when all are settled."""
        ids = [s.id for s in playbook.steps]
        start = ids.index(after) + 1 if after in ids else 0
        for sid in ids[start:] + ids[:start]:
            if self.status(sid) == "pending":
                return sid
        return None


class ProgressStore:
    """One small JSON file per playbook under the data dir; atomic writes, tolerant reads."""

    def __init__(self, root: Path | None = None):
        self.root = root or (data_dir() / "progress")

    def _path(self, playbook_id: str) -> Path:
        return self.root / f"{playbook_id}.json"

    def load(self, playbook: Playbook) -> Progress:
        path = self._path(playbook.id)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return Progress(playbook.id)
        step_ids = {s.id for s in playbook.steps}
        statuses = {
            k: v for k, v in (raw.get("statuses") or {}).items() if k in step_ids and v in STATUSES
        }
        cursor = raw.get("cursor") if raw.get("cursor") in step_ids else None
        results = {
            k: [str(line) for line in v]
            for k, v in (raw.get("results") or {}).items()
            if k in step_ids and isinstance(v, list)
        }
        return Progress(playbook.id, statuses, cursor, raw.get("updated"), results)

    def save(self, progress: Progress) -> None:
        progress.updated = datetime.now(UTC).isoformat(timespec="seconds")
        payload = {
            "playbook": progress.playbook_id,
            "statuses": progress.statuses,
            "cursor": progress.cursor,
            "updated": progress.updated,
            "results": progress.results,
        }
        atomic_write(self._path(progress.playbook_id), json.dumps(payload, indent=1))

    def reset(self, playbook_id: str) -> None:
        self._path(playbook_id).unlink(missing_ok=True)
