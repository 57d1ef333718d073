"""The re-check after a run that was done: is what the action was for fixed?

It measures again, together: the action's own verify probe (`verify` in the site config), the
probes that were failing when the action was planned, and the probes behind the gate targets
that were (symptoms.py). Each symptom comes out as

- cleared: it passes now;
- still failing: it fails now (a rollback that cleared nothing: "done — still failing: ...");
- pending: a gate target judged from the metric history, whose window still holds samples from
  before the action: it cannot say yet (the gate step, or `fixmap gate SET --watch`, will);
- unmeasured: it could not be measured (an error, inconclusive): never a pass.

(Gates sit above actions: a gate target is re-measured through the probe it reads.)

The Verify's status: fail when anything fails now, error when anything could not be measured,
else pass. A check that cannot run gives an error and a reason, never an exception: the run
itself is already recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console.actions.result import Verify
from console.actions.symptoms import Symptom
from console.core import now_iso, redact

MEASURED = ("pass", "fail")


def recheck(
    site: Any,
    own: str | None,
    symptoms: list[Symptom],
    emit: Callable[[str], None] | None = None,
) -> Verify | None:
    """Measure the own verify probe and the symptoms again; None when there is nothing to check."""
    gate_probes = [p for p in (_probe_of(s) for s in symptoms if s.kind == "gate") if p]
    probes = list(
        dict.fromkeys(
            [
                *([own] if own else []),
                *(s.name for s in symptoms if s.kind == "probe"),
                *gate_probes,
            ]
        )
    )
    if not probes and not symptoms:
        return None
    if emit is not None:
        gates = [s.label for s in symptoms if s.kind == "gate"]
        emit(f"re-checking what it was for: {', '.join([*probes, *gates])}")
    measured = _probes(site, probes) if probes else {}
    checks: list[dict[str, Any]] = []
    was = {s.label: s for s in symptoms}
    for name in probes:
        if name != own and name not in was:
            continue  # measured only for a gate target: it is shown as that target
        status, reason = measured.get(name, ("error", "did not run"))
        checks.append(
            {
                "name": name,
                "kind": "probe",
                "own": name == own,
                "status": status,
                "reason": reason,
                "was": "fail" if name in was else None,
            }
        )
    for s in symptoms:
        if s.kind != "gate":
            continue
        probe = _probe_of(s)
        if probe is None:
            status = "pending"
            reason = (
                f"judged from the history ({s.source}): its window still holds samples from "
                f"before the action; the gate will say (fixmap gate {s.gate_set})"
            )
        else:
            status, reason = measured.get(probe, ("error", "did not run"))
            reason = f"probe {probe}: {reason}"
        source = s.source
        checks.append(
            {
                "name": s.label,
                "kind": "gate",
                "own": False,
                "status": status,
                "reason": reason,
                "was": "fail",
                "source": source,
            }
        )
    return _verdict(own, checks)


def verdict_reason(own: str | None, verify: Verify) -> str:
    """What the outcome says after the re-check ('' when all it was for passes now)."""
    if verify.status == "pass":
        return ""
    still = verify.labels("still_failing")
    own_check = next((c for c in verify.get("checks") or [] if c.get("own")), None)
    bits = []
    if still:
        bits.append("still failing: " + ", ".join(still))
    if own_check is not None and own_check["status"] != "pass" and own not in still:
        bits.append(
            f"verify probe '{own}' says {own_check['status']}: {own_check['reason']}".rstrip(": ")
        )
    others = [x for x in verify.labels("failing") if x not in still and x != own]
    if others:
        bits.append("failing now: " + ", ".join(others))
    unmeasured = [x for x in verify.labels("unmeasured") if x != own]
    if unmeasured:
        bits.append("could not re-check: " + ", ".join(unmeasured))
    return "done — " + "; ".join(bits)


def _verdict(own: str | None, checks: list[dict[str, Any]]) -> Verify:
    failing = [c["name"] for c in checks if c["status"] == "fail"]
    still = [c["name"] for c in checks if c["status"] == "fail" and c["was"]]
    cleared = [c["name"] for c in checks if c["status"] == "pass" and c["was"]]
    pending = [c["name"] for c in checks if c["status"] == "pending"]
    unmeasured = [c["name"] for c in checks if c["status"] not in (*MEASURED, "pending")]
    status = "fail" if failing else ("error" if unmeasured else "pass")
    own_check = next((c for c in checks if c["own"]), None)
    if still:
        reason = "still failing: " + ", ".join(still)
    elif failing:
        reason = "failing now: " + ", ".join(failing)
    elif unmeasured:
        reason = "could not re-check: " + ", ".join(unmeasured)
    else:
        reason = own_check["reason"] if own_check else "what it was for passes now"
    return Verify.of(
        own,
        status,
        redact(reason),
        checks=checks,
        failing=failing,
        still_failing=still,
        cleared=cleared,
        pending=pending,
        unmeasured=unmeasured,
        checked_at=now_iso(),
    )


def _probes(site: Any, names: list[str]) -> dict[str, tuple[str, str]]:
    from console.probes import run_probes_sync

    try:
        results = run_probes_sync(site, names)
    except Exception as exc:
        why = redact(f"{type(exc).__name__}: {exc}")
        return {n: ("error", why) for n in names}
    return {r.name: (r.status, redact(r.reason or "")) for r in results}


def _probe_of(symptom: Symptom) -> str | None:
    """The probe a gate target reads ('probe index' -> 'index'), or None (the history)."""
    head, _, name = symptom.source.partition(" ")
    return name.strip() or None if head == "probe" else None
