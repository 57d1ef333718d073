"""Memory of the real console over a big history: idle, F3 what changed, two percentile queries,
a gate set — beside a bare Textual app, at 1 M, 10 M and 30 M samples.

Each size runs the console (FixmapApp, Textual's headless driver at 80x24) in a fresh process
on the cached history of bench/data.py, whose samples reach up to now and hold a change in the
last two hours, so every query below has rows; an empty answer fails the bench (it would
measure the empty-result path, not the console):

1. idle: the triage screen up, playbooks and router loaded;
2. F3: the history screen's own first question (what changed over 24 h vs 7 d) and the chart
   of its top change;
3. p95 per minute of one service over 24 h, then p50/p95/p99 per service over 24 h;
4. F5 and the canary gate set (its targets all read the history).

The console runs its history queries in a short-lived worker process (console.history.worker);
that process's own peak is printed beside the console's, so nothing hides there.

After each step the process's RSS now and its peak so far (VmHWM) are printed, and the peak is
the verdict (target: <= 150 MiB at 10 M samples; idle <= 2x the bare app). Repeats alternate
the bare app and the console; figures are min–median–max.

    .venv/bin/python bench/console_memory.py [--rows 1000000,10000000,30000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.data import bench_data, spread  # noqa: E402

STEPS = ("idle", "F3 what changed", "p95 per minute", "per service", "canary gate set")
REQUESTS = (
    "latency_percentiles service=svc03 window=24h bucket=1m",
    "latency_percentiles window=24h bucket=none",
)


def _status(pid: int | str = "self") -> dict[str, float]:
    out = {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0]) / 1024
    return out


_worker_peak = [0.0]


def _mem() -> dict[str, float]:
    """The console's RSS and peak, and the peak so far of its history worker process."""
    from console.history import worker_pid

    pid = worker_pid()
    if pid is not None:
        _worker_peak[0] = max(_worker_peak[0], _status(pid).get("VmHWM", 0.0))
    return {**_status(), "worker": _worker_peak[0]}


async def _console(config: str) -> dict:
    from console.site import load_config
    from screens.app import FixmapApp
    from screens.history import QueryDone, QueryFailed

    answers: list = []

    def hook(message) -> None:
        if isinstance(message, QueryDone | QueryFailed):
            answers.append(message)

    figures: dict = {}
    app = FixmapApp(load_config(Path(config)))
    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:

        async def settle() -> None:
            for _ in range(3):
                await app.workers.wait_for_complete()
                await pilot.pause()

        async def answer(request: str) -> QueryDone:
            await settle()
            done = [m for m in answers if m.request == request]
            if not done or isinstance(done[-1], QueryFailed):
                raise SystemExit(f"{request}: no answer ({done[-1].error if done else 'none'})")
            return done[-1]

        await settle()
        if app.router is None:
            raise SystemExit("the console did not load its playbooks and router")
        figures["idle"] = {**_mem(), "rows": len(app.catalog)}

        await pilot.press("f3")
        done = await answer("what_changed window=24h baseline=7d")
        changes = len(done.result.changes or [])
        chart = len(done.chart.rows) if done.chart is not None else 0
        if not changes or not chart:
            raise SystemExit(f"what changed found {changes} changes, charted {chart} buckets")
        figures["F3 what changed"] = {**_mem(), "rows": changes}

        screen = app.screen
        for step, request in zip(STEPS[2:4], REQUESTS, strict=True):
            screen.run_request(request)
            done = await answer(request)
            if not done.result.rows:
                raise SystemExit(f"{request}: 0 rows ({done.result.note})")
            figures[step] = {**_mem(), "rows": len(done.result.rows)}

        await pilot.press("f5")
        await settle()
        await pilot.press("2")
        await settle()
        run = app.gate_runs.get("canary")
        if run is None:
            raise SystemExit("the canary gate set did not finish")
        measured = [t for t in run.targets if t.status in ("pass", "fail")]
        if not measured:
            reasons = "; ".join(f"{t.name}: {t.status} {t.reason}" for t in run.targets)
            raise SystemExit(f"the canary gate set measured nothing: {reasons}")
        figures["canary gate set"] = {**_mem(), "rows": len(measured)}
        await pilot.press("ctrl+q")
    return figures


async def _bare() -> dict:
    from bench.bare_app import Bare

    app = Bare()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        return {"idle": _status()}


def child(kind: str, config: str) -> None:
    import asyncio

    figures = asyncio.run(_console(config) if kind == "console" else _bare())
    print(json.dumps(figures))


def run_child(kind: str, config: Path | None, home: Path) -> dict:
    env = {**os.environ, "FIXMAP_HOME": str(home), "FIXMAP_NO_KEYRING": "1"}
    env.pop("FIXMAP_CONFIG", None)
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(config or "")],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=ROOT,
    )
    if out.returncode != 0:
        raise SystemExit(f"the {kind} run failed:\n{out.stderr[-3000:]}{out.stdout[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="1000000,10000000,30000000")
    ap.add_argument("--runs", type=int, default=3, help="console runs per size")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return 0
    sizes = [int(x) for x in args.rows.split(",")]
    data = {n: bench_data(n) for n in sizes}
    peaks: dict[int, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="fixmap-bench-") as tmp:
        home = Path(tmp)
        bare: list[float] = []
        runs: dict[int, list[dict]] = {n: [] for n in sizes}
        for _ in range(args.runs):
            for n in sizes:
                bare.append(run_child("bare", None, home)["idle"]["VmHWM"])
                runs[n].append(run_child("console", data[n].config(), home))
    print(f"bare Textual app (Input + Footer), peak RSS: {spread(bare)} MiB (min–median–max)")
    ok = True
    for n in sizes:
        print(f"\nconsole on {data[n].rows:,} samples ({args.runs} runs; MiB min–median–max)")
        print(f"  {'step':<18} {'RSS now':>13} {'peak so far':>13} {'worker peak':>13}  rows")
        for step in STEPS:
            now = [r[step]["VmRSS"] for r in runs[n]]
            hwm = [r[step]["VmHWM"] for r in runs[n]]
            worker = [r[step]["worker"] for r in runs[n]]
            rows = runs[n][-1][step]["rows"]
            print(f"  {step:<18} {spread(now):>13} {spread(hwm):>13} {spread(worker):>13}  {rows}")
        peaks[n] = [r[STEPS[-1]]["VmHWM"] for r in runs[n]]
        idle = sorted(r["idle"]["VmHWM"] for r in runs[n])
        bare_med = sorted(bare)[len(bare) // 2]
        idle_ratio = idle[len(idle) // 2] / bare_med
        peak = sorted(peaks[n])[len(peaks[n]) // 2]
        verdict_idle = "ok" if idle_ratio <= 2.0 else "MISSED"
        print(f"  idle vs bare app: {idle_ratio:.2f}x (target <= 2x) {verdict_idle}")
        if n >= 10_000_000:
            good = peak <= 150
            ok &= good
            print(f"  peak {peak:.0f} MiB (target <= 150 MiB) {'ok' if good else 'MISSED'}")
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        grow = sorted(peaks[hi])[len(peaks[hi]) // 2] - sorted(peaks[lo])[len(peaks[lo]) // 2]
        print(f"\npeak growth {lo:,} -> {hi:,} samples: {grow:+.0f} MiB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
