"""`fixmap act` and `fixmap journal` as an engineer runs them: real processes, real signals,
a real terminal (pty) for the typed confirmation, a loopback admin API, a canary secret."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import FIXMAP

PY = sys.executable
CANARY = "canary-Qq7-cli-secret-value"


def s(value: str) -> str:
    return json.dumps(value)


def fixmap(
    *args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """One CLI run with stdin closed: nothing may wait for an answer."""
    return subprocess.run(
        [FIXMAP, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [FIXMAP, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def read_until(stream, needle: str, timeout: float = 20) -> str:
    """Read a pipe until `needle` shows up; fail at the deadline rather than hang."""
    fd = stream.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while needle.encode() not in buf:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(
                f"no {needle!r} within {timeout}s; got {buf.decode(errors='replace')!r}"
            )
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(
                    f"stream closed before {needle!r}; got {buf.decode(errors='replace')!r}"
                )
            buf += chunk
    return buf.decode()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fixmap.toml"
    path.write_text(body)
    return path


def append_cmd(marker: Path, text: str = "x", extra: str = "") -> str:
    code = f"import sys; open(sys.argv[1], 'a').write(sys.argv[2] + chr(10)){extra}"
    return f'argv = [{s(PY)}, "-c", {s(code)}, {s(str(marker))}, {s(text)}]'


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "marker"


@pytest.fixture
def cfg(tmp_path, marker) -> Path:
    return write_config(
        tmp_path,
        f"""
[services.api]
base_url = "http://127.0.0.1:9"

[actions.mark]
kind = "custom"
description = "append a line to the marker"
destructive = false
{append_cmd(marker)}
params.note = {{ type = "str", default = "n", regex = "^[a-z ]+$" }}

[actions.rollback]
kind = "rollback"
service = "api"
{append_cmd(marker, "rollback")}
""".replace('"x"]', '"x", "{note}"]'),
    )


# ---------------------------------------------------------------- input and confirmation


def test_unknown_action_and_bad_parameters_are_exit_2_with_the_closest_name(cfg, marker):
    proc = fixmap("act", "rolback", "--config", str(cfg), "--yes")
    assert proc.returncode == 2
    assert "did you mean 'rollback'" in proc.stderr
    proc = fixmap("act", "mark", "--param", "nte=x", "--config", str(cfg), "--yes", "--json")
    assert proc.returncode == 2
    assert "did you mean 'note'" in proc.stderr
    assert json.loads(proc.stdout)["status"] == "invalid"
    proc = fixmap(
        "act", "mark", "--param", "note=Robert'); DROP TABLE", "--config", str(cfg), "--yes"
    )
    assert proc.returncode == 2 and "does not match" in proc.stderr
    proc = fixmap("act", "mark", "--param", "novalue", "--config", str(cfg))
    assert proc.returncode == 2 and "NAME=VALUE" in proc.stderr
    assert not marker.exists()


def test_without_a_terminal_and_without_yes_it_is_refused_at_once(cfg, marker):
    started = time.monotonic()
    proc = fixmap("act", "mark", "--config", str(cfg), "--json")
    assert proc.returncode == 3
    assert "pass --yes" in proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["status"] == "refused" and "no terminal" in payload["reason"]
    assert time.monotonic() - started < 15
    assert not marker.exists()


def test_yes_runs_once_and_a_repeat_reports_the_first_outcome(cfg, marker):
    first = fixmap("act", "mark", "--config", str(cfg), "--yes", "--json")
    assert first.returncode == 0, first.stderr
    done = json.loads(first.stdout)
    assert {"action", "key", "status", "plan", "exit_code", "reason"} <= set(done)
    assert done["status"] == "done" and done["exit_code"] == 0 and done["action"] == "mark"
    again = fixmap("act", "mark", "--config", str(cfg), "--yes", "--json")
    assert again.returncode == 0
    repeat = json.loads(again.stdout)
    assert repeat["status"] == "already_done" and repeat["key"] == done["key"]
    assert repeat["previous"]["run"] == done["run"]
    assert lines(marker) == ["x"]


def test_dry_run_shows_the_plan_and_changes_nothing(cfg, marker, fixmap_home):
    proc = fixmap("act", "rollback", "--config", str(cfg), "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["status"] == "dry_run"
    assert payload["plan"]["argv"][-1] == "rollback"
    assert payload["plan"]["confirm"] == "type_target" and payload["plan"]["target"] == "api"
    human = fixmap("act", "rollback", "--config", str(cfg), "--dry-run")
    assert "plan: rollback" in human.stdout and "dry-run: nothing was changed" in human.stdout
    assert not marker.exists()
    assert not (fixmap_home / "journal.jsonl").exists()


def _on_a_terminal(args: list[str], answer: str) -> tuple[int, str]:
    """Run the CLI with a real terminal as stdin and type `answer`."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([FIXMAP, *args], stdin=slave, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        os.write(master, answer.encode() + b"\n")
        seen = b""
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        out = proc.communicate(timeout=30)[0].decode()
        return proc.returncode, out + seen.decode(errors="replace")
    finally:
        os.close(master)


def test_destructive_actions_need_the_target_typed_on_a_terminal(cfg, marker):
    code, text = _on_a_terminal(["act", "rollback", "--config", str(cfg)], "yes")
    assert code == 3, text
    assert "Type 'api'" in text and "expected 'api'" in text
    assert not marker.exists()
    code, text = _on_a_terminal(["act", "rollback", "--config", str(cfg)], "api")
    assert code == 0, text
    assert lines(marker) == ["rollback"]


def test_yes_no_prompt_on_a_terminal(cfg, marker):
    code, _ = _on_a_terminal(["act", "mark", "--config", str(cfg)], "n")
    assert code == 3 and not marker.exists()
    code, _ = _on_a_terminal(["act", "mark", "--config", str(cfg)], "y")
    assert code == 0 and lines(marker) == ["x"]


# ---------------------------------------------------------------- single flight and crashes


BLOCKING = (
    "import os, sys; open(sys.argv[1], 'a').write('x' + chr(10)); "
    "print('started', os.getpid(), flush=True); "
    "os.path.exists(sys.argv[3]) and open(sys.argv[2]).read()"
)


def _blocking_config(tmp_path: Path, marker: Path) -> tuple[Path, Path, Path]:
    gate = tmp_path / "gate.fifo"
    os.mkfifo(gate)
    hold = tmp_path / "hold"
    hold.write_text("block until the test opens the gate")
    cfg = write_config(
        tmp_path,
        f"""
[actions.block]
kind = "custom"
destructive = false
timeout = "60s"
argv = [{s(PY)}, "-c", {s(BLOCKING)}, {s(str(marker))}, {s(str(gate))}, {s(str(hold))}]
""",
    )
    return cfg, gate, hold


def test_two_processes_with_one_key_execute_once(tmp_path, marker):
    cfg, gate, _ = _blocking_config(tmp_path, marker)
    a = start("act", "block", "--config", str(cfg), "--yes", "--json")
    read_until(a.stderr, "│ started ")
    b = start("act", "block", "--config", str(cfg), "--yes", "--json")
    read_until(b.stderr, "waiting for the run already in progress")
    with open(gate, "w") as fh:
        fh.write("go")
    out_a, _ = a.communicate(timeout=30)
    out_b, _ = b.communicate(timeout=30)
    assert (a.returncode, b.returncode) == (0, 0)
    statuses = sorted(json.loads(o)["status"] for o in (out_a, out_b))
    assert statuses == ["already_done", "done"]
    assert lines(marker) == ["x"]


def _journal_entry(predicate, timeout: float = 20) -> dict:
    """The newest journal entry once it satisfies `predicate` (polled, with a deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        entry = json.loads(fixmap("journal", "--json").stdout)["entries"][0]
        if predicate(entry):
            return entry
        if time.monotonic() > deadline:
            raise AssertionError(f"journal entry never got there: {entry}")
        threading.Event().wait(0.1)


def test_kill_9_of_fixmap_leaves_the_change_to_its_supervisor(tmp_path, marker, fixmap_home):
    cfg, gate, _hold = _blocking_config(tmp_path, marker)
    proc = start("act", "block", "--config", str(cfg), "--yes")
    read_until(proc.stdout, "│ started ")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    entry = _journal_entry(lambda e: e["supervisor"] is not None)
    assert entry["status"] == "running", entry
    assert f"pid {entry['pid']}" in entry["note"] and str(entry["supervisor"]) in entry["note"]
    with open(gate, "w") as fh:
        fh.write("go")  # the command finishes; its supervisor records how
    entry = _journal_entry(lambda e: e["status"] != "running")
    assert entry["status"] == "done" and entry["exit_code"] == 0, entry
    assert "started" in entry["output_tail"][0]
    again = fixmap("act", "block", "--config", str(cfg), "--yes", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "already_done"
    assert lines(marker) == ["x"]


def test_kill_9_of_everything_leaves_an_interrupted_record(tmp_path, marker, fixmap_home):
    cfg, _gate, hold = _blocking_config(tmp_path, marker)
    proc = start("act", "block", "--config", str(cfg), "--yes")
    read_until(proc.stdout, "│ started ")
    entry = _journal_entry(lambda e: e["supervisor"] is not None)
    for pid in (proc.pid, entry["supervisor"], entry["pid"]):  # the machine went down, say
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(10)
    raw = (fixmap_home / "journal.jsonl").read_text().splitlines()
    assert [json.loads(line)["type"] for line in raw] == ["intent", "started"]

    entry = _journal_entry(lambda e: e["status"] != "running")
    assert entry["status"] == "interrupted" and entry["interrupted"] is True
    assert "check the target before retrying" in entry["note"]
    human = fixmap("journal")
    assert (
        "INTERRUPTED" in human.stdout
        and "check the target before retrying" in human.stdout + human.stderr
    )

    again = fixmap("act", "block", "--config", str(cfg), "--yes")
    assert again.returncode == 3
    assert "interrupted" in again.stderr and "--retry" in again.stderr
    assert lines(marker) == ["x"]
    hold.unlink()
    retried = fixmap("act", "block", "--config", str(cfg), "--yes", "--retry", "--json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["status"] == "done"
    assert lines(marker) == ["x", "x"]
    entries = json.loads(fixmap("journal", "--json").stdout)["entries"]
    assert [e["status"] for e in entries] == ["done", "interrupted"]
    assert entries[0]["retry_of"] == entries[1]["run"]


def test_a_command_outliving_a_killed_fixmap_keeps_its_key_locked(tmp_path, marker, fixmap_home):
    """A dropped SSH session kills fixmap, not the command: no retry may start a second copy,
    and the retry, once the command is done, reports that outcome."""
    cfg, gate, _hold = _blocking_config(tmp_path, marker)
    proc = start("act", "block", "--config", str(cfg), "--yes")
    read_until(proc.stdout, "│ started ")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    entry = json.loads(fixmap("journal", "--json").stdout)["entries"][0]
    assert entry["status"] == "running", entry  # the command still holds the key
    retry = start("act", "block", "--config", str(cfg), "--yes", "--retry", "--json")
    read_until(retry.stderr, "waiting for the run already in progress")
    assert lines(marker) == ["x"]  # the retry waits; it did not start a second copy
    with open(gate, "w") as fh:
        fh.write("go")  # the orphaned command finishes: its supervisor records it done
    out, err = retry.communicate(timeout=60)
    assert retry.returncode == 0, err
    assert json.loads(out)["status"] == "already_done"
    assert lines(marker) == ["x"]


def test_timeout_is_exit_1_and_recorded(tmp_path):
    cfg = write_config(
        tmp_path,
        f"""
[actions.hang]
kind = "custom"
destructive = false
timeout = "500ms"
argv = [{s(PY)}, "-c", "import threading; threading.Event().wait()"]
""",
    )
    proc = fixmap("act", "hang", "--config", str(cfg), "--yes", "--json")
    assert proc.returncode == 1
    payload = json.loads(proc.stdout)
    assert payload["status"] == "failed" and payload["timed_out"] is True
    entry = json.loads(fixmap("journal", "--json").stdout)["entries"][0]
    assert entry["timed_out"] is True and entry["status"] == "failed"


# ---------------------------------------------------------------- freeze


def test_freeze_refuses_with_exit_3_and_break_glass_is_recorded(tmp_path, marker):
    cfg = write_config(
        tmp_path,
        f"""
[actions.freeze]
kind = "freeze"
destructive = false
{append_cmd(marker, "freeze")}

[actions.ship]
kind = "custom"
destructive = false
ships_change = true
{append_cmd(marker, "ship")}
""",
    )
    assert fixmap("act", "freeze", "--config", str(cfg), "--yes").returncode == 0
    refused = fixmap("act", "ship", "--config", str(cfg), "--yes", "--json")
    assert refused.returncode == 3
    assert json.loads(refused.stdout)["status"] == "refused"
    assert "change freeze" in refused.stderr
    short = fixmap("act", "ship", "--config", str(cfg), "--yes", "--break-glass", "because")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    reason = "hotfix for the checkout outage, approved by the IC"
    broke = fixmap("act", "ship", "--config", str(cfg), "--yes", "--break-glass", reason, "--json")
    assert broke.returncode == 0, broke.stderr
    assert json.loads(broke.stdout)["break_glass"] == reason
    assert lines(marker) == ["freeze", "ship"]
    entries = json.loads(fixmap("journal", "--json").stdout)["entries"]
    assert entries[0]["break_glass"] == reason
    assert any(e["status"] == "refused" and e["guard"] == "freeze" for e in entries)
    listing = fixmap("act", "--config", str(cfg))
    assert listing.returncode == 0 and "FROZEN" in listing.stdout


def test_empty_journal_is_fine():
    proc = fixmap("journal")
    assert proc.returncode == 0 and "empty" in proc.stderr
    assert json.loads(fixmap("journal", "--json").stdout)["entries"] == []


# ---------------------------------------------------------------- the canary


class EchoAdmin:
    """Echoes what it was sent (the bearer token included), like a chatty real API would."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                auth = self.headers.get("Authorization", "")
                outer.seen.append(auth)
                status = 500 if self.path.startswith("/fail") else 200
                data = json.dumps(
                    {"path": self.path, "authorization": auth, "note": f"token={auth[7:]}"}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_canary_secret_appears_nowhere(tmp_path, fixmap_home):
    api = EchoAdmin()
    try:
        print_secret = "import os, sys; print('env', os.environ['TOK']); print('argv', sys.argv[1]); sys.exit(int(sys.argv[2]))"
        cfg = write_config(
            tmp_path,
            f"""
[services.api]
base_url = {s(api.url)}

[actions.rollback]
kind = "rollback"
destructive = false
http = {{ url = "/rollback", headers = {{ Authorization = "Bearer {{secret:tok}}" }} }}

[actions.broken]
kind = "custom"
destructive = false
http = {{ url = "/fail", headers = {{ Authorization = "Bearer {{secret:tok}}" }} }}

[actions.leaky]
kind = "custom"
destructive = false
argv = [{s(PY)}, "-c", {s(print_secret)}, "{{secret:tok}}", "{{code}}"]
env = {{ TOK = "{{secret:tok}}" }}
params.code = {{ type = "int", default = 0 }}
""",
        )
        env = {
            "FIXMAP_SECRET_TOK": CANARY,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
        runs = [
            ("act", "rollback", "--dry-run", "--json"),
            ("act", "rollback", "--yes", "--json"),
            ("act", "rollback", "--yes"),
            ("act", "broken", "--yes", "--json"),
            ("act", "broken", "--yes"),
            ("act", "leaky", "--yes"),
            ("act", "leaky", "--yes", "--json", "--param", "code=4"),
            ("act", "leaky", "--yes", "--param", f"code={CANARY}"),
            ("act", "--json"),
            ("journal",),
            ("journal", "--json"),
        ]
        texts: list[str] = []
        for args in runs:
            proc = (
                fixmap(*args, "--config", str(cfg), env=env)
                if args[0] == "act"
                else fixmap(*args, env=env)
            )
            texts += [proc.stdout, proc.stderr]
            assert "password" not in proc.stderr.lower()
        assert api.seen and all(
            a == f"Bearer {CANARY}" for a in api.seen
        )  # the secret was really used
        assert any("env ••••••" in t for t in texts) and any("argv ••••••" in t for t in texts)
        assert any("can see it (ps)" in t for t in texts)  # the plan warns about a secret in argv
        for text in texts:
            assert CANARY not in text
        for path in fixmap_home.rglob("*"):
            if path.is_file():
                assert CANARY.encode() not in path.read_bytes(), path
    finally:
        api.close()


def test_a_missing_secret_is_bad_input_even_without_yes(tmp_path):
    cfg = write_config(
        tmp_path,
        """
[services.api]
base_url = "http://127.0.0.1:9"

[actions.freeze]
kind = "freeze"
destructive = false
http = { url = "/admin/freeze", headers = { Authorization = "Bearer {secret:absent_token}" } }
""",
    )
    proc = subprocess.run(
        [FIXMAP, "act", "freeze", "--config", str(cfg)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "FIXMAP_SECRET_ABSENT_TOKEN" in proc.stderr


def test_a_dry_run_with_a_reused_key_says_it_would_be_refused(cfg, marker):
    assert fixmap("act", "mark", "--config", str(cfg), "--yes", "--key", "k-9").returncode == 0
    dry = fixmap("act", "rollback", "--config", str(cfg), "--key", "k-9", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would be refused: key k-9 was used for mark" in dry.stdout
    real = fixmap("act", "rollback", "--config", str(cfg), "--key", "k-9", "--yes")
    assert real.returncode == 3 and "key k-9 was used for mark" in real.stderr
    assert lines(marker) == ["x"]


# ---------------------------------------------------------------- a change outlives its console

TICK = (
    "import sys, time\n"
    "for n in range(1, 4):\n"
    "    print('line', n, flush=True)\n"
    "    open(sys.argv[1], 'a').write('line %d' % n + chr(10))\n"
    "    time.sleep(1) if n < 3 else None\n"
)


@pytest.mark.parametrize(
    "sig", [signal.SIGHUP, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name
)
def test_the_action_finishes_and_is_recorded_whatever_happens_to_fixmap(tmp_path, sig):
    own = tmp_path / "own-lines"
    cfg = write_config(
        tmp_path,
        f"""
[actions.tick]
kind = "custom"
destructive = false
timeout = "30s"
argv = [{s(PY)}, "-c", {s(TICK)}, {s(str(own))}]
""",
    )
    proc = start("act", "tick", "--config", str(cfg), "--yes")
    read_until(proc.stdout, "│ line 1")
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=15)
    if sig != signal.SIGKILL:  # handled like Ctrl-C: no traceback, and a sentence
        assert proc.returncode == 1, err
        assert b"Traceback" not in err
        assert b"left running" in err and b"records the outcome" in err, err
    entry = _journal_entry(lambda e: e["status"] != "running", timeout=30)
    assert entry["status"] == "done" and entry["exit_code"] == 0, entry
    assert entry["output_tail"] == ["line 1", "line 2", "line 3"]
    assert lines(own) == ["line 1", "line 2", "line 3"]  # no half-done change
    log = Path(entry["output"])
    assert log.read_text().splitlines() == ["line 1", "line 2", "line 3"]


def test_a_rollback_that_cleared_nothing_exits_1_naming_what_still_fails(tmp_path):
    from console.demo.service import DemoService
    from console.demo.site import write_site_config

    token = "demo-token-" + "c" * 20
    env = {"FIXMAP_SECRET_DEMO_ADMIN_TOKEN": token}
    with DemoService(faults=["rate-limit"], admin_token=token) as svc:
        base = svc.url if isinstance(svc.url, str) else svc.url()
        cfg = str(write_site_config(tmp_path, base))
        probe = fixmap("probe", "rate_limit", "--config", cfg, env=env)
        assert probe.returncode == 1, probe.stdout + probe.stderr
        dry = fixmap("act", "rollback", "--config", cfg, "--dry-run", env=env)
        assert "for:      rate_limit failing" in dry.stdout, dry.stdout
        ran = fixmap("act", "rollback", "--config", cfg, "--yes", env=env)
        assert ran.returncode == 1, ran.stdout + ran.stderr
        assert "done — still failing: rate_limit" in ran.stdout
        assert "still failing: rate_limit" in fixmap("journal").stdout
