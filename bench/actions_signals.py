"""Benchmark: a change outlives its console. A 3-second argv action printing a line a second is
started with `fixmap act --yes`; at its first line fixmap gets SIGHUP, SIGTERM or SIGKILL. Each
run must still finish (its last line written, by itself and to its output file) and be in the
journal as done with exit 0; no run may be half done.

Reported, in the same run: per signal, how many of N runs came out done/exit 0/3 lines, and the
median time from the signal to the outcome in the journal, against the same action run to its
end with no signal (the baseline); plus the cost of the supervisor: `fixmap act` of /bin/true,
median of N, here and (if given) with another fixmap (e.g. the main branch's) as a baseline.

Usage: python bench/actions_signals.py [--runs 20] [--baseline-fixmap /work/main/.venv/bin/fixmap]
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXMAP = str(Path(sys.executable).with_name("fixmap"))
TICK = (
    "import sys, time\n"
    "for n in range(1, 4):\n"
    "    print('line', n, flush=True)\n"
    "    open(sys.argv[1], 'a').write('line %d' % n + chr(10))\n"
    "    time.sleep(1) if n < 3 else None\n"
)


def config(folder: Path, own: Path) -> Path:
    path = folder / "fixmap.toml"
    path.write_text(
        f"""
[actions.tick]
kind = "custom"
destructive = false
timeout = "30s"
argv = [{json.dumps(sys.executable)}, "-c", {json.dumps(TICK)}, {json.dumps(str(own))}]

[actions.true]
kind = "custom"
destructive = false
argv = ["true"]
"""
    )
    return path


def journal(home: Path) -> dict:
    out = subprocess.run(
        [FIXMAP, "journal", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "FIXMAP_HOME": str(home)},
        check=True,
    ).stdout
    return json.loads(out)["entries"][0]


def wait_line(proc: subprocess.Popen[bytes], needle: bytes, timeout: float = 20) -> None:
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise SystemExit(f"no {needle!r} within {timeout}s")
        chunk = os.read(proc.stdout.fileno(), 65536)  # type: ignore[union-attr]
        if not chunk:
            raise SystemExit(f"fixmap ended before {needle!r}: {buf!r}")
        buf += chunk


def one(sig: signal.Signals | None, n: int, root: Path) -> tuple[bool, float]:
    """One run: (came out whole, seconds from the signal (or the start) to the outcome)."""
    folder = root / f"{sig.name if sig else 'none'}-{n}"
    folder.mkdir()
    home, own = folder / "home", folder / "own"
    cfg = config(folder, own)
    env = {**os.environ, "FIXMAP_HOME": str(home)}
    proc = subprocess.Popen(
        [FIXMAP, "act", "tick", "--config", str(cfg), "--yes"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    wait_line(proc, "│ line 1".encode())
    t0 = time.monotonic()
    if sig is not None:
        proc.send_signal(sig)
    proc.wait(30)
    deadline = time.monotonic() + 30
    while True:
        entry = journal(home)
        if entry["status"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    lines = own.read_text().splitlines() if own.exists() else []
    log = Path(entry["output"]).read_text().splitlines() if entry.get("output") else []
    whole = (
        entry["status"] == "done"
        and entry["exit_code"] == 0
        and lines == ["line 1", "line 2", "line 3"]
        and log == lines
    )
    return whole, elapsed


def act_true(fixmap: str, runs: int, root: Path) -> float:
    times = []
    for n in range(runs):
        folder = root / f"true-{Path(fixmap).parent.parent.parent.name}-{n}"
        folder.mkdir()
        cfg = config(folder, folder / "own")
        t0 = time.monotonic()
        subprocess.run(
            [fixmap, "act", "true", "--config", str(cfg), "--yes"],
            capture_output=True,
            env={**os.environ, "FIXMAP_HOME": str(folder / "home")},
            check=True,
        )
        times.append(time.monotonic() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--baseline-fixmap", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="fixmap-signals-") as tmp:
        root = Path(tmp)
        base = [one(None, n, root)[1] for n in range(3)]
        base_s = statistics.median(base)
        print(f"baseline: no signal, first line to outcome: {base_s:.2f} s (median of 3)")
        bad = 0
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGKILL):
            results = [one(sig, n, root) for n in range(args.runs)]
            ok = sum(1 for whole, _ in results if whole)
            bad += args.runs - ok
            med = statistics.median(t for _, t in results)
            print(
                f"{sig.name:8} {ok}/{args.runs} done, exit 0, all 3 lines;"
                f" signal to outcome {med:.2f} s ({med / base_s:.2f}x the baseline)"
            )
        here = act_true(FIXMAP, 10, root)
        print(f"fixmap act of /bin/true: {here * 1000:.0f} ms (median of 10)")
        if args.baseline_fixmap:
            other = act_true(args.baseline_fixmap, 10, root)
            print(
                f"  baseline {args.baseline_fixmap}: {other * 1000:.0f} ms; "
                f"ratio {here / other:.2f}x"
            )
        if bad:
            raise SystemExit(f"{bad} run(s) not whole")


if __name__ == "__main__":
    main()
