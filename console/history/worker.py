"""The history in a short-lived worker process: the console's memory stays the console's.

A DuckDB aggregate over a week of samples takes a hundred MiB and more, and a process keeps
what its allocator once held; the console runs for hours on a bastion. So when the console
asks (`run_in_worker_process`), `history_for` hands out a `WorkerHistory`: the same methods as a
History, each call pickled to one child process (`python -m console.history.worker`) that runs
it on a real History and sends back the result or the error. The child is started on the
first call and ended once nothing has been asked of it for IDLE_S, taking its memory with it.

Calls from several threads run side by side in the child (a thread each); `interrupt()`
cancels what this WorkerHistory is running there. The child dies with its parent: it reads
its requests from a pipe and leaves at end of file. Results and errors are plain dataclasses
and FixmapErrors, so they pickle; anything else the child raises comes back as a HistoryError.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from typing import Any, BinaryIO

from console.history.results import HistoryError

IDLE_S = 15.0
"""A worker nobody asked anything for this long is ended (its memory goes back)."""
_HEADER = struct.Struct("!Q")
_SETTINGS = ("lock_timeout", "query_timeout", "max_rows", "linger", "memory_limit", "threads")
"""A History's settings (its constructor's keywords): a WorkerHistory holds them and sends them
with every call; every other attribute is a method run in the worker."""


def _send(stream: BinaryIO, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: BinaryIO) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    size = _HEADER.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


class _Worker:
    """The one child process of this process, and the calls waiting on it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.waiting: dict[int, list[Any]] = {}
        self.ids = itertools.count(1)
        self.last_used = time.monotonic()
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self.timer: threading.Timer | None = None

    def _start_locked(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "console.history.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
            start_new_session=True,  # Ctrl+C in the console's terminal is the console's
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()
        threading.Thread(target=self._drain, args=(proc,), daemon=True).start()
        self.proc = proc
        return proc

    def _drain(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.stderr_tail.append(line.decode(errors="replace").rstrip())

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        while True:
            try:
                call_id, ok, value = _receive(proc.stdout)
            except Exception:
                break
            with self.lock:
                slot = self.waiting.pop(call_id, None)
            if slot is not None:
                slot[1], slot[2] = ok, value
                slot[0].set()
        proc.wait()
        code = proc.returncode
        tail = "; ".join(list(self.stderr_tail)[-3:])
        error = HistoryError(
            f"the history worker process stopped (exit code {code})" + (f": {tail}" if tail else "")
        )
        with self.lock:
            if self.proc is proc:
                self.proc = None
            orphans = [s for s in self.waiting.values() if s[3] is proc]
            for call_id in [i for i, s in self.waiting.items() if s[3] is proc]:
                del self.waiting[call_id]
        for slot in orphans:
            slot[1], slot[2] = False, error
            slot[0].set()

    def call(self, owner: int, spec: dict[str, Any], method: str, args: Any, kwargs: Any) -> Any:
        done = threading.Event()
        with self.lock:
            proc = self.proc if self.proc is not None else self._start_locked()
            call_id = next(self.ids)
            slot: list[Any] = [done, False, None, proc]
            self.waiting[call_id] = slot
            try:
                assert proc.stdin is not None
                _send(proc.stdin, ("call", call_id, owner, spec, method, args, kwargs))
            except (OSError, ValueError):
                del self.waiting[call_id]
                raise HistoryError("the history worker process is gone; try again") from None
        done.wait()
        with self.lock:
            self.last_used = time.monotonic()
            self._arm_idle_locked()
        _, ok, value = slot[:3]
        if ok:
            return value
        raise value

    def interrupt(self, owner: int) -> None:
        with self.lock:
            proc = self.proc
            if proc is None or proc.stdin is None:
                return
            with contextlib.suppress(OSError, ValueError):
                _send(proc.stdin, ("interrupt", 0, owner, None, None, None, None))

    def _arm_idle_locked(self) -> None:
        if self.timer is None:
            self.timer = threading.Timer(IDLE_S, self._idle_tick)
            self.timer.daemon = True
            self.timer.start()

    def _idle_tick(self) -> None:
        with self.lock:
            self.timer = None
            proc = self.proc
            if proc is None:
                return
            if self.waiting or time.monotonic() - self.last_used < IDLE_S:
                self._arm_idle_locked()
                return
            self.proc = None
        self._stop(proc)

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin is not None:
                proc.stdin.close()  # end of file: the child closes the history and leaves
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()

    def stop(self) -> None:
        """End the child now (the console's exit; tests)."""
        with self.lock:
            proc, self.proc = self.proc, None
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
        if proc is not None:
            self._stop(proc)

    @property
    def pid(self) -> int | None:
        proc = self.proc
        return proc.pid if proc is not None else None


_worker = _Worker()
_owners = itertools.count(1)


class WorkerHistory:
    """A History whose every call runs in the worker process; same methods, same results."""

    def __init__(self, db_path: Any, **kwargs: Any) -> None:
        from pathlib import Path

        from console.history.history import History

        unknown = set(kwargs) - set(_SETTINGS)
        if unknown:
            raise TypeError(f"WorkerHistory: unknown settings {sorted(unknown)}")
        object.__setattr__(self, "path", Path(db_path).expanduser())
        object.__setattr__(self, "_owner", next(_owners))
        object.__setattr__(self, "_settings", {**History.__init__.__kwdefaults__, **kwargs})

    def __repr__(self) -> str:
        return f"WorkerHistory({str(self.path)!r})"

    @property
    def _spec(self) -> dict[str, Any]:
        return {"db_path": str(self.path), **self._settings}

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _SETTINGS:
            raise AttributeError(f"WorkerHistory has no setting '{name}'")
        self._settings[name] = value  # e.g. max_rows: the next call's History gets it

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _SETTINGS:
            return self._settings[name]

        def call(*args: Any, **kwargs: Any) -> Any:
            return _worker.call(self._owner, self._spec, name, args, kwargs)

        call.__name__ = name
        return call

    def interrupt(self) -> None:
        """Cancel what this History is running or waiting for in the worker (any thread)."""
        _worker.interrupt(self._owner)


def stop_worker() -> None:
    """End the worker process now, if one runs."""
    _worker.stop()


def worker_pid() -> int | None:
    """The worker process's id while one runs (benches, tests)."""
    return _worker.pid


# ------------------------------------------------------------------ the child


def _serve(inp: BinaryIO, out: BinaryIO) -> None:
    from console.core import FixmapError
    from console.history.history import History
    from console.history.store import close_all

    write_lock = threading.Lock()
    histories: dict[int, tuple[dict[str, Any], History]] = {}
    histories_lock = threading.Lock()

    def history(owner: int, spec: dict[str, Any]) -> History:
        with histories_lock:
            known = histories.get(owner)
            if known is None or known[0] != spec:
                args = dict(spec)
                h = History(args.pop("db_path"), **args)
                histories[owner] = (spec, h)
                return h
            return known[1]

    def run(call_id: int, owner: int, spec: dict[str, Any], method: str, args, kwargs) -> None:
        try:
            h = history(owner, spec)
            fn = getattr(h, method, None)
            if method.startswith("_") or not callable(fn):
                raise HistoryError(f"History has no method '{method}'")
            reply = (call_id, True, fn(*args, **kwargs))
        except FixmapError as exc:
            reply = (call_id, False, exc)
        except Exception as exc:  # the console gets a sentence, never a dead worker
            reply = (call_id, False, HistoryError(f"history {method} failed: {exc}"))
        try:
            with write_lock:
                _send(out, reply)
        except Exception as exc:  # an answer that does not pickle
            with write_lock:
                _send(out, (call_id, False, HistoryError(f"history {method}: {exc}")))

    threads: list[threading.Thread] = []
    while True:
        try:
            kind, call_id, owner, spec, method, args, kwargs = _receive(inp)
        except EOFError:
            break
        if kind == "interrupt":
            with histories_lock:
                known = histories.get(owner)
            if known is not None:
                known[1].interrupt()
            continue
        t = threading.Thread(
            target=run, args=(call_id, owner, spec, method, args, kwargs), daemon=True
        )
        t.start()
        threads = [x for x in threads if x.is_alive()] + [t]
    for t in threads:
        t.join(timeout=5)
    close_all()


def main() -> None:
    """The child: frames on the stdout it was given; anything printed goes to stderr."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
