"""Benchmark: redaction per call, with 35 and 135 environment variables.

Every text fixmap prints or stores passes `console.core.redact`; storing 500 probe results
redacts thousands of strings. Per call, in the same run and alternately:

- `redact(text)` on three typical strings (a probe reason, an output line echoing a secret, a
  clean JSON body), and `redact_obj` on a probe result's values (20 strings);
- the floor: one `str.replace` of the registered secret over the same strings;
- every call gets a text it has not seen (masked texts are remembered: a repeat would time the
  memo), and `redact_repeat` times the repeat of one text;
- with `--against PATH`: the same calls with the redactor of another checkout (e.g. the main
  branch), so before and after are measured side by side.

Each measurement runs in a fresh process whose environment has exactly N variables, five of
them named like credentials. Prints min-median-max of the per-call microseconds and the ratio to
the floor.

    .venv/bin/python bench/redact.py [--rounds 7] [--against /work/main]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "fx-bench-7f3a9c2e41d84b6fa0c5e9d2"
CALLS = 3000
TEXTS = [
    "latency p95 1234 ms over budget 1200 ms (source: http://127.0.0.1:8080/retrieve, 20 requests)",
    f"deploying release v41 with token {SECRET} to prod-eu ... done",
    '{"status": "ok", "index": {"docs": 120000, "hash": "sha256:9f2c4e"}, "model": "gpt-4o"}',
]


def _env(n: int) -> dict[str, str]:
    """An environment of exactly n variables: five credential-named, the rest plain."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    creds = {
        "FIXMAP_SECRET_PROM_TOKEN": SECRET,
        "GITHUB_TOKEN": "ghp_" + "a1b2c3d4" * 4,
        "DB_PASSWORD": "correct-horse-battery",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
        "OPENAI_API_KEY": "sk-" + "x9y8z7w6" * 5,
    }
    env.update(creds)
    i = 0
    while len(env) < n:
        env[f"BENCH_VAR_{i:03d}"] = f"/opt/bench/value/{i}/" + "v" * (i % 40)
        i += 1
    return dict(list(env.items())[:n]) if len(env) > n else env


WORKER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import importlib
r = importlib.import_module("console.core.redact")
secret, calls = sys.argv[2], int(sys.argv[3])
texts = json.loads(sys.argv[4])
r.register_secret(secret)
values = {f"field{i}": texts[i % len(texts)] for i in range(20)}
mask = r.MASK

def per_call(fn, args):
    fn(args[0])  # warm: the first call may build caches
    t0 = time.perf_counter()
    for a in args[1:]:
        fn(a)
    return (time.perf_counter() - t0) / (len(args) - 1) * 1e6

def distinct(text, n):
    # a new text every call: masked texts are remembered, and a repeat would time the memo
    return [f"{i} {text}" for i in range(n + 1)]

n20 = max(calls // 20, 50)
objs = [{k: f"{i} {v}" for k, v in values.items()} for i in range(n20 + 1)]
out = {
    "redact": sum(per_call(r.redact, distinct(t, calls)) for t in texts) / len(texts),
    "redact_obj_20": per_call(r.redact_obj, objs),
    "floor": sum(
        per_call(lambda t: t.replace(secret, mask), distinct(t, calls)) for t in texts
    ) / len(texts),
}
out["redact_clean"] = per_call(r.redact, distinct(texts[0], calls))
out["redact_repeat"] = per_call(r.redact, [texts[0]] * (calls + 1))
out["file"] = r.__file__
print(json.dumps(out))
"""


def _measure(root: Path, nvars: int) -> dict[str, float]:
    """Per-call figures from a fresh process with the redactor of `root`."""
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, str(root), SECRET, str(CALLS), json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        env=_env(nvars),
        check=True,
    )
    out = json.loads(proc.stdout)
    if not Path(out.pop("file")).is_relative_to(root):
        raise SystemExit(f"measured the wrong checkout: wanted {root}")
    return out


def _span(xs: list[float]) -> str:
    return f"{min(xs):7.1f} {statistics.median(xs):7.1f} {max(xs):7.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--against", type=Path, default=None, help="another checkout to compare")
    args = ap.parse_args()
    roots = {"this": ROOT}
    if args.against:
        roots["against"] = args.against.resolve()
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    t0 = time.monotonic()
    for _ in range(args.rounds):
        for nvars in (35, 135):
            for label, root in roots.items():
                results.setdefault((label, nvars), []).append(_measure(root, nvars))
    print(f"redaction per call, µs (min median max of {args.rounds} rounds, {CALLS} calls each)")
    for nvars in (35, 135):
        for label, root in roots.items():
            runs = results[(label, nvars)]
            floor = statistics.median(r["floor"] for r in runs)
            print(f"\n{label} ({root}), {nvars} environment variables:")
            for key in ("redact", "redact_clean", "redact_obj_20", "redact_repeat"):
                if key not in runs[0]:  # a checkout from before the memo of masked texts
                    continue
                xs = [r[key] for r in runs]
                ratio = statistics.median(xs) / floor if key != "redact_obj_20" else None
                extra = f"   {ratio:6.1f}x the floor" if ratio else ""
                print(f"  {key:<14} {_span(xs)}{extra}")
            print(f"  {'floor':<14} {_span([r['floor'] for r in runs])}   (one str.replace)")
        if args.against:
            this = statistics.median(r["redact"] for r in results[("this", nvars)])
            other = statistics.median(r["redact"] for r in results[("against", nvars)])
            print(f"  this / against, redact per call: {this / other:.3f}x")
    print(f"\n({time.monotonic() - t0:.1f} s)")


if __name__ == "__main__":
    main()
