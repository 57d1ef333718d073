"""Running a filled command or request, bounded, with its output cleaned on the way out.

- argv: under its supervisor (supervisor.py), detached from fixmap: no shell; the command leads
  its own process group, so a timeout or a cancel kills everything it started (TERM, then
  KILL); it writes its output to a file that fixmap tails; the supervisor and the command hold
  the key's lock (a key stays 'running' while its command lives, even if fixmap dies); none of
  fixmap's secret variables reach it beyond the env the action declares.
- HTTP: one overall deadline (console/core/http.py): a server that trickles its answer is
  abandoned at the timeout, its socket shut, and the run recorded as timed out.
- Output: ANSI and control characters stripped, every whole line redacted before it is cut to
  LINE_MAX (a secret split by the cut would leak half of itself), the last TAIL_LINES kept.

The HTTP runner returns a RunResult (result.py) and writes nothing; the argv runner's
supervisor journals its own outcome, which run_argv reads back.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.actions.output import TAIL_LINES, clean
from console.actions.render import Command, Request
from console.actions.result import RunResult
from console.core import redact
from console.core.http import RequestAbandoned, bounded_http

OutputCallback = Callable[[str], None]

BODY_MAX = 64 * 1024
LINE_BUFFER_MAX = 1 << 20
"""Longest output line kept whole for redaction (bytes); longer ones are split there."""


def emitter(on_output: OutputCallback | None) -> OutputCallback:
    """`on_output`, made safe to call from a run."""

    def emit(line: str) -> None:
        if on_output is None:
            return
        # a broken callback (a closed pane) must not break the run or lose its outcome
        with contextlib.suppress(Exception):
            on_output(line)

    return emit


def _stopped(
    timed_out: bool, cancelled: bool, timeout: float, how: str, **fields: Any
) -> RunResult | None:
    """The result of a run that did not finish by itself (timeout or the operator), if so."""
    if timed_out:
        return RunResult(
            False, timed_out=True, reason=f"timed out after {timeout:g}s: {how}", **fields
        )
    if cancelled:
        return RunResult(
            False, cancelled=True, reason=f"cancelled by the operator: {how}", **fields
        )
    return None


@dataclass
class Supervised:
    """How following a supervised argv run ended, as fixmap saw it."""

    result: RunResult | None
    """The outcome the supervisor recorded; None when fixmap stopped following (`detached`)
    or nothing was recorded."""
    supervisor: int | None = None
    log: Path | None = None
    detached: bool = False
    """fixmap stopped following (Ctrl-C, SIGHUP, SIGTERM): the command goes on under its
    supervisor, which records the outcome."""
    kept_because: str | None = None
    """Set when the outcome is in the run's reservation, not the journal (why)."""


def run_argv(
    command: Command,
    timeout: float,
    emit: OutputCallback,
    cancel: threading.Event | None,
    lock_fd: int | None,
    *,
    run: str,
    key: str,
    action: str,
    secrets: list[str],
) -> Supervised:
    """Start the command under its supervisor (supervisor.py), tail its output file, and read
    back the outcome the supervisor journaled. `cancel` asks the supervisor to kill the
    command's process group; an interrupt (KeyboardInterrupt: Ctrl-C, or SIGHUP/SIGTERM as
    fixmap turns them) stops only the following."""
    from console.actions import journal, runs, supervisor

    log = runs.log_path(run)
    spec = {
        "run": run,
        "key": key,
        "action": action,
        "argv": command.argv,
        "env": command.env,
        "cwd": command.cwd,
        "timeout": timeout,
        "log": str(log),
        "fallback": str(runs.fallback_path(run)),
        "journal": str(journal.journal_path()),
        "secrets": secrets,
    }
    try:
        proc = supervisor.start(spec, lock_fd)
    except OSError as exc:
        return Supervised(
            RunResult(
                False, reason=redact(f"could not start the supervisor: {exc.strerror or exc}")
            )
        )
    follow = _Tail(log, emit)
    asked_to_stop = False
    try:
        while proc.poll() is None:
            follow.read()
            if cancel is not None and cancel.is_set() and not asked_to_stop:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                asked_to_stop = True
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.1)
        follow.read(final=True)
    except KeyboardInterrupt:
        return Supervised(None, proc.pid, log, detached=True)
    recorded = _recorded(run)
    if recorded is None:
        return Supervised(None, proc.pid, log)
    return Supervised(
        RunResult.from_record(recorded), proc.pid, log, kept_because=recorded.get("kept_because")
    )


def _recorded(run: str) -> dict[str, Any] | None:
    """The outcome the supervisor wrote for `run` (journal, else its reservation)."""
    from console.actions import journal

    recs, _ = journal.records()
    return next((r for r in recs if r.get("type") == "outcome" and r.get("run") == run), None)


def started(run: str) -> bool:
    """Whether the supervisor journaled that it started the command of `run`."""
    from console.actions import journal

    recs, _ = journal.records()
    return any(r.get("type") == "started" and r.get("run") == run for r in recs)


class _Tail:
    """Follows a run's output file: each whole line, cleaned, to `emit`."""

    def __init__(self, path: Path, emit: OutputCallback) -> None:
        self.path = path
        self.emit = emit
        self.pos = 0
        self.pending = b""

    def read(self, *, final: bool = False) -> None:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.pos)
                chunk = fh.read(LINE_BUFFER_MAX)
                self.pos = fh.tell()
        except OSError:
            return
        self.pending += chunk
        *whole, self.pending = self.pending.split(b"\n")
        if len(self.pending) >= LINE_BUFFER_MAX:  # a line that never ends is shown in pieces
            whole.append(self.pending)
            self.pending = b""
        for raw in whole:
            self.emit(clean(raw.decode("utf-8", errors="replace")))
        if final and self.pending:
            self.emit(clean(self.pending.decode("utf-8", errors="replace")))
            self.pending = b""
        if final and chunk and len(chunk) == LINE_BUFFER_MAX:
            self.read(final=True)


def run_http(
    req: Request,
    expect: list[int] | None,
    timeout: float,
    emit: OutputCallback,
    cancel: threading.Event | None,
) -> RunResult:
    """One HTTP request under ONE overall deadline (core.http.bounded_http): a server that
    trickles its answer is abandoned at `timeout`, its socket shut, and recorded as timed out."""
    import httpx

    start = time.monotonic()
    deadline = start + timeout
    lock = threading.Lock()
    got: dict[str, Any] = {"status": None, "phrase": ""}
    received = bytearray()
    timed_out = cancelled = False
    reason = ""

    def work(client: httpx.Client) -> str:
        kwargs: dict[str, Any] = {"headers": req.headers}
        if req.body is not None:
            kwargs["json"] = req.body
        with client.stream(req.method, req.url, **kwargs) as resp:
            with lock:
                got["status"], got["phrase"] = resp.status_code, resp.reason_phrase
            for chunk in resp.iter_bytes():
                with lock:
                    if len(received) < BODY_MAX:
                        received.extend(chunk[: BODY_MAX - len(received)])
                if time.monotonic() > deadline:
                    return "timed_out"
                if cancel is not None and cancel.is_set():
                    return "cancelled"
        return ""

    try:
        end = bounded_http(work, timeout=timeout, verify=req.verify_tls, cancel=cancel)
        timed_out, cancelled = end == "timed_out", end == "cancelled"
    except RequestAbandoned as exc:
        timed_out, cancelled = not exc.cancelled, exc.cancelled
    except httpx.TimeoutException:
        timed_out = True
    except httpx.HTTPError as exc:
        reason = redact(f"{type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        cancelled = True
    with lock:  # an abandoned worker may still be writing
        status, phrase = got["status"], got["phrase"]
        body = bytes(received)
    if status is not None:
        emit(clean(f"HTTP {status} {phrase}"))
    duration = time.monotonic() - start
    text = body.decode("utf-8", errors="replace")
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    for line in text.splitlines():
        line = clean(line)
        tail.append(line)
        emit(line)
    stopped = _stopped(
        timed_out,
        cancelled,
        timeout,
        "the request was abandoned",
        http_status=status,
        duration_s=duration,
        output_tail=list(tail),
    )
    if stopped is not None:
        return stopped
    if status is None:
        return RunResult(
            False, duration_s=duration, output_tail=list(tail), reason=reason or "no answer"
        )
    ok = status in expect if expect else 200 <= status < 300
    return RunResult(
        ok,
        http_status=status,
        duration_s=duration,
        output_tail=list(tail),
        reason="" if ok else f"HTTP {status}",
    )
