"""The `pins` probe: the deployed versions (model, prompt, embedder, index...) against the
pinned lock (the probe's `lock`, else the site's [pins]); zero mismatches to pass.

Versions are read where the service reports them (`url`: a GET, or a POST with a body;
`pins_path` for an object of versions, `fields` for versions elsewhere) and, with `served`,
where its answers carry them (`served_fields`, per answer or per hit): an answer served by
another model than the one reported is a mismatch too. A read refused, throttled or unanswered
is an error (could not measure).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.probes.client import Run, at
from console.probes.kinds.common import all_of, served_items
from console.probes.result import Outcome, broken

if TYPE_CHECKING:
    from console.site import PinsProbe


async def probe_pins(run: Run, spec: PinsProbe, timeout: float) -> Outcome:
    lock = spec.lock if spec.lock is not None else dict(run.config.pins)
    if not lock:
        raise broken(
            "no pinned lock: add a [pins] table (model, prompt, embedder, index...) to the site config"
        )
    headers = await run.headers(spec)
    # the lock keys read from the versions object: those no field locates elsewhere
    reported_keys = [k for k in lock if k not in spec.fields and k not in spec.served_fields]
    needs_report = bool(spec.fields) or (bool(spec.pins_path) and bool(reported_keys))

    async def report() -> dict[str, Any]:
        a = await run.request(spec, timeout=timeout, headers=headers, retrying=True)
        data = a.expect(200, what="the versions endpoint").json()
        raw = at(data, spec.pins_path, "pins_path") if spec.pins_path and reported_keys else {}
        if not isinstance(raw, dict):
            raise broken(f"pins_path '{spec.pins_path}' is not an object of versions")
        deployed = {k: raw.get(k) for k in reported_keys}
        for key, path in spec.fields.items():
            deployed[key] = at(data, path, f"fields.{key}")
        return deployed

    async def nothing() -> Any:
        return None

    async def served() -> list[Any]:
        return await served_items(run, spec, timeout, headers)

    deployed, items = await all_of(
        report() if needs_report else nothing(),
        served() if spec.served is not None else nothing(),
    )
    deployed = deployed or {}
    diffs = [
        f"{k} {deployed.get(k) if deployed.get(k) is not None else 'unset'} ≠ lock {v}"
        for k, v in lock.items()
        if k in deployed and str(deployed.get(k)) != v
    ]
    diffs += [
        f"{k} not read anywhere ≠ lock {v} (add it to fields or served_fields)"
        for k, v in lock.items()
        if k not in deployed and k not in spec.served_fields
    ]
    values: dict[str, Any] = {"deployed": deployed, "lock": lock}
    if items is not None:
        seen: dict[str, list[str]] = {}
        for key, path in spec.served_fields.items():
            seen[key] = sorted({str(at(item, path, f"served_fields.{key}")) for item in items})
            want = lock.get(key)
            if want is None:
                raise broken(
                    f"served_fields.{key}: '{key}' is not in the lock (pins: {', '.join(lock)})"
                )
            wrong = [v for v in seen[key] if v != want]
            if wrong:
                diffs.append(f"{key} served {', '.join(wrong)} ≠ lock {want}")
        values["served"] = seen
    values["pin_mismatches"] = len(diffs)
    checked = sorted({*deployed, *spec.served_fields})
    if diffs:
        return Outcome(
            "fail",
            len(diffs),
            "== 0 mismatches",
            f"{len(diffs)} pins differ from the lock: " + "; ".join(diffs),
            values,
        )
    where = (
        " (as reported and as served)"
        if items is not None and deployed
        else (" (as served)" if items is not None else "")
    )
    return Outcome(
        "pass",
        0,
        "== 0 mismatches",
        f"{len(checked)} pins match the lock{where}: {', '.join(checked)}",
        values,
    )
