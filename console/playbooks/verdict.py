"""A playbook gate's verdict on a measured value (the judge is core.conditions')."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.core import conditions

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
    shown = f"{gate.measure} {value:g}{(' ' + gate.unit) if gate.unit else ''}"
    need = _text(pass_, gate.pass_)
    if status == "pass":
        return GateVerdict("pass", value, f"{shown} meets {need}")
    if status == "fail":
        limit = _text(fail, gate.fail) if fail and gate.fail else f"not {need}"
        return GateVerdict("fail", value, f"{shown} breaks {limit} (pass needs {need})")
    return GateVerdict(
        "inconclusive", value, f"{shown} is between pass {need} and fail {gate.fail}"
    )


def _text(cond: conditions.Condition, written: str) -> str:
    """'<= 750 ($budget_ms)' for a resolved reference, the condition as written otherwise."""
    if cond.ref:
        return f"{cond.op} {conditions.plain(cond.number or 0.0)} (${cond.ref})"
    return written
