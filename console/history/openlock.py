"""The lock fixmap takes around opening the history file, because DuckDB's own lock comes late.

DuckDB 2.0 reads a database file's headers *before* it takes the file lock (strace: two
open/pread/close of the header, then open + fcntl(F_SETLK)). A process that opens the file
while another is committing and closing can therefore lock it a moment later and go on from the
headers it read before the other's checkpoint: its own checkpoint then writes over that commit,
which is lost although it was reported stored (the 49-of-50 of issue 13; sometimes DuckDB dies
instead with "Could not read enough bytes from file"). Four raw DuckDB processes alternating
open-insert-commit-close lose about one commit in 400; none with this lock.

So every fixmap process takes a flock on a small file next to the database: exclusive from
before a read-write open until that connection is closed, shared around a read-only open (the
DuckDB lock guards the rest of its life). flock, not fcntl: it belongs to the open file, so
closing some other descriptor of the file never drops it. Where the lock file cannot be made (a
read-only folder, where nobody writes), opening goes on without it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from console.history.results import HistoryBusy, QueryCancelled


def lock_path(db: Path) -> Path:
    return db.with_name(f".{db.name}.lock")


def _open(path: Path) -> int | None:
    for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
        try:
            return os.open(path, flags | os.O_CLOEXEC, 0o644)
        except OSError:
            continue
    return None


@contextlib.contextmanager
def holding(
    db: Path,
    *,
    exclusive: bool,
    deadline: float,
    cancelled: Callable[[], bool],
    waiting: Callable[[], None] = lambda: None,
) -> Iterator[None]:
    """Hold the open lock of `db` (exclusive or shared) until the block ends; HistoryBusy at the
    deadline, QueryCancelled when `cancelled()`. `waiting` is called while another holds it."""
    fd = _open(lock_path(db))
    if fd is None:
        yield
        return
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pass
            except OSError:
                break  # a file system without flock: DuckDB's own lock is all there is
            if cancelled():
                raise QueryCancelled("cancelled while waiting for the history file")
            if time.monotonic() + delay > deadline:
                raise HistoryBusy(
                    f"the history file {db} stayed busy with another fixmap process; try again "
                    "in a moment (an ingest may still be running)"
                )
            waiting()
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.1)
        yield
    finally:
        os.close(fd)  # drops the flock
