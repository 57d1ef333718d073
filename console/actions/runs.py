"""A run's files in the data dir (data_dir()/runs): its output and its reserved outcome.

- `<run>.log`: what the command prints, written by the command itself (not through a pipe to
  fixmap, so nothing it prints can kill it when fixmap is gone). The console and the CLI tail
  it and redact each line; when the run ends its supervisor rewrites it redacted. Mode 0600.
- `<run>.outcome`: space reserved *before* the command starts. When the journal cannot take
  the outcome line (the disk filled up meanwhile, a remount), the supervisor writes the outcome
  into this file in place, which needs no new space; the journal reads it as if it were the
  outcome line, and folds it in on its next write. A file holding only the reservation (spaces)
  is not an outcome.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from console.core import data_dir

RUNS_DIR = "runs"
RESERVED = 32 * 1024
"""Bytes reserved for an outcome: the record with its 40 output lines of up to 500 characters."""


def runs_dir(create: bool = False) -> Path:
    folder = data_dir() / RUNS_DIR
    if create:
        folder.mkdir(exist_ok=True)
    return folder


def log_path(run: str) -> Path:
    return runs_dir() / f"{run}.log"


def fallback_path(run: str) -> Path:
    return runs_dir() / f"{run}.outcome"


def reserve(run: str) -> Path:
    """Reserve the outcome's space and create the (empty) output log; OSError if the data dir
    cannot take them (full, read-only): then nothing may run."""
    folder = runs_dir(create=True)
    path = folder / f"{run}.outcome"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        block = b" " * 4096
        for _ in range(RESERVED // len(block)):
            os.write(fd, block)
        os.fsync(fd)
        os.close(os.open(folder / f"{run}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    except BaseException:
        os.close(fd)
        discard(path)
        raise
    os.close(fd)
    return path


def discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def discard_run(run: str) -> None:
    """A run that never started: its reservation and its empty log go."""
    discard(fallback_path(run))
    discard(log_path(run))


def write_fallback(path: Path, record: dict[str, Any]) -> None:
    """Write an outcome record into its reservation, in place (no new space needed)."""
    data = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(data) > RESERVED:  # keep the record whole: drop output lines, never fields
        record = {**record, "output_tail": record.get("output_tail", [])[-5:]}
        data = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        data = data[:RESERVED] if len(data) > RESERVED else data
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data + b" " * (RESERVED - len(data)), 0)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_fallback(path: Path) -> dict[str, Any] | None:
    """The outcome record kept in a reservation, or None (still only reserved, or unreadable)."""
    try:
        text = path.read_bytes().strip()
    except OSError:
        return None
    if not text:
        return None
    try:
        rec = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return rec if isinstance(rec, dict) and rec.get("type") == "outcome" else None


def fallback_outcomes() -> list[tuple[Path, dict[str, Any]]]:
    """Every outcome kept in a reservation because the journal could not take it."""
    folder = runs_dir()
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.outcome")):
        rec = read_fallback(path)
        if rec is not None:
            out.append((path, rec))
    return out
