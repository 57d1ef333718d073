"""What the live sampler costs on the demo at its default interval: CPU and memory.

Starts `fixmap demo --serve --no-sampling` (the service with its simulated users), measures the
demo process's CPU seconds over DURATION without sampling (the baseline), then starts `fixmap
watch` on the demo's config and measures both processes over DURATION again, and the watch
process's resident memory. CPU comes from /proc/PID/stat (utime + stime), memory from
/proc/PID/status (VmRSS, VmHWM). Prints the figures and the ratio against the baseline run.

    .venv/bin/python bench/sampler_cost.py [--duration 300]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXMAP = str(Path(sys.executable).with_name("fixmap"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def mem_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def measure(pids: list[int], duration: float) -> list[float]:
    before = [cpu_s(p) for p in pids]
    time.sleep(duration)
    return [cpu_s(p) - b for p, b in zip(pids, before, strict=True)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=300.0, help="seconds per phase")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fixmap-bench-sampler-"))
    env = {**os.environ, "FIXMAP_HOME": str(folder / "home")}
    demo = subprocess.Popen(
        [FIXMAP, "demo", "--serve", "--no-sampling", "--dir", str(folder / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    watch = None
    try:
        line = demo.stdout.readline()
        config = line.split("config=", 1)[1].strip()
        time.sleep(5)  # boot and the first users' requests
        (demo_alone,) = measure([demo.pid], args.duration)
        watch = subprocess.Popen(
            [FIXMAP, "watch", "--config", config],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        watch.stdout.readline()  # the first round is done: imports are paid
        demo_with, watch_cpu = measure([demo.pid, watch.pid], args.duration)
        mem = mem_kb(watch.pid)
        demo_mem = mem_kb(demo.pid)
    finally:
        for p in (watch, demo):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(20)
    d = args.duration
    print(f"interval: the demo's default (5 s); {d:.0f} s per phase; 2 cores shared")
    print(
        f"demo alone (service + users):   {demo_alone:7.2f} CPU s = {100 * demo_alone / d:5.2f} % of a core"
    )
    print(
        f"demo while sampled:             {demo_with:7.2f} CPU s = {100 * demo_with / d:5.2f} % of a core"
    )
    print(
        f"fixmap watch (the sampler):     {watch_cpu:7.2f} CPU s = {100 * watch_cpu / d:5.2f} % of a core"
    )
    extra = demo_with - demo_alone + watch_cpu
    print(
        f"sampling costs {extra:.2f} CPU s over {d:.0f} s ({100 * extra / d:.2f} % of a core): "
        f"{(demo_with + watch_cpu) / demo_alone:.2f}× the unsampled demo's CPU"
    )
    print(
        f"fixmap watch memory: RSS {mem['VmRSS'] / 1024:.1f} MB, peak {mem['VmHWM'] / 1024:.1f} MB "
        f"(the demo process: RSS {demo_mem['VmRSS'] / 1024:.1f} MB)"
    )


if __name__ == "__main__":
    main()
