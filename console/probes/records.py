"""probe_runs.jsonl in the data dir: every probe result of every run, one redacted JSON line each.

Lines are appended without fsync (a probe run can write a hundred in a second, and a lost last
line costs one verdict, not a record of a change); a data dir that is full or read-only must
not hide the verdicts themselves, so a failed write is dropped. Reading skips lines that are
not JSON (a torn last line).
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from console.probes.result import ProbeResult

if TYPE_CHECKING:
    from console.site import Site

RUNS_FILE = "probe_runs.jsonl"

_lock = threading.Lock()


def append_run(run_id: str, site: Site, result: ProbeResult) -> None:
    """Record one result of run `run_id`, secrets masked."""
    from console.core import data_dir, redact_json

    line = {
        "run_id": run_id,
        "config": str(site.path) if site.path else None,
        **result.to_dict(),
    }
    text = redact_json(line)  # value by value: the line stays JSON whatever the secrets are
    try:
        with _lock, open(data_dir() / RUNS_FILE, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    except OSError:
        pass


def read_runs(limit: int | None = None) -> list[dict[str, Any]]:
    """Recorded probe results, oldest first (the last `limit` when given)."""
    from console.core import data_dir

    path = data_dir() / RUNS_FILE
    if not path.is_file():
        return []
    rows = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(raw))
        except ValueError:
            continue
    return rows[-limit:] if limit else rows
