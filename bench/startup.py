"""Start-up: when the console's first frame, its footer and its triage routes reach the terminal,
against a bare Textual app's first frame.

Every program runs in a real pseudo-terminal (80x24, xterm-256color) and the bench reads what
it writes, timing from the spawn to the first bytes of:

- the first frame: the first full-screen paint (cursor home, then cells);
- the footer: its key hints ('Help' for the console, the palette hint for the bare app);
- the triage routes listed: a playbook's own title in the quick-route list (the router is
  loaded);
- a typed symptom ranked: in a second pass the bench types a symptom the moment the first frame
  is up and waits for the ranked answer ('Best routes for'), what an engineer who starts typing
  at once waits for.

The bare app (bench/bare_app.py: an Input and a Footer) and the console alternate in the same
run; each figure is min–median–max and each verdict a ratio of medians against the bare app's
first frame. Also times `fixmap route` from process start to exit, with a warm and a cold
router cache, against `python -c pass` of the same interpreter.

    .venv/bin/python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
BIN = Path(sys.executable).parent

from bench.data import spread  # noqa: E402

FIRST_FRAME = b"\x1b[1;1H"
ROUTE_TITLE = b"Rollout readiness gate: go"
"""A playbook title that only the loaded catalog knows (before it, the list shows its id)."""


TYPED = b"p95 doubled after the deploy"
RANKED = b"Best routes for"


def watch(
    argv: list[str], env: dict[str, str], markers: dict[str, bytes], typed: bytes = b""
) -> dict[str, float]:
    """Spawn argv in an 80x24 pty; seconds from spawn to each marker's first appearance
    (`typed` is written to the terminal as soon as the first frame is seen)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**env, "TERM": "xterm-256color"}
    seen: dict[str, float] = {}
    tail = b""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    deadline = t0 + 30
    try:
        while len(seen) < len(markers) and time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            now = time.perf_counter() - t0
            window = tail + chunk
            for name, marker in markers.items():
                if name not in seen and marker in window:
                    seen[name] = now
            if typed and "first frame" in seen:
                os.write(master, typed)
                typed = b""
            tail = window[-256:]
    finally:
        with_quit = proc.poll() is None
        if with_quit:
            proc.kill()
        proc.wait(timeout=10)
        os.close(master)
    missing = set(markers) - set(seen)
    if missing:
        raise RuntimeError(f"{argv[-1]}: never drew {', '.join(sorted(missing))}")
    return seen


def wall(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=60
    )
    return time.perf_counter() - t0


def _row(label: str, values: list[float], base: float, target: float | None) -> None:
    med = statistics.median(values)
    verdict = ""
    if target is not None:
        ok = med / base <= target
        verdict = f"(target <= {target:.2f}x) {'ok' if ok else 'MISSED'}"
    print(f"  {label:<36} {spread(values, 1000):>15} ms  {med / base:5.2f}x  {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "FIXMAP_HOME": home, "FIXMAP_NO_KEYRING": "1"}
        env.pop("FIXMAP_CONFIG", None)
        env.pop("FIXMAP_BENCH_FIRST_FRAME", None)
        cfg = Path(home) / "fixmap.toml"
        cfg.write_text('[site]\nname = "bench"\n[services.rag]\nbase_url = "http://127.0.0.1:9"\n')
        fixmap = str(BIN / "fixmap")
        console = {"first frame": FIRST_FRAME, "footer": b"Help", "routes": ROUTE_TITLE}
        cases = {
            "bare": ([sys.executable, str(HERE / "bare_app.py")], {"first frame": FIRST_FRAME}),
            "fixmap": ([fixmap], console),
            "fixmap --config": ([fixmap, "--config", str(cfg)], console),
        }
        ranked = {"first frame": FIRST_FRAME, "typed, ranked": RANKED}
        for argv, markers in cases.values():  # warm bytecode, the OS cache, the router cache
            watch(argv, env, markers)
        times: dict[str, dict[str, list[float]]] = {name: {} for name in cases}
        for _ in range(args.runs):
            for name, (argv, markers) in cases.items():
                for marker, t in watch(argv, env, markers).items():
                    times[name].setdefault(marker, []).append(t)
                if name != "bare":
                    for marker, t in watch(argv, env, ranked, TYPED).items():
                        if marker != "first frame":
                            times[name].setdefault(marker, []).append(t)
        base = statistics.median(times["bare"]["first frame"])
        print(f"start-up in an 80x24 pty, {args.runs} runs alternating (min–median–max)")
        _row("bare Textual app, first frame", times["bare"]["first frame"], base, None)
        targets = {"first frame": 1.3, "footer": 1.3, "routes": 1.6, "typed, ranked": 1.6}
        for name in ("fixmap", "fixmap --config"):
            for marker, target in targets.items():
                _row(f"{name}: {marker}", times[name][marker], base, target)

        route = [fixmap, "route", "p95 doubled after the deploy"]
        nothing = [sys.executable, "-c", "pass"]
        wall(route, env)  # builds the router cache
        warm, cold, bare_py = [], [], []
        for i in range(args.runs):
            bare_py.append(wall(nothing, env))
            warm.append(wall(route, env))
            if i % 3 == 0:
                for f in (Path(home) / "cache").glob("router-*"):
                    f.unlink()
                cold.append(wall(route, env))
        print("fixmap route, process start to exit (min–median–max)")
        py = statistics.median(bare_py)
        print(f"  python -c pass                     {spread(bare_py, 1000):>15} ms")
        print(
            f"  warm router cache                  {spread(warm, 1000):>15} ms  "
            f"(+{(statistics.median(warm) - py) * 1000:.0f} ms over python)"
        )
        print(
            f"  cold (rebuilds the cache)          {spread(cold, 1000):>15} ms  "
            f"{statistics.median(cold) / statistics.median(warm):.2f}x warm"
        )


if __name__ == "__main__":
    main()
