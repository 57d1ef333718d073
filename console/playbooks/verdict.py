"""A playbook gate's verdict on a measured value (the judge is core.conditions')."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.core import conditions, numbers

if TYPE_CHECKING:
    from console.playbooks.schema import Gate


@dataclass(frozen=True)
class GateVerdict:
    status: str
    """pass | fail | inconclusive"""
    value: float | None
    reason: str


def judge(gate: Gate, values: dict[str, Any]) -> GateVerdict:
    """The gate's verdict on `values[gate.measure]`; missing or NaN is inconclusive, never a pass."""
    raw = values.get(gate.measure)
    if isinstance(raw, bool):
        raw = int(raw)
    if not conditions.is_number(raw):
        return GateVerdict(
            "inconclusive",
            None,
            f"no value for '{gate.measure}' in the result: cannot judge {gate.label}",
        )
    value = float(raw)
    pass_ = conditions.parse(gate.pass_, refs=False)
    fail = conditions.parse(gate.fail, refs=False) if gate.fail else None
    status = conditions.judge(value, pass_, fail)
    unit = gate.unit
    shown = f"{gate.measure} {numbers.number_text(value, gate.unit)}"
    passes = numbers.condition_text(gate.pass_, unit)
    if status == "pass":
        return GateVerdict("pass", value, f"{shown} meets {passes}")
    if status == "fail":
        limit = numbers.condition_text(gate.fail, unit) if gate.fail else f"not {passes}"
        return GateVerdict("fail", value, f"{shown} breaks {limit} (pass needs {passes})")
    fails = numbers.condition_text(gate.fail or "", unit)
    return GateVerdict("inconclusive", value, f"{shown} is between pass {passes} and fail {fails}")
