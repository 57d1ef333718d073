"""Who may hold the history file, and when: the one connection layer under every History.

DuckDB lets one process hold a database file read-write and then refuses every other process,
read-only ones included, at once and without waiting. So fixmap never holds the file for long:

- a write opens the file, runs one short transaction and closes it; while another process holds
  the file it retries briefly (bounded, with jitter) and announces itself in a small
  "write wanted" file next to the database, so readers elsewhere step aside;
- every open of the file, and a write until its connection is closed, holds fixmap's own lock
  next to it (openlock: DuckDB reads the file's headers before it takes its lock);
- reads share one read-only connection per process (a cursor per call, so thread workers can
  run side by side and be interrupted one by one); it is closed as soon as it has been idle
  for a moment, or at once when a writer in this process or another one is waiting.

duckdb is imported when a connection is first opened: the console's first frame must not pay
for it.
"""

from __future__ import annotations

import atexit
import contextlib
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from console.core import Problem
from console.history import openlock
from console.history.results import (
    HistoryBusy,
    HistoryError,
    QueryCancelled,
    first_line,
    storage_error,
)

_LOCK_MARKERS = ("could not set lock", "conflicting lock")
_INTENT_FRESH_S = 1.5
_CANCELLED_WAITING = "cancelled while waiting for the history file"


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(m in text for m in _LOCK_MARKERS)


def _lock_holder(exc: BaseException) -> str:
    m = re.search(r"\(PID (\d+)\)", str(exc))
    return f"process {m.group(1)}" if m else "another process"


class _Store:
    """Connections to one database file, shared by every History on it in this process.

    Inside a process: readers share a read-only connection; a writer waits for them and runs
    alone (DuckDB refuses read-only and read-write connections to one file side by side in one
    process). Across processes: the file lock, retried; a waiting writer touches `intent` so
    that readers in other processes close their idle connection instead of keeping it.
    """

    _registry: dict[str, _Store] = {}
    _registry_lock = threading.Lock()

    @classmethod
    def for_path(cls, path: Path) -> _Store:
        key = str(path.resolve())
        with cls._registry_lock:
            store = cls._registry.get(key)
            if store is None:
                if not cls._registry:
                    # a DuckDB connection still open when the interpreter exits can abort it
                    # (duckdb#13904): close idle ones first
                    atexit.register(close_all)
                store = cls._registry[key] = _Store(Path(key))
            return store

    def __init__(self, path: Path) -> None:
        self.path = path
        self.intent = path.with_name(f".{path.name}.write-wanted")
        self.cond = threading.Condition()
        self.open_lock = threading.Lock()
        self.readers = 0
        self.writers_waiting = 0
        self.writing = False
        self.ro: Any = None
        self.idle_timer: threading.Timer | None = None
        self.linger = 1.0
        self.memory_limit: str | None = None
        self.threads: int | None = None
        self.last_release = 0.0
        self.schema_ok = False
        self.lock_waits = 0
        """How often opening the file met another process's lock (and was retried)."""

    # -- foreign writers

    def _foreign_writer_waiting(self) -> bool:
        try:
            age = time.time() - self.intent.stat().st_mtime
        except OSError:
            return False
        return age < _INTENT_FRESH_S

    def _announce_write(self) -> None:
        with contextlib.suppress(OSError):
            self.intent.touch()

    def _withdraw_write(self) -> None:
        with contextlib.suppress(OSError):
            self.intent.unlink()

    # -- opening with retry

    def config(self, read_only: bool) -> dict[str, Any]:
        """DuckDB settings for a connection. Every one: `threads`, and rows with no ORDER BY
        need not keep insertion order (big inserts and scans stream instead of buffering). Reads also keep
        to `memory_limit`; writes do not: a bulk ingest peaked as high under 128MB (DuckDB
        buffers row groups per thread outside it) and ran a third slower."""
        config: dict[str, Any] = {"preserve_insertion_order": False}
        if read_only:
            config["enable_external_access"] = False
            if self.memory_limit:
                config["memory_limit"] = self.memory_limit
        if self.threads:
            config["threads"] = self.threads
        return config

    def open(self, read_only: bool, deadline: float, cancelled: Callable[[], bool]) -> Any:
        import duckdb

        delay = 0.01
        while True:
            if cancelled():
                raise QueryCancelled(_CANCELLED_WAITING)
            try:
                if read_only:
                    # shared, while DuckDB reads the headers and takes its own lock (openlock)
                    with openlock.holding(
                        self.path, exclusive=False, deadline=deadline, cancelled=cancelled
                    ):
                        conn = duckdb.connect(
                            str(self.path), read_only=True, config=self.config(True)
                        )
                else:  # writing_conn holds the open lock
                    conn = duckdb.connect(str(self.path), config=self.config(False))
                conn.execute("SET GLOBAL TimeZone = 'UTC'")  # cursors inherit GLOBAL, not SESSION
                # a query past 2 s would print a progress bar on stdout: into a --json answer
                conn.execute("SET enable_progress_bar = false")
                if read_only:
                    # last: ad-hoc SQL shares this connection, and must not change its settings
                    # (SET memory_limit, threads, lock_configuration, PRAGMA ...) for everyone
                    conn.execute("SET lock_configuration = true")
                return conn
            except duckdb.Error as exc:
                if not _is_lock_error(exc):
                    refused = storage_error(exc, self.path)
                    if refused is not None:
                        raise refused from None
                    raise HistoryError(
                        f"cannot open the history file {self.path}",
                        [
                            Problem(
                                str(self.path),
                                None,
                                first_line(exc),
                                hint="check the path and its permissions",
                            )
                        ],
                    ) from None
                if time.monotonic() + delay > deadline:
                    raise HistoryBusy(
                        f"the history file {self.path} stayed locked by {_lock_holder(exc)}; "
                        "try again in a moment (an ingest may still be running)",
                    ) from None
                if not read_only:
                    self._announce_write()
                self.lock_waits += 1
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.2)

    def _wait_locked(
        self,
        busy: Callable[[], bool],
        deadline: float,
        cancelled: Callable[[], bool],
        busy_with: str,
    ) -> None:
        """With `cond` held: wait while `busy()`, until the deadline (HistoryBusy) or a cancel."""
        while busy():
            if cancelled():
                raise QueryCancelled(_CANCELLED_WAITING)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HistoryBusy(
                    f"the history file {self.path} is busy with {busy_with}; try again"
                )
            self.cond.wait(min(remaining, 0.05))

    # -- readers

    def _close_ro_locked(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None
        if self.ro is not None:
            with contextlib.suppress(Exception):
                self.ro.close()
            self.ro = None

    def _close_if_idle(self) -> None:
        with self.cond:
            if self.readers == 0:
                self._close_ro_locked()

    def _idle_tick(self) -> None:
        """While the read connection lingers: close it once idle long enough or a writer waits."""
        with self.cond:
            if threading.current_thread() is not self.idle_timer:
                return  # a newer timer took over
            self.idle_timer = None
            if self.readers or self.ro is None:
                return
            if (
                time.monotonic() - self.last_release >= self.linger
                or self._foreign_writer_waiting()
            ):
                self._close_ro_locked()
            else:
                self._arm_idle_locked()

    def _arm_idle_locked(self) -> None:
        self.idle_timer = threading.Timer(min(0.1, self.linger), self._idle_tick)
        self.idle_timer.daemon = True
        self.idle_timer.start()

    @contextlib.contextmanager
    def reading(self, deadline: float, cancelled: Callable[[], bool]) -> Iterator[Any]:
        # give way to a writer in another process: close an idle connection, wait a little
        patience = time.monotonic() + max(0.0, (deadline - time.monotonic()) / 2)
        while self._foreign_writer_waiting() and time.monotonic() < patience:
            with self.cond:
                if self.readers == 0:
                    self._close_ro_locked()
            if cancelled():
                raise QueryCancelled(_CANCELLED_WAITING)
            time.sleep(random.uniform(0.02, 0.06))
        with self.cond:
            self._wait_locked(
                lambda: self.writing or self.writers_waiting, deadline, cancelled, "a write"
            )
            self.readers += 1
            if self.idle_timer is not None:
                self.idle_timer.cancel()
                self.idle_timer = None
        try:
            with self.open_lock:
                if self.ro is None:
                    self.ro = self.open(True, deadline, cancelled)
                conn = self.ro
            yield conn
        finally:
            with self.cond:
                self.readers -= 1
                if self.readers == 0:
                    if self.writers_waiting or self._foreign_writer_waiting() or self.linger <= 0:
                        self._close_ro_locked()
                    elif self.ro is not None:
                        self.last_release = time.monotonic()
                        if self.idle_timer is None:
                            self._arm_idle_locked()
                self.cond.notify_all()

    # -- writers

    @contextlib.contextmanager
    def writing_conn(self, deadline: float, cancelled: Callable[[], bool]) -> Iterator[Any]:
        with self.cond:
            self.writers_waiting += 1
            try:
                self._wait_locked(
                    lambda: self.writing or self.readers, deadline, cancelled, "queries"
                )
            finally:
                self.writers_waiting -= 1
            self.writing = True
            self._close_ro_locked()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._announce_write()
            # exclusive from before the open until the close: no other process may read the
            # headers while this one commits and checkpoints (openlock)
            with openlock.holding(
                self.path,
                exclusive=True,
                deadline=deadline,
                cancelled=cancelled,
                waiting=self._announce_write,
            ):
                conn = self.open(False, deadline, cancelled)
                try:
                    yield conn
                finally:
                    with contextlib.suppress(Exception):
                        conn.close()
        finally:
            self._withdraw_write()
            with self.cond:
                self.writing = False
                self.cond.notify_all()


def store_for(path: Path) -> _Store:
    """The one store of this process for the database file at `path`."""
    return _Store.for_path(path)


def close_all() -> None:
    """Close every idle read connection of this process (tests, shutdown)."""
    with _Store._registry_lock:
        stores = list(_Store._registry.values())
    for store in stores:
        store._close_if_idle()
