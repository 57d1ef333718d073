"""A real terminal: `fixmap demo` in tmux at 80x24, driven by keys, read off the screen."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid

import pytest

from tests.conftest import FIXMAP

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (make test installs it)"
)


class Tmux:
    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"fixmap-test-{uuid.uuid4().hex[:8]}"
        self.env = env

    def run(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=20,
        ).stdout

    def start(self, *argv: str) -> None:
        self.run("new-session", "-d", "-x", "80", "-y", "24", "-s", "t", *argv)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "t", "-l", text)

    def wait(self, pattern: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if re.search(pattern, text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never showed {pattern!r}:\n{text}")
            time.sleep(0.1)  # polling a terminal we do not own; bounded by the deadline

    def alive(self) -> bool:
        return (
            subprocess.run(
                ["tmux", "-L", self.socket, "has-session", "-t", "t"],
                capture_output=True,
                env=self.env,
            ).returncode
            == 0
        )

    def kill(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], capture_output=True, env=self.env
        )


@pytest.fixture
def tmux(fixmap_home, tmp_path):
    env = {**os.environ, "TERM": "xterm-256color", "FIXMAP_HOME": str(fixmap_home)}
    t = Tmux(env)
    yield t
    t.kill()


def test_demo_in_a_real_terminal_routes_walks_probes_and_quits(tmux, tmp_path):
    folder = tmp_path / "demo"
    tmux.start(FIXMAP, "demo", "--dir", str(folder), "--fault", "stale-index")
    tmux.wait("What do you see")
    tmux.type("answers cite old snippets after the index swap")
    screen = tmux.wait(r"1\. Vector index build and swap")
    assert re.search(r'matched "|terms: ', screen), "each route says why it matched"
    tmux.keys("Enter")
    tmux.wait(r"\d+/\d+ done")
    tmux.keys("F2")
    tmux.wait("configured")
    tmux.keys("a")
    screen = tmux.wait(r"index\s+✗ FAIL")
    assert re.search(r"health\s+✓ pass", screen)
    tmux.keys("C-q")
    deadline = time.monotonic() + 15
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tmux.alive(), "the console did not exit on Ctrl+Q"
    config = (folder / "fixmap.toml").read_text()
    port = re.search(r"base_url = \"http://127\.0\.0\.1:(\d+)\"", config).group(1)
    probe = subprocess.run(
        [FIXMAP, "probe", "health", "--config", str(folder / "fixmap.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 1, (
        f"the demo service on port {port} should have stopped with the console"
    )


def test_no_color_keeps_the_screen_readable(tmux):
    tmux.env["NO_COLOR"] = "1"
    tmux.start(FIXMAP)
    screen = tmux.wait("What do you see")
    assert "no site config" in screen.lower()  # the site bar, or the toast on its row
    tmux.type("429 storm")
    tmux.wait(r"1\. Rate limits and backpressure")
    tmux.keys("F1")
    tmux.wait("Triage")
    tmux.keys("Escape")
    tmux.keys("C-q")


def test_two_real_consoles_and_an_ingest_share_one_history(tmux, fixmap_home, tmp_path):
    """Two engineers on one bastion: two consoles on the history screen, and a CLI ingest."""
    folder = tmp_path / "site"
    server = subprocess.Popen(
        [FIXMAP, "demo", "--serve", "--dir", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=tmux.env,
    )
    try:
        line = server.stdout.readline()
        assert line.startswith("serving "), line
        config = line.strip().split("config=", 1)[1]
        second = Tmux(tmux.env)
        try:
            tmux.start(FIXMAP, "--config", config)
            second.start(FIXMAP, "--config", config)
            for t in (tmux, second):
                t.wait("What do you see")
                t.keys("F3")
            for t in (tmux, second):
                t.wait(r"what changed: last 24h")
            csv = tmp_path / "samples.csv"
            rows = ["ts,service,metric,value"] + [
                f"2026-01-01 00:{m:02d}:00,demo,extra_metric,{m}" for m in range(60)
            ]
            csv.write_text("\n".join(rows) + "\n")
            for _ in range(3):  # queries in both consoles while the ingest writes
                for t in (tmux, second):
                    t.keys("C-g")
                ingest = subprocess.run(
                    [FIXMAP, "history", "ingest", str(csv), "--config", config, "--force"],
                    capture_output=True,
                    text=True,
                    timeout=120,
                    env=tmux.env,
                )
                assert ingest.returncode == 0, ingest.stderr
            for t in (tmux, second):
                screen = t.wait(r"what changed: last 24h")
                assert "lock" not in screen.lower() and "✗" not in screen, screen
        finally:
            second.kill()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_notes_typed_in_one_burst_land_once_each(tmux, fixmap_home):
    """A laggy SSH link delivers fast typing in one burst: each Enter still ends one note."""
    tmux.start(FIXMAP)
    tmux.wait("What do you see")
    tmux.keys("F6")
    tmux.wait("No incident open")
    tmux.keys("C-o")
    tmux.wait("Open an incident")
    tmux.type("burst test")
    tmux.keys("Enter")
    tmux.wait("burst test · open")
    tmux.type("note A\rnote B\rnote C\r")  # one write to the terminal
    tmux.wait("note C")
    from console.incident import current_incident

    notes = [e.title for e in current_incident().events if e.kind == "note"]
    assert notes == ["note A", "note B", "note C"]


def test_what_is_typed_while_the_console_starts_is_kept(tmux):
    """Keys typed (or pasted without bracketing) before the symptom box has the focus go into
    it, in order: they reached the screen before its input was up, and were lost."""
    tmux.start(FIXMAP)
    for ch in "p95 doubled":  # one key at a time, as a person types while it starts
        tmux.type(ch)
    tmux.type(" after the deploy")  # and a burst
    screen = tmux.wait("Best routes for “p95 doubled after the deploy”")
    assert "▊  p95 doubled after the deploy" in screen, screen
