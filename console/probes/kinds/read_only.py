"""The `read_only` probe: in read-only mode a write is refused (423/503) with a Retry-After.

The mode is read first (`mode_url`/`mode_path`); in read-write mode nothing is written and the
probe passes, unless `expect_read_only` says the service should be read-only by now. The one
test write carries a fresh key in the url/body (`{key}`) and in `key_header`, so a leak is at
most one idempotent write. A mode read or a write that gets no answer is an error (could not
measure), not a leak.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from console.probes.client import Run, short
from console.probes.result import Outcome

if TYPE_CHECKING:
    from console.site import ReadOnlyProbe


async def probe_read_only(run: Run, spec: ReadOnlyProbe, timeout: float) -> Outcome:
    headers = await run.headers(spec)
    mode_a = await run.read(spec, "mode_url", timeout=timeout, headers=headers, retrying=True)
    mode_a.expect(200, 503, what="the mode endpoint")
    mode = mode_a.at(mode_a.json(), spec.mode_path, "mode_path")
    read_only = str(mode).strip().lower() in {v.lower() for v in spec.read_only_values}
    values: dict[str, Any] = {"mode": mode, "read_only": read_only}
    refused = "/".join(str(s) for s in spec.refused_status)
    threshold = f"writes refused with {refused}" + (
        " + Retry-After" if spec.require_retry_after else ""
    )
    if not read_only:
        if spec.expect_read_only:
            return Outcome(
                "fail",
                str(mode),
                threshold,
                f"service reports mode {mode!r}, expected read-only",
                values,
            )
        return Outcome(
            "pass",
            str(mode),
            threshold,
            f"{mode}: nothing to refuse (mode from {short(mode_a.url)})",
            values,
        )
    key = f"fixmap-read-only-probe-{uuid.uuid4().hex[:10]}"
    w = await run.request(
        spec,
        {"key": key},
        timeout=timeout,
        headers={**headers, spec.key_header: key},
        default_body={"probe": "fixmap read-only"},
    )
    retry_after = w.headers.get("retry-after")
    values.update({"write_status": w.status, "retry_after": retry_after})
    if w.status not in spec.refused_status:
        return Outcome(
            "fail",
            w.status,
            threshold,
            f"read-only mode leaks: a write answered {w.status}",
            values,
        )
    if spec.require_retry_after and not retry_after:
        return Outcome(
            "fail",
            w.status,
            threshold,
            f"write refused with {w.status} but without Retry-After",
            values,
        )
    return Outcome(
        "pass",
        w.status,
        threshold,
        f"write refused in read-only mode: {w.status}, Retry-After {retry_after}",
        values,
    )
