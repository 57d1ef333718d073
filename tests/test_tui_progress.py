"""Long work says how long and how far: a history query's elapsed seconds, a gate set's n/m
targets, the probe sweep's n/m probes. Real DuckDB, a real slow loopback server; Pilot; the
test polls with a deadline and never sleeps for a worker."""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from textual.widgets import Input, Label

from console.history import seed_demo_history
from console.site import load_config
from screens.app import FixmapApp
from screens.gates import GateProgress, GateScreen

SLOW_SQL = "select sum(i % 7) as v from range({n}) t(i)"


async def until(pilot, condition, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError(f"never happened: {what}")


def label(screen, selector: str) -> str:
    content = screen.query_one(selector, Label).content
    return str(getattr(content, "plain", content))


def seconds(text: str) -> float:
    found = re.search(r"· (\d+\.\d) s\b", text)
    assert found, text
    return float(found.group(1))


def site_with_history(tmp_path, extra: str = ""):
    db = tmp_path / "history.duckdb"
    seed_demo_history(db, "demo", now="2024-05-08T12:00:00")
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(f'[site]\nname = "t"\n[history]\ndb = "{db}"\n{extra}', encoding="utf-8")
    return load_config(cfg)


async def test_a_running_query_shows_its_elapsed_seconds_ticking(tmp_path, fixmap_home):
    app = FixmapApp(site_with_history(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("f3")
        screen = app.screen
        await until(pilot, lambda: screen.running is None, "the first query answered")
        field = screen.query_one(Input)
        field.value = SLOW_SQL.format(n=50_000_000_000)  # minutes of work: Esc ends it
        field.focus()
        await pilot.press("enter")
        await until(pilot, lambda: "running" in label(screen, "#history-title"), "running")
        first = seconds(label(screen, "#history-title"))
        await until(
            pilot,
            lambda: seconds(label(screen, "#history-title")) >= first + 0.5,
            "the elapsed time moves on",
        )
        assert "Esc cancels" in label(screen, "#history-title")
        await pilot.press("escape")
        await until(pilot, lambda: label(screen, "#history-title") == "cancelled", "cancelled")


async def test_a_gate_set_counts_its_targets_as_they_are_judged(tmp_path, fixmap_home):
    slow = SLOW_SQL.format(n=60_000_000)
    extra = "".join(
        f'\n[gates.slow.t{i}]\nsql = "{slow}"\nmeasure = "v"\npass = ">= 0"\n' for i in range(3)
    )
    site = site_with_history(tmp_path, extra)
    seen: list[tuple[int, int]] = []

    def hook(message) -> None:
        if isinstance(message, GateProgress) and message.total:
            seen.append((message.targets, message.total))

    app = FixmapApp(site)
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        await pilot.app.workers.wait_for_complete()
        screen = GateScreen("slow")
        app.push_screen(screen)
        lines: set[str] = set()

        def finished() -> bool:
            lines.add(label(screen, "#gate-verdict"))
            return screen.running is None and screen.shown is not None

        await until(pilot, finished, "the gate set judged", seconds=120)
        assert seen == [(1, 3), (2, 3), (3, 3)]
        counted = [line for line in lines if re.search(r"[12]/3 targets · \d+\.\d s", line)]
        assert counted, lines  # on screen while the next target ran
        assert label(screen, "#gate-verdict").strip().startswith("✓ GO")

        # the gate results kept as a file (`s`), the path on screen
        from screens.widgets.kept import KeptLine

        await pilot.press("s")
        await until(pilot, lambda: bool(screen.query(KeptLine)), "the saved line")
        said = str(screen.query_one(KeptLine).content)
        assert said.startswith("saved ") and "gates-slow-" in said
        text = Path(said.split()[1]).read_text(encoding="utf-8")
        assert text.startswith("✓ GO") and all(f"t{i}" in text for i in range(3))


class Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(1.5)  # the slow target under test (a server thread, not the test waiting)
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


async def test_the_probe_sweep_shows_n_of_m_and_its_time(tmp_path, fixmap_home):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        cfg = tmp_path / "fixmap.toml"
        cfg.write_text(
            f'[site]\nname = "t"\n[probes.slow]\nkind = "http"\nurl = "{url}/healthz"\n'
            f'timeout = "5s"\n[probes.slower]\nkind = "http"\nurl = "{url}/readyz"\n'
            'timeout = "5s"\n',
            encoding="utf-8",
        )
        app = FixmapApp(load_config(cfg))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.app.workers.wait_for_complete()
            await pilot.press("f2")
            screen = app.screen
            await pilot.press("a")
            await until(
                pilot, lambda: "0/2 probes done" in label(screen, "#probes-title"), "running line"
            )
            first = seconds(label(screen, "#probes-title"))
            await until(
                pilot,
                lambda: (
                    "0/2" not in label(screen, "#probes-title")
                    or seconds(label(screen, "#probes-title")) > first
                ),
                "the time moves on",
            )
            await until(pilot, lambda: not screen.running, "the sweep done", seconds=20)
            assert "last: 2/2 in " in label(screen, "#probes-title")
    finally:
        server.shutdown()
        server.server_close()
