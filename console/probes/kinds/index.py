"""The `index` probe: the index the service runs, against its manifest.

Up to three reads, together: the manifest (what should be live), the stats endpoint's
self-report (`live_url`), and the served side — the build or hash carried in answers of a search
endpoint (`served`, per answer or per hit), compared with the manifest's hash or a pin. Each
pair of manifest_*/live_* paths is compared as text, and the served side counts as one more
comparison; the verdict is the number of mismatches, zero to pass. A read that is refused,
throttled or unanswered is an error (could not measure), never a mismatch.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from console.probes.client import Answer, Run, at
from console.probes.kinds.common import all_of, served_items
from console.probes.result import Outcome, broken

if TYPE_CHECKING:
    from console.site import IndexProbe

_PAIRS = ("hash", "docs", "chunks")


async def probe_index(run: Run, spec: IndexProbe, timeout: float) -> Outcome:
    headers = await run.headers(spec)
    pairs = [
        (label, getattr(spec, f"manifest_{label}"), getattr(spec, f"live_{label}"))
        for label in _PAIRS
    ]
    pairs = [(label, m, v) for label, m, v in pairs if m and v]
    want_live = bool(spec.live_url and spec.manifest_url and pairs)
    want_manifest = want_live or (spec.served is not None and not spec.served_pin)

    async def read(field: str, what: str) -> Any:
        a: Answer = await run.read(spec, field, timeout=timeout, headers=headers, retrying=True)
        return a.expect(200, what=what).json()

    async def nothing() -> None:
        return None

    async def served() -> list[Any]:
        return await served_items(run, spec, timeout, headers)

    manifest, live, items = await all_of(
        read("manifest_url", "the manifest") if want_manifest else nothing(),
        read("live_url", "the live index stats") if want_live else nothing(),
        served() if spec.served is not None else nothing(),
    )
    values: dict[str, Any] = {}
    mismatches: list[str] = []
    for label, mpath, lpath in pairs if want_live else []:
        want = at(manifest, mpath, f"manifest_{label}")
        got = at(live, lpath, f"live_{label}")
        values[f"manifest_{label}"] = want
        values[f"live_{label}"] = got
        if str(want) != str(got):
            mismatches.append(f"{label} {got} vs {want}")
    if items is not None:
        mismatches.extend(_served(run, spec, manifest, items, values))
    values["index_mismatches"] = len(mismatches)
    if mismatches:
        return Outcome(
            "fail",
            len(mismatches),
            "== 0 mismatches",
            "the index differs from the manifest (live vs expected): " + "; ".join(mismatches),
            values,
        )
    parts = [f"{label} {values[f'live_{label}']}" for label in _PAIRS if f"live_{label}" in values]
    if items is not None:
        parts.append(f"{values['served_checked']} served answers carry {values['served_hash']}")
    return Outcome(
        "pass",
        0,
        "== 0 mismatches",
        "the index matches the manifest: " + ", ".join(parts),
        values,
    )


def _served(
    run: Run, spec: IndexProbe, manifest: Any, items: list[Any], values: dict[str, Any]
) -> list[str]:
    """The served side's mismatch (one line, or none); its measures go into `values`."""
    if spec.served_pin:
        if spec.served_pin not in run.config.pins:
            raise broken(
                f"served_pin '{spec.served_pin}' is not in [pins] "
                f"(pins: {', '.join(run.config.pins) or 'none'})"
            )
        expected, against = run.config.pins[spec.served_pin], f"pin {spec.served_pin}"
    else:
        expected = at(manifest, spec.manifest_hash or "", "manifest_hash")
        against = "the manifest"
    got = [str(at(item, spec.served_hash or "", "served_hash")) for item in items]
    wrong = [g for g in got if g != str(expected)]
    values.update(
        {
            "served_hash": Counter(got).most_common(1)[0][0],
            "served_expected": expected,
            "served_checked": len(got),
            "served_mismatches": len(wrong),
        }
    )
    if not wrong:
        return []
    what = "hits" if spec.served_hits else "answers"
    return [
        f"{len(wrong)} of {len(got)} served {what} carry {Counter(wrong).most_common(1)[0][0]}, "
        f"{against} says {expected}"
    ]
