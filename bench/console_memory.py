"""Peak memory of the console with a 10 M-sample history open (target <= 150 MiB).

Builds the same history as bench/history.py (20 services x 10 metrics, one week), writes a
site config pointing at it, then runs the real console app in a fresh process (Textual's
headless driver, 80x24): opens the history screen, runs what-changed, the p95-per-minute and
the per-service percentile queries, charts them, and reports the process's VmHWM. For scale, the
same process figure for the console with no history opened is printed too.

    .venv/bin/python bench/console_memory.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = r"""
import asyncio, sys
from console.site.config import load_config
from screens.app import FixmapApp
from screens.history import HistoryScreen

def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

async def main(cfg, open_history):
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if open_history:
            await pilot.press("f3")
            screen = app.screen
            for request in (
                "what_changed window=24h baseline=6d",
                "latency_percentiles service=svc00 window=24h bucket=1m",
                "latency_percentiles window=24h bucket=none",
            ):
                screen.run_request(request)
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert screen.running is None and screen.last_request == request, screen.query_one("#history-title").content
    print(f"{peak_mib():.0f}")

asyncio.run(main(sys.argv[1], sys.argv[2] == "1"))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    args = ap.parse_args()
    from bench.history import make_parquet
    from console.history import History

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        parquet = tmpdir / "samples.parquet"
        make_parquet(parquet, args.rows)
        db = tmpdir / "history.duckdb"
        History(db).ingest_files([parquet])
        cfg = tmpdir / "fixmap.toml"
        limit = os.environ.get("BENCH_MEMORY_LIMIT")
        extra = f'memory_limit = "{limit}"\n' if limit else ""
        cfg.write_text(f'[site]\nname = "bench"\n[history]\ndb = "{db}"\n{extra}', encoding="utf-8")
        env_home = tmpdir / "home"
        env_home.mkdir()
        env = {**os.environ, "FIXMAP_HOME": str(env_home)}
        figures = {}
        for label, flag in (
            ("console, no history opened", "0"),
            ("console, history screen, 3 queries", "1"),
        ):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(cfg), flag],
                capture_output=True,
                text=True,
                env=env,
                timeout=600,
                cwd=ROOT,
            )
            if out.returncode != 0:
                raise SystemExit(out.stderr)
            figures[label] = float(out.stdout.strip().splitlines()[-1])
        print(f"peak memory (VmHWM), {args.rows:,} samples in the history")
        for label, mib in figures.items():
            print(f"  {label:<38} {mib:6.0f} MiB   (target <= 150 MiB)")


if __name__ == "__main__":
    main()
