"""Running a filled command or request, bounded, with its output cleaned on the way out.

- argv: no shell; the command leads its own process group, so a timeout or a cancel kills
  everything it started (TERM, then KILL); the child inherits the key's lock descriptor (a key
  stays 'running' while its command lives, even if fixmap dies) and none of fixmap's secret
  variables beyond the env the action declares.
- HTTP: one overall deadline (console/core/http.py): a server that trickles its answer is
  abandoned at the timeout, its socket shut, and the run recorded as timed out.
- Output: ANSI and control characters stripped, every whole line redacted before it is cut to
  LINE_MAX (a secret split by the cut would leak half of itself), the last TAIL_LINES kept.

Each runner returns a RunResult (result.py); nothing here writes the journal.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from console.actions.render import Command, Request
from console.actions.result import RunResult
from console.core import redact
from console.core.http import RequestAbandoned, bounded_http

OutputCallback = Callable[[str], None]

TAIL_LINES = 40
LINE_MAX = 500
BODY_MAX = 64 * 1024
KILL_GRACE = 2.0
"""Seconds a killed process group gets per signal."""
LINE_BUFFER_MAX = 1 << 20
"""Longest output line kept whole for redaction (bytes); longer ones are split there."""
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str) -> str:
    """One output line as it may be shown and kept: no escapes, redacted, bounded."""
    text = _ANSI.sub("", text).replace("\r", "")
    text = _CTRL.sub("", text)
    text = redact(text)  # before cutting: a secret across the cut would leak half of itself
    if len(text) > LINE_MAX:
        text = text[:LINE_MAX] + "…"
    return text


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


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    for sig, grace in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, KILL_GRACE)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            # the leader is gone; make sure nothing it started lives on in its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue


def run_argv(
    command: Command,
    timeout: float,
    emit: OutputCallback,
    cancel: threading.Event | None,
    lock_fd: int | None = None,
) -> RunResult:
    """Run the command in its own process group; kill the group at `timeout` or on `cancel`."""
    argv = command.argv
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("FIXMAP_SECRET_")}
    child_env.update(command.env)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=command.cwd,
            env=child_env,
            start_new_session=True,
            close_fds=True,
            # the child holds the key's lock too: if fixmap dies mid-run, the key stays
            # 'running' while the command lives, and a --retry cannot start a second copy
            pass_fds=(lock_fd,) if lock_fd is not None else (),
        )
    except OSError as exc:
        return RunResult(
            False,
            reason=redact(f"could not start {argv[0]}: {exc.strerror or exc}"),
            duration_s=time.monotonic() - start,
        )

    followed = threading.Event()
    followed.set()

    def pump() -> None:
        stream = proc.stdout
        assert stream is not None
        try:
            pending = b""
            for raw in iter(lambda: stream.readline(65536), b""):
                if not followed.is_set():
                    continue  # the run is over; drain so the writer never blocks
                # whole lines are redacted: a secret split across two reads would slip through
                pending += raw
                if not pending.endswith(b"\n") and len(pending) < LINE_BUFFER_MAX:
                    continue
                line = clean(pending.decode("utf-8", errors="replace").rstrip("\n"))
                pending = b""
                tail.append(line)
                emit(line)
            if pending and followed.is_set():
                line = clean(pending.decode("utf-8", errors="replace"))
                tail.append(line)
                emit(line)
        finally:
            # closed here, by the only reader: closing it from another thread would wait on
            # this thread's read, forever if a process the command left behind holds the pipe
            with contextlib.suppress(Exception):
                stream.close()

    reader = threading.Thread(target=pump, name=f"fixmap-output-{proc.pid}", daemon=True)
    reader.start()
    deadline = start + timeout
    timed_out = cancelled = False
    try:
        while True:
            try:
                proc.wait(timeout=max(0.0, min(0.1, deadline - time.monotonic())))
                break
            except subprocess.TimeoutExpired:
                pass
            if cancel is not None and cancel.is_set():
                cancelled = True
            elif time.monotonic() >= deadline:
                timed_out = True
            if timed_out or cancelled:
                _kill_group(proc)
                break
    except KeyboardInterrupt:
        cancelled = True
        _kill_group(proc)
    reader.join(timeout=KILL_GRACE)
    if reader.is_alive():
        followed.clear()
        tail.append(
            "(output no longer followed: a process the command started still holds it open)"
        )
    duration = time.monotonic() - start
    rc = proc.poll()
    stopped = _stopped(
        timed_out,
        cancelled,
        timeout,
        "the process group was killed",
        exit_code=rc,
        duration_s=duration,
        output_tail=list(tail),
    )
    if stopped is not None:
        return stopped
    ok = rc == 0
    return RunResult(
        ok,
        exit_code=rc,
        duration_s=duration,
        output_tail=list(tail),
        reason="" if ok else f"exited with status {rc}",
    )


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
