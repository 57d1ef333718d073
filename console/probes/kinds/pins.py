"""The `pins` probe: the deployed versions (model, prompt, embedder, index...) against the
pinned lock (the probe's `lock`, else the site's [pins]); zero mismatches to pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.probes.client import Run
from console.probes.result import Outcome, broken

if TYPE_CHECKING:
    from console.site import PinsProbe


async def probe_pins(run: Run, spec: PinsProbe, timeout: float) -> Outcome:
    lock = spec.lock if spec.lock is not None else dict(run.config.pins)
    if not lock:
        raise broken(
            "no pinned lock: add a [pins] table (model, prompt, embedder, index...) to the site config"
        )
    a = await run.send("GET", await run.url(spec), timeout=timeout, headers=await run.headers(spec))
    data = a.expect(200).json()
    deployed_raw = (
        a.at(data, spec.pins_path, "pins_path")
        if spec.pins_path and any(k not in spec.fields for k in lock)
        else {}
    )
    if not isinstance(deployed_raw, dict):
        raise broken(f"pins_path '{spec.pins_path}' is not an object of versions")
    deployed = {k: deployed_raw.get(k) for k in lock}
    for key, path in spec.fields.items():
        deployed[key] = a.at(data, path, f"fields.{key}")
    diffs = [
        f"{k} {deployed.get(k) if deployed.get(k) is not None else 'unset'} ≠ lock {v}"
        for k, v in lock.items()
        if str(deployed.get(k)) != v
    ]
    values = {"pin_mismatches": len(diffs), "deployed": deployed, "lock": lock}
    if diffs:
        return Outcome(
            "fail",
            len(diffs),
            "== 0 mismatches",
            f"{len(diffs)} pins differ from the lock: " + "; ".join(diffs),
            values,
        )
    return Outcome(
        "pass", 0, "== 0 mismatches", f"{len(lock)} pins match the lock: {', '.join(lock)}", values
    )
