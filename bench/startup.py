"""Start-up: process start to the triage screen's first frame, against a bare Textual app.

Both run in a real pseudo-terminal (80x24, xterm-256color), alternating, in the same run; the
figures are medians and the verdict is a ratio (these machines are noisy). Also times
`fixmap route` from process start to exit, with a warm and a cold router cache.

    .venv/bin/python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def first_frame(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from spawning argv in an 80x24 pty until it reports its first frame."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    with tempfile.TemporaryDirectory() as tmp:
        marker = Path(tmp) / "frame"
        env = {**env, "FIXMAP_BENCH_FIRST_FRAME": str(marker), "TERM": "xterm-256color"}
        stop = threading.Event()

        def drain() -> None:  # a pty that nobody reads blocks the writer
            while not stop.is_set():
                try:
                    if not os.read(master, 65536):
                        break
                except OSError:
                    break

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        t0 = time.time()
        proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        try:
            proc.wait(timeout=30)
        finally:
            stop.set()
            os.close(slave)
            os.close(master)
        if not marker.exists():
            raise RuntimeError(
                f"{argv[0]} exited {proc.returncode} without reporting a first frame"
            )
        return float(marker.read_text()) - t0


def wall(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=60
    )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "FIXMAP_HOME": home}
        env.pop("FIXMAP_CONFIG", None)
        cfg = Path(home) / "fixmap.toml"
        cfg.write_text('[site]\nname = "bench"\n[services.rag]\nbase_url = "http://127.0.0.1:9"\n')
        fixmap = str(BIN / "fixmap")
        cases = {
            "bare textual app (Input + Footer)": [sys.executable, str(HERE / "bare_app.py")],
            "fixmap, no site config": [fixmap],
            "fixmap --config (one service)": [fixmap, "--config", str(cfg)],
        }
        for argv in cases.values():  # warm bytecode and the OS cache
            first_frame(argv, env)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, argv in cases.items():
                times[name].append(first_frame(argv, env))
        base = statistics.median(times["bare textual app (Input + Footer)"])
        print(f"first frame, median of {args.runs} runs in an 80x24 pty")
        for name, ts in times.items():
            med = statistics.median(ts)
            print(
                f"  {name:<36} {med * 1000:6.0f} ms   {med / base:4.2f}x bare   (target <= 1.30x)"
            )

        route = [fixmap, "route", "p95 doubled after the deploy"]
        wall(route, env)  # builds the router cache
        warm = [wall(route, env) for _ in range(args.runs)]
        cold = []
        for _ in range(max(3, args.runs // 3)):
            for f in (Path(home) / "cache").glob("router-*"):
                f.unlink()
            cold.append(wall(route, env))
        print("fixmap route, process start to exit")
        print(
            f"  warm router cache  median {statistics.median(warm) * 1000:6.0f} ms   (target <= 250 ms)"
        )
        print(f"  cold (rebuild)     median {statistics.median(cold) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
