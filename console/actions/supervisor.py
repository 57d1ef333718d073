"""The supervisor: a small process that owns an argv action's command for its whole life, so a
change outlives the console that started it.

fixmap (run_action) writes the intent, then starts `python -m console.actions.supervisor`
detached (its own session: a dropped SSH session, Ctrl-C or a kill of fixmap never reaches it)
and hands it the filled command on stdin (never in argv, where `ps` shows secrets). The
supervisor inherits the key's single-flight lock and holds it for the run's life; it

1. starts the command in its own process group, its output going to runs/<run>.log (a file,
   not a pipe: nothing the command prints can kill it when nobody reads), and journals the
   `started` record (the command's pid, its own pid, the log);
2. waits for it, killing the group (TERM, then KILL) at the action's timeout or when it is
   sent SIGTERM (a deliberate cancel); SIGHUP, SIGINT and SIGPIPE are ignored;
3. journals the outcome itself, so it is recorded whether or not fixmap is still there; when
   the journal cannot take it, into the space reserved for it (runs.py), which the journal reads;
4. rewrites the log with secrets masked.

fixmap, while it lives, tails the log and, when the supervisor is gone, reads the outcome back.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from console.actions import journal, runs
from console.actions.output import TAIL_LINES, clean
from console.actions.result import RunResult

KILL_GRACE = 2.0
"""Seconds a killed process group gets per signal."""
TAIL_BYTES = 256 * 1024
"""How much of the end of the log the outcome's output tail is read from."""
MODULE = "console.actions.supervisor"


def start(spec: dict[str, Any], lock_fd: int | None) -> subprocess.Popen[bytes]:
    """Start the supervisor for one run (fixmap's side); OSError if it cannot start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIXMAP_SECRET_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", MODULE],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
        pass_fds=(lock_fd,) if lock_fd is not None else (),
        env=env,
    )
    assert proc.stdin is not None
    try:
        proc.stdin.write(json.dumps({**spec, "lock_fd": lock_fd}).encode("utf-8"))
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    return proc


# ---------------------------------------------------------------- the supervisor process


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """TERM the command's process group, then KILL it; reaps the leader."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=KILL_GRACE)
            # the leader is gone; make sure nothing it started lives on in its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def tail(log: Path) -> list[str]:
    """The last lines of the log, cleaned and redacted (output.clean)."""
    try:
        with open(log, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            fh.seek(max(0, size - TAIL_BYTES))
            raw = fh.read(TAIL_BYTES)
    except OSError:
        return []
    lines = raw.decode("utf-8", errors="replace").split("\n")
    if size > TAIL_BYTES:
        lines = lines[1:]  # a line cut by the read: half a line (half a secret) is not shown
    if lines and lines[-1] == "":
        lines.pop()
    return [clean(line) for line in lines[-TAIL_LINES:]]


def supervise(spec: dict[str, Any], stop: threading.Event) -> RunResult:
    """Run the command to its end (or its timeout, or a cancel) and say how it went."""
    argv: list[str] = spec["argv"]
    log = Path(spec["log"])
    timeout = float(spec["timeout"])
    lock_fd = spec.get("lock_fd")
    env = {**os.environ, **spec.get("env", {})}
    start_t = time.monotonic()
    out_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out_fd,
            stderr=subprocess.STDOUT,
            cwd=spec.get("cwd"),
            env=env,
            start_new_session=True,
            close_fds=True,
            # the command holds the key's lock too: were the supervisor killed, the key stays
            # 'running' while the command lives, and no retry can start a second copy
            pass_fds=(lock_fd,) if lock_fd is not None else (),
        )
    except OSError as exc:
        from console.core import redact

        return RunResult(
            False,
            reason=redact(f"could not start {argv[0]}: {exc.strerror or exc}"),
            duration_s=time.monotonic() - start_t,
        )
    finally:
        os.close(out_fd)
    with contextlib.suppress(OSError):
        journal.write_started(spec, pid=proc.pid, supervisor=os.getpid(), path=spec["journal"])
    deadline = start_t + timeout
    timed_out = cancelled = False
    while True:
        try:
            proc.wait(timeout=max(0.0, min(0.1, deadline - time.monotonic())))
            break
        except subprocess.TimeoutExpired:
            pass
        if stop.is_set():
            cancelled = True
        elif time.monotonic() >= deadline:
            timed_out = True
        if timed_out or cancelled:
            kill_group(proc)
            break
    duration = time.monotonic() - start_t
    lines = tail(log)
    if not (timed_out or cancelled) and _group_alive(proc.pid):
        lines.append("(a process the command started is still running in its process group)")
    rc = proc.poll()
    if timed_out:
        how = "the process group was killed"
        return RunResult(
            False,
            timed_out=True,
            exit_code=rc,
            duration_s=duration,
            output_tail=lines,
            reason=f"timed out after {timeout:g}s: {how}",
        )
    if cancelled:
        return RunResult(
            False,
            cancelled=True,
            exit_code=rc,
            duration_s=duration,
            output_tail=lines,
            reason="cancelled by the operator: the process group was killed",
        )
    ok = rc == 0
    return RunResult(
        ok,
        exit_code=rc,
        duration_s=duration,
        output_tail=lines,
        reason="" if ok else f"exited with status {rc}",
    )


def record(spec: dict[str, Any], result: RunResult) -> None:
    """Journal the outcome; when the journal cannot take it, keep it in the reservation."""
    fallback = Path(spec["fallback"])
    rec = journal.outcome_record(spec["key"], spec["action"], spec["run"], result)
    try:
        journal.append(rec, Path(spec["journal"]))
    except OSError as exc:
        from console.core import redact_obj

        kept = redact_obj({**rec, "kept_because": f"{type(exc).__name__}: {exc}"})
        runs.write_fallback(fallback, kept)
        return
    runs.discard(fallback)


def redact_log(log: Path) -> None:
    """Rewrite the log with secrets masked; if that cannot be done and it holds one, empty it
    (its tail is in the journal): secrets stay off the disk."""
    from console.core import redact

    tmp = log.with_name(log.name + ".redacted")
    changed = False
    try:
        with open(log, "rb") as src, open(tmp, "wb") as dst:
            for raw in src:
                text = raw.decode("utf-8", errors="replace")
                masked = redact(text)
                changed = changed or masked != text
                dst.write(masked.encode("utf-8"))
        if changed:
            os.chmod(tmp, 0o600)
            os.replace(tmp, log)
        else:
            tmp.unlink()
    except OSError:
        runs.discard(tmp)
        if changed:
            with contextlib.suppress(OSError):
                os.truncate(log, 0)


def main() -> int:
    for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    spec = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    sys.stdin.close()
    from console.core import register_secret

    for value in spec.get("secrets", []):
        register_secret(value)
    try:
        result = supervise(spec, stop)
    except Exception as exc:  # recorded, never silent: the intent gets its outcome
        from console.core import redact

        result = RunResult(
            False, reason=redact(f"the supervisor failed: {type(exc).__name__}: {exc}")
        )
    record(spec, result)
    redact_log(Path(spec["log"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
