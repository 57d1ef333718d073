"""Durable files: a record appended as one fsynced JSON line, a file replaced atomically.

Every line passes the redactor before it is written; a crash leaves whole lines (a torn last
line is closed first, so it spoils only itself) and the old or the new file, never half.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from pathlib import Path
from typing import Any

from console.core.redact import redact_json

_append_lock = threading.Lock()


def atomic_write(path: Path, text: str | bytes) -> None:
    """Write a file (text as UTF-8, or bytes) so a crash leaves the old or the new content,
    never half of one."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    # a unique temp file per call: two threads writing one path must not share it
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        binary = isinstance(text, bytes)
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def append_record(path: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Append one record as one redacted JSON line and fsync it before returning.

    A torn last line (a writer killed mid-write) is closed with a newline first, so it spoils
    only itself. A write that fails (a full disk, a remount) is cut back off before the OSError
    is raised: no part of the line stays. Returns the record as written (redacted).
    """
    line = redact_json(record, separators=(",", ":")) + "\n"
    data = line.encode("utf-8")
    created = not path.exists()
    with _append_lock:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data
            try:
                view = memoryview(data)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)  # closing drops the flock
    if created:
        fsync_dir(path.parent)
    return json.loads(line)
