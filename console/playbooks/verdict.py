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
    try:
        pass_ = conditions.parse(gate.pass_).resolved(values)
        fail = conditions.parse(gate.fail).resolved(values) if gate.fail else None
    except conditions.ThresholdMissing as exc:
        return GateVerdict("inconclusive", None, f"{exc}: cannot judge {gate.label}")
    status = conditions.judge(value, pass_, fail)
    unit = gate.unit
    shown = f"{gate.measure} {numbers.number_text(value, unit)}"
    need = _text(pass_, gate.pass_, unit)
    if status == "pass":
        return GateVerdict("pass", value, f"{shown} meets {need}")
    if status == "fail":
        limit = _text(fail, gate.fail, unit) if fail and gate.fail else f"not {need}"
        return GateVerdict("fail", value, f"{shown} breaks {limit} (pass needs {need})")
    fails = _text(fail, gate.fail, unit) if fail and gate.fail else "-"
    return GateVerdict("inconclusive", value, f"{shown} is between pass {need} and fail {fails}")


def _text(cond: conditions.Condition, written: str, unit: str = "") -> str:
    """'≤ 750 ($budget_ms)' for a resolved reference, the condition as written otherwise; a
    share's numbers as percentages ('≤ 0.5%')."""
    if cond.ref:
        number = conditions.plain(cond.number or 0.0)
        return numbers.condition_text(f"{cond.op} {number}", unit) + f" (${cond.ref})"
    return numbers.condition_text(written, unit)
