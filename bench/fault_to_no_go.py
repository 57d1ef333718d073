"""How long a fault switched on at run time takes to turn each history gate target NO-GO, on a
demo that has been sampled long enough for its windows to hold live samples only.

Point it at a running demo (`fixmap demo --serve`, left running for 15 min or more with no
fault, its admin token chosen with $FIXMAP_SECRET_DEMO_ADMIN_TOKEN) and its config. For each
fault in turn it switches the fault on through /admin/fault, judges canary and hard_stop every
POLL seconds until each target the fault should trip fails (or --limit passes), prints the
seconds per target, and switches the fault off. Faults that trip the same metrics are not
measured one after the other: their samples stay in the windows (10-15 min).

    .venv/bin/python bench/fault_to_no_go.py --config D/fixmap.toml [--faults rate-limit,latency]
"""

from __future__ import annotations

import argparse
import os
import time

import httpx

from console.gates import run_gate_set
from console.site import load_config

TRIPS = {
    "rate-limit": {"hard_stop": ["rate_429", "error_rate"], "canary": ["error_rate"]},
    "latency": {"hard_stop": ["p99_ratio"], "canary": ["p95_uplift"]},
    "model-drift": {
        "hard_stop": ["ds_p95_drift", "coverage", "lambda_flip_rate"],
        "canary": ["ds_median_drift", "ds_p95_drift", "coverage", "lambda_flip_rate"],
    },
}
POLL = 2.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--faults", default="rate-limit,latency,model-drift")
    ap.add_argument("--limit", type=float, default=240.0, help="seconds to wait per fault")
    args = ap.parse_args()
    site = load_config(args.config)
    url = site.config.services["demo"].base_url.rstrip("/")
    token = os.environ["FIXMAP_SECRET_DEMO_ADMIN_TOKEN"]
    auth = {"Authorization": f"Bearer {token}"}
    for set_name in ("canary", "hard_stop"):
        run = run_gate_set(site, set_name, record=False)
        print(f"before: {set_name} {run.verdict}")
    for fault in args.faults.split(","):
        wanted = {(s, t) for s, ts in TRIPS[fault].items() for t in ts}
        tripped: dict[tuple[str, str], float] = {}
        httpx.post(f"{url}/admin/fault", json={"name": fault, "on": True}, headers=auth)
        t0 = time.monotonic()
        try:
            while wanted - set(tripped) and time.monotonic() - t0 < args.limit:
                for set_name in TRIPS[fault]:
                    run = run_gate_set(site, set_name, record=False)
                    for t in run.targets:
                        key = (set_name, t.name)
                        if t.status == "fail" and key not in tripped:
                            tripped[key] = time.monotonic() - t0
                            print(
                                f"  {fault}: {set_name}.{t.name} NO-GO after {tripped[key]:.0f} s: {t.reason}"
                            )
                time.sleep(POLL)
        finally:
            httpx.post(f"{url}/admin/fault", json={"name": fault, "on": False}, headers=auth)
        for key in sorted(wanted - set(tripped)):
            print(f"  {fault}: {key[0]}.{key[1]} still not failing after {args.limit:.0f} s")


if __name__ == "__main__":
    main()
