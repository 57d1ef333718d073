"""Benchmark: `http` probes through `fixmap probe --all` against what the same requests cost
without fixmap, in the same run (min–median–max of alternating rounds).

A loopback endpoint answers after 50 ms. The config (N probes, each checking the JSON answer)
is generated into a temp dir; its service allows 50 requests in flight, as many as the plain
script sends (a service's default, 4, would time the cap, not fixmap). Reported:

- 100 probes: the probe run's own wall time (as `fixmap probe --json` reports it) and the same
  100 requests sent one after another with one client (targets: <= 0.35 s, >= 15x faster);
- 500 probes, whole process: `fixmap probe --all --json` from spawn to exit against a plain
  httpx script doing the same 500 requests the same way (one AsyncClient, at most 50 in
  flight, the JSON checked) from spawn to exit (target <= 1.3x).

Usage: python bench/probes.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.data import spread

DELAY_S = 0.050
PROBES = 100
MANY = 500

PLAIN = r"""
import asyncio, sys
import httpx

async def main(url, n):
    sem = asyncio.Semaphore(50)
    async with httpx.AsyncClient(timeout=5) as client:
        async def one(i):
            async with sem:
                r = await client.get(f"{url}/ok?i={i}")
                assert r.status_code == 200 and r.json() == {"status": "ok"}
        await asyncio.gather(*(one(i) for i in range(n)))

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
print("ok")
"""


class _Slow(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        return

    def do_GET(self):
        time.sleep(DELAY_S)
        data = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def _config(url: str, n: int = PROBES) -> str:
    # 50 in flight, as the plain script sends them (a service's default is a cautious 4)
    lines = [f'[services.bench]\nbase_url = "{url}"\ntimeout = "5s"\nmax_in_flight = 50\n']
    for i in range(n):
        lines.append(
            f'[probes.p{i:03d}]\nkind = "http"\nurl = "/ok?i={i}"\nexpect_json = {{ status = "ok" }}\n'
        )
    return "\n".join(lines)


def _sequential(url: str) -> float:
    import httpx

    with httpx.Client(timeout=5) as client:
        client.get(f"{url}/warm")
        t0 = time.perf_counter()
        for i in range(PROBES):
            client.get(f"{url}/ok?i={i}").raise_for_status()
        return time.perf_counter() - t0


def _plain_process(url: str, n: int) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", PLAIN, url, str(n)], check=True, capture_output=True, timeout=120
    )
    return time.perf_counter() - t0


def _fixmap_run(config: Path, home: Path, n: int = PROBES) -> tuple[float, float]:
    """(run wall s as reported by fixmap, process wall s)."""
    env = {**os.environ, "FIXMAP_HOME": str(home), "FIXMAP_NO_KEYRING": "1"}
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "console", "probe", "--all", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    process = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(
            f"fixmap probe failed ({out.returncode}):\n{out.stderr}\n{out.stdout[:2000]}"
        )
    report = json.loads(out.stdout)
    assert len(report["results"]) == n and all(r["status"] == "pass" for r in report["results"])
    return report["wall_ms"] / 1000, process


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="repeat and report medians")
    args = parser.parse_args()

    server = _Server(("127.0.0.1", 0), _Slow)
    threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    runs, processes, sequentials = [], [], []
    many, plain = [], []
    with tempfile.TemporaryDirectory(prefix="fixmap-bench-") as tmp:
        config = Path(tmp) / "fixmap.toml"
        config.write_text(_config(url))
        config_many = Path(tmp) / "fixmap-many.toml"
        config_many.write_text(_config(url, MANY))
        _fixmap_run(config_many, Path(tmp) / "home", MANY)  # warm bytecode and the OS cache
        _plain_process(url, MANY)
        for _ in range(args.rounds):
            run, process = _fixmap_run(config, Path(tmp) / "home")
            runs.append(run)
            processes.append(process)
            sequentials.append(_sequential(url))
            plain.append(_plain_process(url, MANY))
            many.append(_fixmap_run(config_many, Path(tmp) / "home", MANY)[1])
    server.shutdown()
    server.server_close()

    run, process, seq = (statistics.median(x) for x in (runs, processes, sequentials))
    speedup = seq / run
    print(
        f"{PROBES} http probes, endpoint answering after {DELAY_S * 1000:.0f} ms, medians of {args.rounds} rounds"
    )
    print(f"  fixmap probe --all, the run itself   {run:6.3f} s   (target <= 0.35 s)")
    print(
        f"  fixmap probe --all, whole process    {process:6.3f} s   (start-up and imports included)"
    )
    print(f"  the same 100 requests, sequential    {seq:6.3f} s")
    print(f"  speed-up (sequential / run)          {speedup:6.1f}x   (target >= 15x)")
    ratio = statistics.median(many) / statistics.median(plain)
    print(f"{MANY} http probes, whole process (min–median–max of {args.rounds} rounds, s)")
    print(f"  plain httpx script (50 in flight)    {spread(plain, fmt='{:.2f}'):>16}")
    print(
        f"  fixmap probe --all --json            {spread(many, fmt='{:.2f}'):>16}   "
        f"{ratio:.2f}x   (target <= 1.30x) {'ok' if ratio <= 1.3 else 'MISSED'}"
    )
    ok = run <= 0.35 and speedup >= 15 and ratio <= 1.3
    print("  verdict: " + ("targets met" if ok else "TARGETS MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
