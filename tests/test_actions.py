"""The actions engine over real things: subprocesses, a loopback HTTP server, the demo service,
the journal file. Nothing of ours is mocked; waits are on events and files with deadlines."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from console.actions import (
    ActionError,
    action_summaries,
    journal,
    plan_action,
    run_action,
    site_state,
)
from console.core import ConfigError, secrets
from console.core.identity import now_iso
from console.core.redact import forget_all_for_tests
from console.site import load_config

PY = sys.executable
CANARY = "canary-Zx9-secret-value"


def s(value: str) -> str:
    """A TOML string."""
    return json.dumps(value)


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    """Poll a cheap predicate until true; fails the test at the deadline instead of hanging."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        threading.Event().wait(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    forget_all_for_tests()
    secrets.reset_for_tests()
    yield
    forget_all_for_tests()
    secrets.reset_for_tests()
    if "console.history.store" in sys.modules:  # the journal mirror opened it
        sys.modules["console.history.store"].close_all()


class Admin:
    """A loopback admin API: records every request; GET /state answers the current state."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.state = {"frozen": False, "mode": "read-write"}
        self.lock = threading.Lock()
        admin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                req = {
                    "method": method,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body,
                }
                with admin.lock:
                    admin.requests.append(req)
                if self.path == "/state":
                    status, payload = 200, dict(admin.state)
                elif self.path.startswith("/admin/freeze"):
                    admin.state["frozen"] = True
                    status, payload = 200, dict(admin.state)
                elif self.path.startswith("/admin/fail"):
                    status, payload = (
                        500,
                        {"error": "boom", "you_sent": self.headers.get("Authorization")},
                    )
                else:
                    status, payload = 200, {"ok": True, "echo": req}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._answer("GET")

            def do_POST(self):
                self._answer("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def posts(self) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["method"] == "POST"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def admin():
    a = Admin()
    yield a
    a.close()


def config(tmp_path: Path, body: str, admin: Admin | None = None):
    head = f"[services.api]\nbase_url = {s(admin.url)}\n\n" if admin else ""
    path = tmp_path / "fixmap.toml"
    path.write_text(head + body)
    return load_config(path)


def append_cmd(marker: Path, text: str = "x", extra: str = "") -> str:
    """argv (TOML) of a command that appends one line to `marker`."""
    code = f"import sys; open(sys.argv[1], 'a').write(sys.argv[2] + chr(10)){extra}"
    return f'argv = [{s(PY)}, "-c", {s(code)}, {s(str(marker))}, {s(text)}]'


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def freeze_site(tmp_path: Path, marker: Path, ship_extra: str = ""):
    """freeze and unfreeze, and 'ship', a flag that ships change (ship_extra: its last words)."""
    return config(
        tmp_path,
        f"""
[actions.freeze]
kind = "freeze"
destructive = false
{append_cmd(marker, "freeze")}

[actions.unfreeze]
kind = "unfreeze"
destructive = false
{append_cmd(marker, "unfreeze")}

[actions.ship]
kind = "flag"
destructive = false
{append_cmd(marker, "ship", extra=ship_extra)}
""",
    )


# ---------------------------------------------------------------- config validation


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('kind = "custom"\nargv = "rm -rf /tmp/x"', "argv"),
        (
            'kind = "custom"\nargv = ["true"]\nhttp = { url = "http://127.0.0.1/x" }',
            "exactly one of 'argv'",
        ),
        (
            'kind = "custom"\nargv = ["echo", "{nme}"]\nparams.name = { default = "a" }',
            "did you mean 'name'",
        ),
        ('kind = "custom"\nargv = ["{prog}"]\nparams.prog = { default = "ls" }', "must be literal"),
        (
            'kind = "custom"\nargv = ["sh", "-c", "echo {x}"]\nparams.x = { default = "a" }',
            "run as code",
        ),
        (
            'kind = "custom"\nargv = ["bash", "-euc", "echo {x}"]\nparams.x = { default = "a" }',
            "run as code",
        ),
        (
            'kind = "custom"\nargv = ["python3", "-c", "print(\'{x}\')"]\nparams.x = { default = "a" }',
            "run as code",
        ),
        (
            'kind = "custom"\nargv = ["env", "A=1", "sh", "-c", "echo {x}"]\nparams.x = { default = "a" }',
            "run as code",
        ),
        (
            'kind = "custom"\nargv = ["ssh", "host", "restart {svc}"]\nparams.svc = { default = "a", free_text = true }',
            "remote shell",
        ),
        (
            'kind = "custom"\nhttp = { url = "http://{h}/x" }\nparams.h = { default = "a" }',
            "scheme, host and port",
        ),
        ('kind = "rollback"\nships_change = true\nargv = ["true"]', "never blocked by a freeze"),
        ('kind = "custom"\nargv = ["true"]\nstate = { url = "/s", path = "x" }', "'state' belongs"),
        (
            'kind = "custom"\nargv = ["echo", "{x}"]\nparams.x = { regex = "([" }',
            "does not compile",
        ),
        ('kind = "custom"\nargv = ["echo", "{x"]', "unmatched"),
        (
            'kind = "custom"\nargv = ["echo", "{x}"]\nparams.x = { regex = "^[a-z]+$", default = "A1" }',
            "default",
        ),
        ('kind = "custom"\nargv = ["echo"]\nparams.unused = { default = "a" }', "not used"),
        ('kind = "custom"\nargv = ["echo", "{secret:a b}"]', "secret name"),
        ('kind = "rollbak"\nargv = ["true"]', "did you mean 'rollback'"),
    ],
)
def test_config_rejects_unsafe_or_broken_actions(tmp_path, table, message):
    with pytest.raises(ConfigError) as err:
        config(tmp_path, "[actions.a]\n" + table + "\n").config  # noqa: B018 - validation happens here
    assert message in err.value.render()
    assert "actions.a" in err.value.render()


def test_ssh_accepts_a_parameter_that_cannot_hold_shell_syntax(tmp_path):
    site = config(
        tmp_path,
        '[actions.a]\nkind = "custom"\nargv = ["ssh", "host", "restart {svc}"]\n'
        'params.svc = { regex = "^[a-z][a-z0-9-]*$", default = "api" }\n',
    )
    assert "a" in site.config.actions


# ---------------------------------------------------------------- parameters


def test_parameter_errors_are_bad_input_with_closest_names(tmp_path):
    site = config(
        tmp_path,
        f"""
[actions.deploy]
kind = "custom"
destructive = false
argv = [{s(PY)}, "-c", "pass", "{{release}}", "--replicas={{replicas}}", "--dry={{dry}}", "{{zone}}"]
params.release = {{ regex = "^v[0-9]+$" }}
params.replicas = {{ type = "int", min = 1, max = 10, default = 2 }}
params.dry = {{ type = "bool", default = false }}
params.zone = {{ enum = ["eu", "us"], default = "eu" }}
""",
    )

    def problem(params: dict, name: str = "deploy") -> str:
        with pytest.raises(ActionError) as err:
            plan_action(site, name, params, check_site=False)
        assert err.value.exit_code == 2
        return err.value.render()

    assert "did you mean 'deploy'" in problem({}, "deplo")
    assert "required" in problem({})
    assert "did you mean 'release'" in problem({"releas": "v1"})
    assert "does not match" in problem({"release": "v1; rm -rf /"})
    assert "above the maximum" in problem({"release": "v1", "replicas": "11"})
    assert "not a whole number" in problem({"release": "v1", "replicas": "2 3"})
    assert "not true/false" in problem({"release": "v1", "dry": "maybe"})
    assert "not one of" in problem({"release": "v1", "zone": "ap"})
    assert "line break" in problem({"release": "v1\n"})
    assert "NUL" in problem({"release": "v1\0"})
    plan = plan_action(
        site, "deploy", {"release": "v7", "replicas": "3", "dry": "yes"}, check_site=False
    )
    assert plan.params == {"release": "v7", "replicas": 3, "dry": True, "zone": "eu"}
    assert plan.argv[3:] == ["v7", "--replicas=3", "--dry=true", "eu"]


def test_injection_attempts_stay_one_literal_argv_word(tmp_path):
    site = config(
        tmp_path,
        f"""
[actions.echo]
kind = "custom"
destructive = false
argv = [{s(PY)}, "-c", "import json, sys; print(json.dumps(sys.argv[1:]))", "--name={{v}}", "{{v}}"]
params.v = {{ type = "str", free_text = true }}
""",
    )
    attempts = [
        "; rm -rf ./victim",
        "$(touch pwned)",
        "`touch pwned`",
        "a b c",
        "x' || touch pwned '",
        "*",
        "~",
        "&& touch pwned",
        "| touch pwned",
        '"quoted" words',
        "$HOME",
        "{v}",
    ]
    (tmp_path / "victim").mkdir()
    os.chdir(tmp_path)
    for value in attempts:
        plan = plan_action(site, "echo", {"v": value}, check_site=False)
        out: list[str] = []
        outcome = run_action(site, plan, confirmed=True, on_output=out.append)
        assert outcome.status == "done", outcome.reason
        printed = [json.loads(line) for line in out if line.startswith("[")]
        assert printed == [[f"--name={value}", value]], value
    assert not (tmp_path / "pwned").exists()
    assert (tmp_path / "victim").is_dir()


def test_a_value_cannot_become_an_option(tmp_path):
    site = config(
        tmp_path,
        '[actions.a]\nkind = "custom"\nargv = ["echo", "{v}"]\nparams.v = { type = "str" }\n',
    )
    with pytest.raises(ActionError) as err:
        plan_action(site, "a", {"v": "--force"}, check_site=False)
    assert "read as an option" in err.value.render()


def test_url_parameters_are_encoded_into_one_path_segment(tmp_path, admin):
    site = config(
        tmp_path,
        """
[actions.flag]
kind = "flag"
destructive = false
http = { method = "POST", url = "/flags/{name}?from=fixmap", json = { on = "{on}", name = "{name}" } }
params.name = { type = "str", free_text = true }
params.on = { type = "bool", default = true }
""",
        admin,
    )
    plan = plan_action(site, "flag", {"name": "a/../b?x=1#f"}, check_site=False)
    assert plan.http["url"] == admin.url + "/flags/a%2F..%2Fb%3Fx%3D1%23f?from=fixmap"
    assert plan.http["json"] == {"on": True, "name": "a/../b?x=1#f"}
    with pytest.raises(ActionError) as err:
        plan_action(site, "flag", {"name": ".."}, check_site=False)
    assert "move up the path" in err.value.render()
    assert (
        plan_action(site, "flag", {"name": "..x"}, check_site=False)
        .http["url"]
        .endswith("/flags/..x?from=fixmap")
    )
    outcome = run_action(site, plan, confirmed=True)
    assert outcome.status == "done"
    assert admin.posts()[0]["path"] == "/flags/a%2F..%2Fb%3Fx%3D1%23f?from=fixmap"
    assert json.loads(admin.posts()[0]["body"]) == {"on": True, "name": "a/../b?x=1#f"}


# ---------------------------------------------------------------- plan and dry-run


def test_dry_run_changes_nothing(tmp_path, admin, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_TOK", CANARY)
    marker = tmp_path / "marker"
    site = config(
        tmp_path,
        f"""
[actions.mark]
kind = "custom"
destructive = false
{append_cmd(marker)}

[actions.rollback]
kind = "rollback"
service = "api"
http = {{ url = "/admin/rollback", headers = {{ Authorization = "Bearer {{secret:tok}}" }} }}

[actions.freeze]
kind = "freeze"
destructive = false
http = {{ url = "/admin/freeze" }}
state = {{ url = "/state", path = "frozen" }}
""",
        admin,
    )
    for name in ("mark", "rollback", "freeze"):
        plan = plan_action(site, name, {})
        assert plan.to_json()["action"] == name
        assert plan.text()
    assert not marker.exists()
    assert admin.posts() == []
    assert not journal.journal_path().exists()


def test_plan_shows_the_exact_request_with_secrets_masked(tmp_path, admin, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_TOK", CANARY)
    site = config(
        tmp_path,
        """
[actions.rollback]
kind = "rollback"
verify = "health"
http = { url = "/admin/rollback", headers = { Authorization = "Bearer {secret:tok}" }, json = { to = "{to}" } }
params.to = { regex = "^v[0-9]+$", default = "v1" }

[probes.health]
kind = "http"
url = "/healthz"
""",
        admin,
    )
    plan = plan_action(site, "rollback", {"to": "v3"})
    data = plan.to_json()
    assert data["http"] == {
        "method": "POST",
        "url": admin.url + "/admin/rollback",
        "headers": {"Authorization": "Bearer {secret:tok}", "Idempotency-Key": plan.key},
        "json": {"to": "v3"},
    }
    assert data["secrets"] == ["tok"] and data["missing_secrets"] == []
    assert data["confirm"] == "type_target" and data["target"] == "api"
    assert {g["name"] for g in data["guards"]} >= {"freeze", "fast_lane", "confirm"}
    assert CANARY not in json.dumps(data) and CANARY not in plan.text()
    assert plan.confirmation_matches(" api ") and not plan.confirmation_matches("ap")


# ---------------------------------------------------------------- running


def test_http_action_sends_the_secret_but_never_records_it(tmp_path, admin, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_TOK", CANARY)
    site = config(
        tmp_path,
        """
[actions.rollback]
kind = "rollback"
destructive = false
http = { url = "/admin/rollback", headers = { Authorization = "Bearer {secret:tok}" } }

[actions.broken]
kind = "custom"
destructive = false
http = { url = "/admin/fail", headers = { Authorization = "Bearer {secret:tok}" } }
""",
        admin,
    )
    out: list[str] = []
    outcome = run_action(site, plan_action(site, "rollback"), confirmed=True, on_output=out.append)
    assert outcome.status == "done" and outcome.http_status == 200
    assert admin.posts()[0]["headers"]["Authorization"] == f"Bearer {CANARY}"
    failed = run_action(site, plan_action(site, "broken"), confirmed=True, on_output=out.append)
    assert failed.status == "failed" and failed.http_status == 500 and failed.cli_exit == 1
    everything = "\n".join(out) + json.dumps(outcome.to_json()) + json.dumps(failed.to_json())
    everything += journal.journal_path().read_text()
    assert CANARY not in everything
    assert "you_sent" in everything  # the body was recorded, the token masked in it


def test_double_confirm_in_two_threads_runs_once(tmp_path):
    marker = tmp_path / "marker"
    gate = tmp_path / "gate.fifo"
    os.mkfifo(gate)
    code = "import sys; open(sys.argv[1], 'a').write('x' + chr(10)); print('started', flush=True); open(sys.argv[2]).read()"
    site = config(
        tmp_path,
        f"""
[actions.once]
kind = "custom"
destructive = false
timeout = "30s"
argv = [{s(PY)}, "-c", {s(code)}, {s(str(marker))}, {s(str(gate))}]
""",
    )
    plan = plan_action(site, "once", check_site=False)
    started, waiting = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def first():
        results["a"] = run_action(
            site, plan, True, on_output=lambda line: line == "started" and started.set()
        )

    def second():
        results["b"] = run_action(
            site,
            plan,
            True,
            on_output=lambda line: "waiting for the run" in line and waiting.set(),
        )

    ta = threading.Thread(target=first)
    ta.start()
    assert started.wait(15)
    assert journal.read_journal()[0].status == "running"
    tb = threading.Thread(target=second)
    tb.start()
    assert waiting.wait(15)
    with open(gate, "w") as fh:
        fh.write("go")
    ta.join(30)
    tb.join(30)
    assert sorted(r.status for r in results.values()) == ["already_done", "done"]
    assert lines(marker) == ["x"]
    assert results["b"].previous.run == results["a"].run


def test_a_run_that_dies_while_another_waits_is_not_silently_rerun(tmp_path):
    """B waits behind A; A's process dies mid-action (no outcome): B must refuse, not re-run."""
    marker = tmp_path / "marker"
    site = config(
        tmp_path, f'[actions.m]\nkind = "custom"\ndestructive = false\n{append_cmd(marker)}\n'
    )
    plan = plan_action(site, "m", check_site=False)
    holding, waiting, crash = threading.Event(), threading.Event(), threading.Event()

    def run_a_then_die():  # what a killed process leaves: an intent, then the lock drops
        with journal.key_lock(plan.key, wait=5):
            journal.append(
                {
                    "type": "intent",
                    "run": "a-run",
                    "key": plan.key,
                    "action": "m",
                    "kind": "custom",
                    "ts": now_iso(),
                    "who": "alice",
                }
            )
            holding.set()
            crash.wait(15)

    a = threading.Thread(target=run_a_then_die)
    a.start()
    assert holding.wait(15)
    result = {}
    b = threading.Thread(
        target=lambda: result.setdefault(
            "b",
            run_action(
                site,
                plan,
                True,
                on_output=lambda line: "waiting for the run" in line and waiting.set(),
            ),
        )
    )
    b.start()
    assert waiting.wait(15)
    crash.set()
    a.join(15)
    b.join(15)
    assert result["b"].status == "refused" and "interrupted" in result["b"].reason
    assert not marker.exists()


def test_repeats_are_deduplicated_but_freeze_unfreeze_freeze_runs_each_step(tmp_path):
    marker = tmp_path / "marker"
    site = freeze_site(tmp_path, marker)

    def run(name: str, **kw):
        return run_action(site, plan_action(site, name, check_site=False, **kw), confirmed=True)

    assert run("freeze").status == "done"
    again = run("freeze")
    assert again.status == "already_done" and again.cli_exit == 0
    assert run("unfreeze").status == "done"
    assert run("freeze").status == "done"
    assert run("freeze", key="change-42").status == "done"
    # one key names one change: reusing it for unfreeze must not report the freeze as 'done'
    reused = run("unfreeze", key="change-42")
    assert reused.status == "refused" and reused.cli_exit == 3
    assert "was used for freeze" in reused.reason
    assert lines(marker) == ["freeze", "unfreeze", "freeze", "freeze"]
    assert run("freeze", incident="INC-7").status == "done"  # another incident, another key


def test_a_failed_run_is_not_retried_without_asking(tmp_path):
    marker = tmp_path / "marker"
    site = config(
        tmp_path,
        f"""
[actions.flaky]
kind = "custom"
destructive = false
{append_cmd(marker, extra="; sys.exit(3)")}
""",
    )
    first = run_action(site, plan_action(site, "flaky", check_site=False), confirmed=True)
    assert first.status == "failed" and first.exit_code == 3
    plan = plan_action(site, "flaky", check_site=False)
    assert plan.decide(confirmed=True).guard.name == "idempotency"
    refused = run_action(site, plan, confirmed=True)
    assert refused.status == "refused" and "--retry" in refused.reason and refused.cli_exit == 3
    assert lines(marker) == ["x"]
    retried = run_action(site, plan, confirmed=True, retry=True)
    assert retried.status == "failed" and lines(marker) == ["x", "x"]
    assert journal.read_journal()[0].retry_of == first.run


def test_not_confirmed_runs_nothing(tmp_path):
    marker = tmp_path / "marker"
    site = config(tmp_path, f'[actions.m]\nkind = "custom"\n{append_cmd(marker)}\n')
    outcome = run_action(site, plan_action(site, "m", check_site=False), confirmed=False)
    assert outcome.status == "refused" and outcome.guard == "confirm" and outcome.cli_exit == 3
    assert not marker.exists() and not journal.journal_path().exists()


def test_timeout_kills_the_process_group_and_records_timed_out(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, threading; "
        "p = subprocess.Popen([sys.executable, '-c', 'import threading; threading.Event().wait()']); "
        "open(sys.argv[1], 'w').write(str(p.pid)); print('ready', flush=True); threading.Event().wait()"
    )
    site = config(
        tmp_path,
        f"""
[actions.hang]
kind = "custom"
destructive = false
timeout = "1s"
argv = [{s(PY)}, "-c", {s(code)}, {s(str(pidfile))}]
""",
    )
    started = time.monotonic()
    outcome = run_action(site, plan_action(site, "hang", check_site=False), confirmed=True)
    assert outcome.status == "failed" and outcome.timed_out
    assert "timed out after 1s" in outcome.reason
    assert time.monotonic() - started < 10
    pid = int(pidfile.read_text())

    def gone() -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
        except FileNotFoundError:
            return True

    wait_for(gone, what="the grandchild to be killed")
    entry = journal.read_journal()[0]
    assert entry.status == "failed" and entry.timed_out and entry.output_tail == ["ready"]


@pytest.mark.parametrize("own_session", [True, False])
def test_a_daemon_left_holding_the_output_does_not_hang_the_run(tmp_path, own_session):
    """`setsid daemon &` keeps the output open after the command exits: the run still ends, and
    one left in the command's process group is named."""
    pidfile = tmp_path / "daemon.pid"
    code = (
        "import subprocess, sys; "
        "p = subprocess.Popen([sys.executable, '-c', 'import threading; threading.Event().wait()'],"
        f" start_new_session={own_session}); "
        "open(sys.argv[1], 'w').write(str(p.pid)); print('left a daemon', flush=True)"
    )
    site = config(
        tmp_path,
        f"""
[actions.spawn]
kind = "custom"
destructive = false
timeout = "30s"
argv = [{s(PY)}, "-c", {s(code)}, {s(str(pidfile))}]
""",
    )
    started = time.monotonic()
    try:
        outcome = run_action(site, plan_action(site, "spawn", check_site=False), confirmed=True)
        assert outcome.status == "done"
        assert time.monotonic() - started < 15
        assert outcome.output_tail[0] == "left a daemon"
        if own_session:
            assert outcome.output_tail == ["left a daemon"]
        else:
            assert "still running in its process group" in outcome.output_tail[-1]
    finally:
        if pidfile.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_cancel_kills_and_is_recorded(tmp_path):
    site = config(
        tmp_path,
        f"""
[actions.hang]
kind = "custom"
destructive = false
argv = [{s(PY)}, "-c", "import threading; print('ready', flush=True); threading.Event().wait()"]
""",
    )
    cancel = threading.Event()
    outcome = run_action(
        site,
        plan_action(site, "hang", check_site=False),
        confirmed=True,
        on_output=lambda line: line == "ready" and cancel.set(),
        cancel=cancel,
    )
    assert outcome.status == "failed" and outcome.cancelled
    assert journal.read_journal()[0].cancelled


def test_missing_secret_refuses_before_anything_is_written(tmp_path):
    site = config(
        tmp_path,
        '[actions.a]\nkind = "custom"\ndestructive = false\n'
        'argv = ["true"]\nenv = { T = "{secret:absent_one}" }\n',
    )
    plan = plan_action(site, "a", check_site=False)
    assert plan.missing_secrets == ["absent_one"]
    assert plan.decide(confirmed=True).guard.name == "secrets"
    with pytest.raises(secrets.SecretError, match="FIXMAP_SECRET_ABSENT_ONE"):
        run_action(site, plan, confirmed=True)
    assert not journal.journal_path().exists()


def test_child_gets_declared_env_but_no_fixmap_secrets_and_output_is_cleaned(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_TOK", CANARY)
    monkeypatch.setenv("FIXMAP_SECRET_OTHER", "other-secret-value")
    code = (
        "import os; print(sorted(k for k in os.environ if k.startswith('FIXMAP_SECRET_')));"
        "print('token:', os.environ['TOKEN']); print('\\x1b[31mred\\x1b[0m\\x07 bell')"
    )
    site = config(
        tmp_path,
        f"""
[actions.env]
kind = "custom"
destructive = false
argv = [{s(PY)}, "-c", {s(code)}]
env = {{ TOKEN = "{{secret:tok}}" }}
""",
    )
    out: list[str] = []
    outcome = run_action(
        site, plan_action(site, "env", check_site=False), confirmed=True, on_output=out.append
    )
    assert outcome.status == "done"
    assert "[]" in out
    assert "token: ••••••" in out
    assert "red bell" in out
    assert CANARY not in journal.journal_path().read_text()


# ---------------------------------------------------------------- freeze


def test_freeze_refuses_change_and_break_glass_records_its_reason(tmp_path, admin):
    admin.state["frozen"] = True
    marker = tmp_path / "marker"
    site = config(
        tmp_path,
        f"""
[actions.freeze]
kind = "freeze"
destructive = false
http = {{ url = "/admin/freeze" }}
state = {{ url = "/state", path = "frozen" }}

[actions.ship]
kind = "custom"
destructive = false
ships_change = true
{append_cmd(marker, "ship")}

[actions.rollback]
kind = "rollback"
destructive = false
{append_cmd(marker, "rollback")}
""",
        admin,
    )
    state = site_state(site)
    assert state.frozen and state.frozen_source.startswith("live:")
    frozen, read_only = state
    assert frozen and not read_only
    plan = plan_action(site, "ship")
    assert plan.decide(confirmed=True).guard.name == "freeze"
    assert plan.decide(confirmed=True, break_glass=True).runs
    refused = run_action(site, plan, confirmed=True)
    assert refused.status == "refused" and refused.guard == "freeze" and refused.cli_exit == 3
    assert "change freeze" in refused.reason
    assert run_action(site, plan_action(site, "rollback"), confirmed=True).status == "done"
    assert lines(marker) == ["rollback"]
    with pytest.raises(ActionError) as err:
        run_action(site, plan, confirmed=True, break_glass_reason="x")
    assert "at least 10 characters" in err.value.render()
    reason = "kill switch for the 5xx storm, approved by the IC"
    done = run_action(site, plan, confirmed=True, break_glass_reason=reason)
    assert done.status == "done" and done.break_glass == reason
    assert lines(marker) == ["rollback", "ship"]
    entries = journal.read_journal()
    assert entries[0].break_glass == reason and entries[0].action == "ship"
    assert any(e.status == "refused" and e.guard == "freeze" for e in entries)


def test_freeze_state_is_last_known_from_the_journal_without_a_live_endpoint(tmp_path):
    marker = tmp_path / "marker"
    site = freeze_site(tmp_path, marker)
    assert not site_state(site).frozen
    run_action(site, plan_action(site, "freeze"), confirmed=True)
    state = site_state(site)
    assert state.frozen and state.frozen_source.startswith("last known: freeze")
    assert run_action(site, plan_action(site, "ship"), confirmed=True).status == "refused"
    run_action(site, plan_action(site, "unfreeze"), confirmed=True)
    assert run_action(site, plan_action(site, "ship"), confirmed=True).status == "done"
    assert lines(marker) == ["freeze", "unfreeze", "ship"]


def test_a_failing_live_check_falls_back_and_says_so(tmp_path, admin):
    site = config(
        tmp_path,
        """
[actions.freeze]
kind = "freeze"
destructive = false
http = { url = "/admin/freeze" }
state = { url = "http://127.0.0.1:9/state", path = "frozen", timeout = "1s" }
""",
        admin,
    )
    state = site_state(site)
    assert not state.frozen and "live check failed" in state.frozen_source and state.errors
    assert any(
        "could not read the live site state" in w for w in plan_action(site, "freeze").warnings
    )


def test_action_summaries_show_the_last_run(tmp_path):
    marker = tmp_path / "marker"
    site = config(
        tmp_path, f'[actions.m]\nkind = "custom"\ndestructive = false\n{append_cmd(marker)}\n'
    )
    run_action(site, plan_action(site, "m", check_site=False), confirmed=True)
    (summary,) = action_summaries(site)
    assert summary.name == "m" and summary.last.status == "done" and not summary.ships_change


# ---------------------------------------------------------------- the demo, end to end


def test_demo_rollback_freeze_and_read_only_with_verify(tmp_path, monkeypatch):
    from console.demo.service import DemoService
    from console.demo.site import write_site_config

    token = "demo-token-" + "q" * 20
    monkeypatch.setenv("FIXMAP_SECRET_DEMO_ADMIN_TOKEN", token)
    with DemoService(faults=["stale-index", "latency"], admin_token=token) as svc:
        base = svc.url if isinstance(svc.url, str) else svc.url()
        site = load_config(write_site_config(tmp_path, base))
        assert set(site.config.actions) >= {
            "rollback",
            "freeze",
            "unfreeze",
            "read_only",
            "read_write",
            "flag",
            "index_alias",
            "cache_rotate",
            "custom",
        }

        def act(name: str, params: dict | None = None, **kw):
            return run_action(site, plan_action(site, name, params or {}), confirmed=True, **kw)

        rollback = act("rollback")
        assert rollback.status == "done" and rollback.verify["status"] == "pass", rollback.verify
        assert svc.state()["faults"] == []
        assert act("freeze").status == "done" and site_state(site).frozen
        refused = act("flag", {"flag": "rerank", "value": "false"})
        assert refused.status == "refused" and svc.state()["flags"]["rerank"] is True
        assert act("custom").status == "refused"
        ro = act("read_only")
        assert ro.status == "done" and ro.verify["status"] == "pass" and site_state(site).read_only
        assert act("read_write").status == "done" and act("unfreeze").status == "done"
        assert tuple(site_state(site)) == (False, False)
        assert act("flag", {"flag": "rerank", "value": "false"}).status == "done"
        assert svc.state()["flags"]["rerank"] is False
        assert act("custom", {"note": "after the incident"}).status == "done"
        assert "after the incident" in (tmp_path / "custom-action.log").read_text()
        from console.history import history_for

        events = history_for(site).events()
        assert [e.kind for e in events][:3] == ["rollback", "freeze", "read_only"]
        assert (
            events[0].title == "rollback done, verify pass"
            and events[0].detail["run"] == rollback.run
        )
    assert token not in journal.journal_path().read_text()


def test_same_action_on_another_target_gets_its_own_key(tmp_path):
    """A restarted service on a new address is a new target: its rollback is not 'already done'."""
    first, second = Admin(), Admin()
    try:
        body = '[actions.rollback]\nkind = "rollback"\ndestructive = false\nhttp = { url = "/admin/rollback" }\n'
        a = config(tmp_path, body, first)
        assert run_action(a, plan_action(a, "rollback"), confirmed=True).status == "done"
        assert plan_action(a, "rollback").already_done
        b = config(tmp_path, body, second)
        plan_b = plan_action(b, "rollback")
        assert not plan_b.already_done
        assert run_action(b, plan_b, confirmed=True).status == "done"
        assert len(first.posts()) == 1 and len(second.posts()) == 1
    finally:
        first.close()
        second.close()


def test_a_secret_split_by_long_output_lines_is_still_masked(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_TOK", CANARY)
    code = "import os; t=os.environ['TOK']; print('x'*470 + t); print('y'*8180 + t + 'z')"
    site = config(
        tmp_path,
        f"""
[actions.leak]
kind = "custom"
destructive = false
argv = [{s(PY)}, "-c", {s(code)}]
env = {{ TOK = "{{secret:tok}}" }}
""",
    )
    out: list[str] = []
    outcome = run_action(
        site, plan_action(site, "leak", check_site=False), confirmed=True, on_output=out.append
    )
    assert outcome.status == "done"
    everything = "\n".join(out) + journal.journal_path().read_text() + json.dumps(outcome.to_json())
    for i in range(len(CANARY) - 7):
        assert CANARY[i : i + 8] not in everything, (
            f"a piece of the secret leaked: {CANARY[i : i + 8]}"
        )


# ---------------------------------------------------------------- code injection past wrappers


@pytest.mark.parametrize(
    "argv",
    [
        '["timeout", "30s", "sh", "-c", "echo marker {x}"]',
        '["bash", "-o", "pipefail", "-c", "echo marker {x}"]',
        '["env", "-u", "FOO", "sh", "-c", "echo marker {x}"]',
        '["kubectl", "exec", "deploy/rag", "--", "sh", "-c", "echo marker {x}"]',
        '["sudo", "-u", "deploy", "sh", "-c", "echo {x}"]',
        '["busybox", "sh", "-c", "echo {x}"]',
        '["perl", "-ne", "print {x}"]',
        '["python3", "-uc", "print({x})"]',
        '["node", "--eval=console.log({x})"]',
        '["bash", "-o", "pipefail", "{x}"]',
        '["sh", "-c", "exec \\"$@\\"", "sh", "bash", "{x}"]',
    ],
)
def test_a_parameter_run_as_code_is_refused_wherever_the_shell_sits(tmp_path, argv):
    with pytest.raises(ConfigError) as err:
        config(  # noqa: B018 - validation happens here
            tmp_path,
            f'[actions.a1]\nkind = "custom"\nargv = {argv}\nparams.x = {{ default = "hi" }}\n',
        ).config
    text = err.value.render()
    assert "actions.a1" in text and "run as code" in text
    assert "{x} would be code, not data" in text and "sh -c 'cmd \"$1\"' sh {x}" in text


@pytest.mark.parametrize(
    "argv",
    [
        '["sh", "-c", "echo \\"$1\\"", "sh", "{x}"]',
        '["timeout", "30s", "sh", "-c", "echo \\"$1\\"", "sh", "{x}"]',
        '["kubectl", "exec", "deploy/rag", "--", "sh", "-c", "echo \\"$1\\"", "sh", "{x}"]',
        '["jq", "--arg", "v", "{x}", "-n", "$v"]',
    ],
)
def test_a_parameter_passed_as_its_own_word_to_a_shell_loads(tmp_path, argv):
    site = config(
        tmp_path,
        f'[actions.a1]\nkind = "custom"\nargv = {argv}\nparams.x = {{ default = "hi" }}\n',
    )
    assert "a1" in site.config.actions


def test_the_safe_shell_form_keeps_an_injection_attempt_as_data(tmp_path):
    marker = tmp_path / "out"
    pwned = tmp_path / "pwned"
    site = config(
        tmp_path,
        f"""
[actions.a1]
kind = "custom"
destructive = false
argv = ["timeout", "30s", "sh", "-c", "printf '%s' \\"$1\\" > {marker}", "sh", "{{x}}"]
params.x = {{ default = "hi", free_text = true }}
""",
    )
    attack = f"hi; touch {pwned}"
    outcome = run_action(site, plan_action(site, "a1", {"x": attack}), confirmed=True)
    assert outcome.status == "done", outcome.reason
    assert marker.read_text() == attack and not pwned.exists()


# ---------------------------------------------------------------- one overall HTTP deadline


class Trickle:
    """A loopback server that accepts and then sends one byte every 0.3 s, never finishing."""

    def __init__(self) -> None:
        import socket

        self.stop = threading.Event()
        self.accepted = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.threads: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.set()
            t = threading.Thread(target=self._trickle, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _trickle(self, conn) -> None:
        data = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000
        with conn:
            for byte in data:
                if self.stop.wait(0.3):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:  # the client shut its socket: good
                    return

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for t in self.threads:
            t.join(5)
        self.sock.close()


@pytest.fixture
def trickle():
    t = Trickle()
    yield t
    t.close()


def test_a_trickling_http_action_is_abandoned_at_its_timeout(tmp_path, trickle):
    site = config(
        tmp_path,
        f"""
[actions.slow]
kind = "custom"
destructive = false
timeout = "1s"
http = {{ url = "{trickle.url}/admin/slow" }}
""",
    )
    started = time.monotonic()
    outcome = run_action(site, plan_action(site, "slow"), confirmed=True)
    elapsed = time.monotonic() - started
    assert trickle.accepted.is_set()
    assert elapsed < 10, elapsed  # gave up at its deadline, did not hang
    assert outcome.status == "failed" and outcome.timed_out
    assert "timed out after 1s" in outcome.reason
    last = json.loads(journal.journal_path().read_text().splitlines()[-1])
    assert last["type"] == "outcome" and last["timed_out"] and last["status"] == "failed"


def test_a_trickling_live_state_check_becomes_an_error_not_a_hang(tmp_path, trickle):
    site = config(
        tmp_path,
        f"""
[actions.freeze]
kind = "freeze"
destructive = false
argv = ["true"]
state = {{ url = "{trickle.url}/state", path = "frozen", timeout = "1s" }}
""",
    )
    started = time.monotonic()
    state = site_state(site)
    elapsed = time.monotonic() - started
    assert trickle.accepted.is_set()
    assert elapsed < 10, elapsed  # gave up at its deadline, did not hang
    assert not state.frozen and "live check failed" in state.frozen_source
    assert any("timed out after 1s" in e for e in state.errors), state.errors


def test_a_site_can_treat_an_unknown_freeze_as_a_freeze(tmp_path):
    marker = tmp_path / "marker"
    body = f"""
[actions.ship]
kind = "custom"
destructive = false
ships_change = true
{append_cmd(marker, "shipped")}
"""
    allow = config(tmp_path, body)
    assert (
        run_action(allow, plan_action(allow, "ship", check_site=False), confirmed=True).status
        == "done"
    )
    marker.unlink()
    strict = config(
        tmp_path, '[site]\nfreeze_unknown = "refuse"\n' + body.replace("shipped", "again")
    )
    plan = plan_action(strict, "ship")
    blocked = plan.decide(confirmed=True)
    assert blocked.refused and "unknown" in blocked.guard.reason
    refused = run_action(strict, plan, confirmed=True)
    assert refused.status == "refused" and refused.guard == "freeze"
    assert not marker.exists()
    glass = run_action(
        strict,
        plan_action(strict, "ship"),
        confirmed=True,
        break_glass_reason="hotfix while the state service is down",
    )
    assert glass.status == "done" and lines(marker) == ["again"]


# ---------------------------------------------------------------- the one decision


def test_a_reused_key_is_refused_in_the_plan_as_at_the_run(tmp_path):
    """The plan used to call a reused key 'already done' while the run refused it."""
    marker = tmp_path / "marker"
    site = freeze_site(tmp_path, marker)
    run_action(site, plan_action(site, "freeze", key="change-7", check_site=False), True)
    plan = plan_action(site, "unfreeze", key="change-7", check_site=False)
    (guard,) = [g for g in plan.guards if g.name == "idempotency"]
    assert guard.blocking and guard.override is None and "was used for freeze" in guard.reason
    decision = plan.decide(confirmed=True, break_glass=True, retry=True)
    assert decision.refused and decision.final == guard and not plan.already_done
    outcome = run_action(site, plan, confirmed=True)
    assert outcome.status == "refused" and outcome.reason == decision.reason
    assert lines(marker) == ["freeze"]


def test_the_decision_says_what_the_operator_still_has_to_offer(tmp_path):
    marker = tmp_path / "marker"
    site = freeze_site(tmp_path, marker, ship_extra="; sys.exit(1)")
    assert run_action(site, plan_action(site, "ship", key="k-1"), True).status == "failed"
    assert run_action(site, plan_action(site, "freeze"), True).status == "done"
    plan = plan_action(site, "ship", key="k-1")
    nothing = plan.decide(confirmed=True)
    assert nothing.guard.name == "freeze" and nothing.needs == ("break_glass", "retry")
    assert nothing.final is None and nothing.journaled
    glass = plan.decide(confirmed=True, break_glass=True)
    assert glass.guard.override == "retry" and glass.needs == ("retry",) and not glass.journaled
    assert "--retry" in glass.reason and "--retry" not in glass.guard.reason
    unconfirmed = plan.decide(confirmed=False, break_glass=True, retry=True)
    assert unconfirmed.guard.name == "confirm" and unconfirmed.reason.startswith("not confirmed")
    assert plan.decide(confirmed=True, break_glass=True, retry=True).runs


def test_already_done_outweighs_a_freeze_that_came_after(tmp_path):
    marker = tmp_path / "marker"
    site = freeze_site(tmp_path, marker)
    assert run_action(site, plan_action(site, "ship", key="k-2"), True).status == "done"
    assert run_action(site, plan_action(site, "freeze"), True).status == "done"
    plan = plan_action(site, "ship", key="k-2")
    decision = plan.decide(confirmed=True)
    assert decision.already_done and decision.needs == () and plan.already_done
    assert any(g.name == "freeze" and g.blocking for g in plan.guards)  # listed all the same
    again = run_action(site, plan, confirmed=True)
    assert again.status == "already_done" and again.exit_code == 0
    assert lines(marker) == ["ship", "freeze"]


def test_the_plan_and_the_run_render_the_same_templates(tmp_path, admin, monkeypatch):
    from console.actions.render import Request, render

    monkeypatch.setenv("FIXMAP_SECRET_TOK", CANARY)
    site = config(
        tmp_path,
        """
[actions.flag]
kind = "flag"
destructive = false
http = { url = "/flags/{name}", headers = { Authorization = "Bearer {secret:tok}" }, json = { on = "{on}" } }
params.name = { type = "str", free_text = true }
params.on = { type = "bool", default = false }
""",
        admin,
    )
    plan = plan_action(site, "flag", {"name": "a b"}, check_site=False)
    masked = render(site, plan.spec, plan.typed, key=plan.key)
    filled = render(site, plan.spec, plan.typed, {"tok": CANARY}, key=plan.key)
    assert isinstance(masked, Request) and plan.http == masked.to_json()
    assert masked.url == filled.url == admin.url + "/flags/a%20b" and filled.body == {"on": False}
    assert filled.headers == {"Authorization": f"Bearer {CANARY}", "Idempotency-Key": plan.key}
    assert masked.identity() == filled.identity()  # the key never depends on a secret's value
    assert run_action(site, plan, confirmed=True).status == "done"
    assert admin.posts()[0]["headers"]["Authorization"] == f"Bearer {CANARY}"


# ---------------------------------------------------------------- the key reaches the target


def test_the_idempotency_key_reaches_an_http_target(tmp_path, admin):
    site = config(
        tmp_path,
        """
[actions.flag]
kind = "flag"
destructive = false
http = { url = "/flags/x", json = { key = "{key}" } }

[actions.own]
kind = "flag"
destructive = false
http = { url = "/flags/y", headers = { idempotency-key = "site-{key}" } }
""",
        admin,
    )
    plan = plan_action(site, "flag", {}, check_site=False)
    assert plan.http["headers"] == {"Idempotency-Key": plan.key}
    assert run_action(site, plan, confirmed=True).status == "done"
    sent = admin.posts()[-1]
    assert sent["headers"]["Idempotency-Key"] == plan.key
    assert json.loads(sent["body"]) == {"key": plan.key}
    own = plan_action(site, "own", {}, check_site=False)
    assert run_action(site, own, confirmed=True).status == "done"
    headers = {k.lower(): v for k, v in admin.posts()[-1]["headers"].items()}
    assert headers["idempotency-key"] == f"site-{own.key}"  # the site's own header is kept


def test_the_idempotency_key_reaches_an_argv_target(tmp_path):
    out = tmp_path / "out"
    code = "import os, sys; open(sys.argv[1], 'w').write(sys.argv[2] + ' ' + os.environ['FIXMAP_IDEMPOTENCY_KEY'])"
    site = config(
        tmp_path,
        f"""
[actions.mark]
kind = "custom"
destructive = false
argv = [{s(PY)}, "-c", {s(code)}, {s(str(out))}, "--idempotency-key={{key}}"]
""",
    )
    plan = plan_action(site, "mark", {}, check_site=False)
    assert plan.argv[-1] == f"--idempotency-key={plan.key}"
    assert plan.env == {"FIXMAP_IDEMPOTENCY_KEY": plan.key}
    assert run_action(site, plan, confirmed=True).status == "done"
    assert out.read_text() == f"--idempotency-key={plan.key} {plan.key}"
    given = plan_action(site, "mark", {}, key="change-4711", check_site=False)
    assert given.argv[-1] == "--idempotency-key=change-4711"


def test_the_key_is_no_parameter_and_no_code(tmp_path):
    def refused(table: str) -> str:
        with pytest.raises(ConfigError) as err:
            config(tmp_path, '[actions.a]\nkind = "custom"\n' + table).config  # noqa: B018
        return err.value.render()

    assert "idempotency key" in refused('argv = ["echo", "{key}"]\nparams.key = {}\n')
    assert "FIXMAP_IDEMPOTENCY_KEY" in refused('argv = ["sh", "-c", "echo {key}"]\n')


# ---------------------------------------------------------------- state checks: together, once


class Rendezvous:
    """A state endpoint that answers only once two requests are waiting: checks asked one
    after another never get an answer (the first gives up before the second comes)."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=10)
        self.gets = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with outer.lock:
                    outer.gets += 1
                try:
                    outer.barrier.wait()
                except threading.BrokenBarrierError:
                    outer.barrier.reset()
                    return
                data = json.dumps({"frozen": False, "mode": "read-write"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.barrier.abort()
        self.server.shutdown()
        self.server.server_close()


def test_state_checks_are_asked_together_and_a_rollback_does_not_ask_again(tmp_path):
    rv = Rendezvous()
    try:
        site = config(
            tmp_path,
            f"""
[actions.freeze]
kind = "freeze"
destructive = false
argv = ["true"]
state = {{ url = "{rv.url}/freeze", path = "frozen", timeout = "2s" }}

[actions.read_only]
kind = "read_only"
destructive = false
argv = ["true"]
state = {{ url = "{rv.url}/mode", path = "mode", timeout = "2s" }}

[actions.rollback]
kind = "rollback"
destructive = false
argv = ["true"]
""",
        )
        plan = plan_action(site, "rollback")
        assert plan.state.frozen_source.startswith("live: GET"), plan.state
        assert plan.state.read_only_source.startswith("live: GET"), plan.state
        outcome = run_action(site, plan, confirmed=True)
        assert outcome.status == "done"
        assert rv.gets == 2  # the plan asked each endpoint once; a rollback cannot be frozen
    finally:
        rv.close()


# ---------------------------------------------------------------- secrets that look like JSON


@pytest.mark.parametrize("word", ["null", "false", "done", "true", "failed"])
def test_a_secret_that_reads_like_a_json_word_leaves_the_records_whole(tmp_path, monkeypatch, word):
    """A secret named, or valued, like a word of the journal's own JSON (null, false, done)."""
    monkeypatch.setenv(f"FIXMAP_SECRET_{word.upper()}", f"value-of-{word}-secret")
    monkeypatch.setenv("FIXMAP_SECRET_TOK", word)
    out = tmp_path / "out"
    code = "import os, sys; open(sys.argv[1], 'w').write(os.environ['A'] + ' ' + os.environ['B'])"
    site = config(
        tmp_path,
        f"""
[actions.mark]
kind = "custom"
destructive = false
env = {{ A = "{{secret:{word}}}", B = "{{secret:tok}}" }}
argv = [{s(PY)}, "-c", {s(code)}, {s(str(out))}]
""",
    )
    outcome = run_action(site, plan_action(site, "mark", check_site=False), confirmed=True)
    assert outcome.status == "done", outcome.reason
    assert out.read_text() == f"value-of-{word}-secret {word}"
    entry = journal.read_journal()[0]
    assert (entry.status, entry.exit_code, entry.timed_out) == ("done", 0, False)
    _, torn = journal.records()
    assert torn == 0
    again = run_action(site, plan_action(site, "mark", check_site=False), confirmed=True)
    assert again.status == "already_done"  # read back as done: no --retry would run it again


# ---------------------------------------------------------------- what the action was for


@pytest.fixture
def demo_site(tmp_path, monkeypatch):
    from console.demo.service import DemoService
    from console.demo.site import write_site_config

    token = "demo-token-" + "r" * 20
    monkeypatch.setenv("FIXMAP_SECRET_DEMO_ADMIN_TOKEN", token)
    with DemoService(faults=[], admin_token=token) as svc:
        base = svc.url if isinstance(svc.url, str) else svc.url()
        yield svc, load_config(write_site_config(tmp_path, base))


def _probe(site, name):
    from console.probes import run_probes_sync

    (result,) = run_probes_sync(site, [name])
    return result


def test_a_relapse_after_a_rollback_gets_a_new_key_and_a_second_rollback(demo_site):
    svc, site = demo_site
    svc.set_fault("stale-index", True)
    assert _probe(site, "index").status == "fail"  # the symptom the engineer came with
    plan = plan_action(site, "rollback")
    assert [x.label for x in plan.symptoms] == ["index"]
    first = run_action(site, plan, confirmed=True)
    assert first.status == "done" and first.cli_exit == 0, first.reason
    assert first.verify.labels("cleared") == ["index"] and first.verify["status"] == "pass"
    assert _probe(site, "index").status == "pass"

    again = plan_action(site, "rollback")
    assert again.key == first.key and again.already_done  # nothing failed since: one change

    svc.set_fault("stale-index", True)  # it comes back; nobody has probed yet
    second_plan = plan_action(site, "rollback")  # the rollback's own check is asked now
    assert second_plan.key != first.key and not second_plan.already_done
    assert second_plan.key_reason.startswith("rollback at ")
    assert "index failed again at" in second_plan.key_reason
    assert "index failed again" in second_plan.text()
    second = run_action(site, second_plan, confirmed=True)
    assert second.status == "done" and second.verify.labels("cleared") == ["index"]
    assert not svc.has_fault("stale-index") and _probe(site, "index").status == "pass"
    assert plan_action(site, "rollback").key == second.key  # and that one stands now
    entries = journal.read_journal()
    assert [e.status for e in entries[:2]] == ["done", "done"]
    assert "index failed again" in entries[0].plan["key_reason"]


def test_a_rollback_that_cleared_nothing_says_what_still_fails(demo_site):
    svc, site = demo_site
    svc.set_fault("rate-limit", True)  # not something a rollback clears
    assert _probe(site, "rate_limit").status == "fail"
    outcome = run_action(site, plan_action(site, "rollback"), confirmed=True)
    assert outcome.status == "done"
    assert outcome.reason == "done — still failing: rate_limit"
    assert outcome.verify.labels("still_failing") == ["rate_limit"]
    assert outcome.verify["status"] == "fail" and outcome.verify_ok is False
    assert outcome.cli_exit == 1
    from console.walkthrough import steps

    assert steps.action_status(outcome) == "fail"  # the recovery step is not ticked
    again = run_action(site, plan_action(site, "rollback"), confirmed=True)
    assert again.status == "already_done" and again.cli_exit == 1  # still not fixed


def test_a_derived_key_expires(tmp_path):
    marker = tmp_path / "marker"
    site = config(
        tmp_path,
        f"""
[site]
key_ttl = "2s"

[actions.mark]
kind = "custom"
destructive = false
{append_cmd(marker)}
""",
    )
    first = run_action(site, plan_action(site, "mark", check_site=False), confirmed=True)
    assert plan_action(site, "mark", check_site=False).already_done

    from datetime import UTC, datetime, timedelta

    from console.actions.keys import derive_key

    plan = plan_action(site, "mark", check_site=False)
    later = datetime.now(UTC) + timedelta(seconds=5)
    key, _basis, why = derive_key(
        "mark", plan.typed, None, plan.base, journal.entries(), ttl=2.0, now=later
    )
    assert key != first.key and why.startswith("mark at ") and "a derived key lasts 2s" in why
    wait_for(lambda: not plan_action(site, "mark", check_site=False).already_done, what="expiry")
    second = run_action(site, plan_action(site, "mark", check_site=False), confirmed=True)
    assert second.status == "done" and lines(marker) == ["x", "x"]


def test_a_failing_gate_target_is_what_the_action_is_for(demo_site):
    from console.gates import run_gate_set

    svc, site = demo_site
    svc.set_fault("stale-index", True)
    run = run_gate_set(site, "readiness")  # recorded in the history, as the console does
    assert run.verdict == "no-go"
    plan = plan_action(site, "rollback")
    labels = {x.label: x for x in plan.symptoms}
    assert "readiness.index" in labels and labels["readiness.index"].source == "probe index"
    outcome = run_action(site, plan, confirmed=True)
    assert outcome.status == "done" and outcome.cli_exit == 0, outcome.reason
    assert "readiness.index" in outcome.verify.labels("cleared"), outcome.verify
