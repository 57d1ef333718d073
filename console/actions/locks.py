"""Single flight: one run per idempotency key at a time, on this machine, across processes.

A run holds an exclusive flock on data_dir()/locks/<sha256(key)>.lock from before it reads the
journal for its key until its outcome is written. flock conflicts between open file descriptions,
so it serialises threads of one process as well as processes; the kernel drops it when a process
dies, which is how the journal tells an interrupted run (intent, no outcome, lock free) from one
still running (lock held). The command itself inherits the lock's descriptor, so a key stays
locked while its command lives even if fixmap was killed first.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from console.core import data_dir

_TAKEN = (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)


def lock_path(key: str, *, create: bool = True) -> Path:
    """The key's lock file (`create`: make sure its folder exists; readers don't, so reading
    the journal works on a read-only data dir)."""
    folder = data_dir() / "locks"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder / (hashlib.sha256(key.encode("utf-8")).hexdigest()[:40] + ".lock")


def is_running(key: str) -> bool:
    """Whether some thread or process holds this key's run lock right now (creates nothing)."""
    path = lock_path(key, create=False)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in _TAKEN:
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
                if exc.errno not in _TAKEN:
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
