"""`fixmap probe` and `fixmap demo --serve`, as a user runs them: real processes, real HTTP."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from console.cli.base import main
from console.demo.service import DemoService
from console.demo.site import write_site_config

FIXMAP = [sys.executable, "-m", "console"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FIXMAP_NO_KEYRING", "1")
    monkeypatch.delenv("FIXMAP_CONFIG", raising=False)
    monkeypatch.delenv("FIXMAP_SECRET_DEMO_ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def _read_line(proc: subprocess.Popen, timeout: float = 20.0) -> str:
    """The first stdout line of a process, waiting at most `timeout` for it."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not sel.select(left):
            raise AssertionError(f"no line within {timeout} s; got {buf!r}")
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            raise AssertionError(f"process ended before its line; got {buf!r}, exit {proc.wait(5)}")
        buf += chunk
    return buf.split(b"\n", 1)[0].decode()


@contextmanager
def serving(tmp_path: Path, *args: str, **env: str):
    proc = subprocess.Popen(
        [*FIXMAP, "demo", "--serve", "--dir", str(tmp_path / "demo"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(**env),
    )
    try:
        line = _read_line(proc)
        yield proc, line
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_demo_serve_probe_and_sigterm(tmp_path):
    token = "cli-test-admin-token-42"
    with serving(tmp_path, FIXMAP_SECRET_DEMO_ADMIN_TOKEN=token) as (proc, line):
        assert line.startswith("serving http://127.0.0.1:") and " config=" in line
        url, config = line.split()[1], line.split("config=", 1)[1]
        assert Path(config).is_file()
        assert token not in Path(config).read_text()

        probed = subprocess.run(
            [*FIXMAP, "probe", "--all", "--json", "--config", config],
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(),
        )
        assert probed.returncode == 0, probed.stdout + probed.stderr
        results = json.loads(probed.stdout)["results"]
        assert {
            "health",
            "latency",
            "rate_limit",
            "warmup",
            "index",
            "stability",
            "idempotency",
            "pins",
            "read_only",
        } <= {r["name"] for r in results}
        for r in results:
            assert {"name", "kind", "status", "value", "threshold", "reason", "duration_ms"} <= set(
                r
            )
            assert r["status"] == "pass"

        # a fault switched on at run time, through the admin API and the token handed over by name
        req = urllib.request.Request(
            f"{url}/admin/fault",
            data=json.dumps({"name": "duplicates", "on": True}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        assert urllib.request.urlopen(req, timeout=10).status == 200
        red = subprocess.run(
            [*FIXMAP, "probe", "idempotency", "pins", "--config", config],
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(),
        )
        assert red.returncode == 1
        lines = red.stdout.splitlines()
        assert lines[0].startswith("idempotency") and "FAIL" in lines[0]
        assert "PASS" in lines[1]

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert proc.stdout.read() == b""  # exactly one line on stdout


def test_demo_serve_with_a_fault_and_a_made_up_token(tmp_path):
    with serving(tmp_path, "--fault", "model_drift") as (proc, line):
        config = line.split("config=", 1)[1]
        probed = subprocess.run(
            [*FIXMAP, "probe", "--json", "--config", config, "pins"],
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(),
        )
        assert probed.returncode == 1
        [pins] = json.loads(probed.stdout)["results"]
        assert pins["status"] == "fail" and "model" in pins["reason"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
        err = proc.stderr.read().decode()
        assert "made up for this run" in err and "model-drift" in err


def test_demo_token_reaches_a_second_shell_through_its_secrets_dir(tmp_path):
    """`fixmap demo --serve` in one shell, `fixmap act rollback --yes` in another, nothing exported."""
    with serving(tmp_path) as (proc, line):
        config = Path(line.split("config=", 1)[1])
        token_file = config.parent / "secrets" / "demo_admin_token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert 'secrets_dir = "secrets"' in config.read_text()
        second_shell = {k: v for k, v in os.environ.items() if not k.startswith("FIXMAP_SECRET_")}
        acted = subprocess.run(
            [*FIXMAP, "--config", str(config), "act", "rollback", "--yes"],
            capture_output=True,
            text=True,
            timeout=60,
            env=second_shell,
        )
        assert acted.returncode == 0, acted.stdout + acted.stderr
        assert "done: rollback" in acted.stdout + acted.stderr
        assert token_file.read_text() not in acted.stdout + acted.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0


def test_demo_refuses_an_unknown_fault(tmp_path):
    result = CliRunner().invoke(
        main, ["demo", "--serve", "--dir", str(tmp_path), "--fault", "latncy"]
    )
    assert result.exit_code == 2
    assert "did you mean 'latency'" in result.stderr


# ------------------------------------------------------------------ fixmap probe, in-process


@pytest.fixture
def demo_config(tmp_path):
    with DemoService(["rate-limit"], admin_token="x") as svc:
        yield write_site_config(tmp_path, svc.url)


def test_probe_exit_codes_and_aligned_lines(demo_config):
    runner = CliRunner()
    args = ["probe", "health", "pins", "index", "--config", str(demo_config)]
    ok = runner.invoke(main, args, env={"COLUMNS": "80"})
    assert ok.exit_code == 0, ok.output
    lines = ok.stdout.splitlines()
    assert len(lines) == 3 and all(len(line) <= 80 for line in lines)
    piped = runner.invoke(main, args, env={"COLUMNS": None})  # a pipe, no COLUMNS: nothing cut
    assert "…" not in piped.stdout and "chunks 39" in piped.stdout
    assert len({line.index("PASS") for line in lines}) == 1  # aligned

    red = runner.invoke(main, ["probe", "--config", str(demo_config), "rate_limit"])
    assert red.exit_code == 1 and "FAIL" in red.stdout and "429" in red.stdout


def test_probe_usage_and_config_errors_exit_2(demo_config, tmp_path):
    runner = CliRunner()
    typo = runner.invoke(main, ["probe", "helth", "--config", str(demo_config)])
    assert typo.exit_code == 2 and "did you mean 'health'" in typo.stderr
    both = runner.invoke(main, ["probe", "health", "--all", "--config", str(demo_config)])
    assert both.exit_code == 2
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[services.a]\nbase_url = "http://127.0.0.1:1"\n[probes.x]\nkind = "latency"\nurl = "/"\nconcurency = 3\n'
    )
    broken = runner.invoke(main, ["probe", "--all", "--config", str(bad)])
    assert (
        broken.exit_code == 2
        and "probes.x.concurency" in broken.stderr
        and "concurrency" in broken.stderr
    )
    unknown_service = tmp_path / "svc.toml"
    unknown_service.write_text(
        '[services.a]\nbase_url = "http://127.0.0.1:1"\n[probes.x]\nkind = "http"\nservice = "b"\nurl = "/"\n'
    )
    svc = runner.invoke(main, ["probe", "--config", str(unknown_service)])
    assert svc.exit_code == 2 and "probes.x.service" in svc.stderr
    empty = tmp_path / "empty.toml"
    empty.write_text('[services.a]\nbase_url = "http://127.0.0.1:1"\n')
    none = runner.invoke(main, ["probe", "--all", "--config", str(empty)])
    assert none.exit_code == 2 and "no probes" in none.stderr


def test_probe_results_land_in_the_history_store(tmp_path, monkeypatch):
    """Every recorded run is queryable from the history: `fixmap history query` sees it."""
    import json as _json
    import subprocess as _sp

    from console.demo.service import DemoService
    from console.demo.site import write_site_config
    from tests.conftest import FIXMAP

    monkeypatch.setenv("FIXMAP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FIXMAP_SECRET_DEMO_ADMIN_TOKEN", "history-token-1234")
    with DemoService(admin_token="history-token-1234") as svc:
        cfg = write_site_config(tmp_path, svc.url)
        run = _sp.run(
            [FIXMAP, "probe", "health", "index", "--config", str(cfg)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
    q = _sp.run(
        [
            FIXMAP,
            "history",
            "query",
            "select name, status from probe_results order by name",
            "--json",
            "--config",
            str(cfg),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert q.returncode == 0, q.stderr
    assert _json.loads(q.stdout)["rows"] == [["health", "pass"], ["index", "pass"]]
