"""The `index` probe: the live index's hash and doc/chunk counts against the manifest's.

Each pair of JSON paths (manifest_* / live_*) the probe sets is compared as text; the verdict
is the number of mismatches, zero to pass (a silent index swap is the failure it catches).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from console.probes.client import Run
from console.probes.result import Outcome

if TYPE_CHECKING:
    from console.site import IndexProbe


async def probe_index(run: Run, spec: IndexProbe, timeout: float) -> Outcome:
    headers = await run.headers(spec)
    manifest_url = await run.url(spec, "manifest_url")
    live_url = await run.url(spec, "live_url")
    manifest_a, live_a = await asyncio.gather(
        run.send("GET", manifest_url, timeout=timeout, headers=headers),
        run.send("GET", live_url, timeout=timeout, headers=headers),
    )
    for a in (manifest_a, live_a):
        a.expect(200)
    manifest, live = manifest_a.json(), live_a.json()
    values: dict[str, Any] = {}
    mismatches: list[str] = []
    for label, mpath, lpath in (
        ("hash", spec.manifest_hash, spec.live_hash),
        ("docs", spec.manifest_docs, spec.live_docs),
        ("chunks", spec.manifest_chunks, spec.live_chunks),
    ):
        if not (mpath and lpath):
            continue
        want = manifest_a.at(manifest, mpath, f"manifest_{label}")
        got = live_a.at(live, lpath, f"live_{label}")
        values[f"manifest_{label}"] = want
        values[f"live_{label}"] = got
        if str(want) != str(got):
            mismatches.append(f"{label} {got} vs {want}")
    values["index_mismatches"] = len(mismatches)
    if mismatches:
        return Outcome(
            "fail",
            len(mismatches),
            "== 0 mismatches",
            "live index differs from the manifest (live vs manifest): " + ", ".join(mismatches),
            values,
        )
    parts = [
        f"{label} {values[f'live_{label}']}"
        for label in ("docs", "chunks", "hash")
        if f"live_{label}" in values
    ]
    return Outcome(
        "pass",
        0,
        "== 0 mismatches",
        "live index matches the manifest: " + ", ".join(parts),
        values,
    )
