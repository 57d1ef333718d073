"""Judge a measured value against a playbook gate: pass, fail, or inconclusive in between."""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any

from console.playbooks.schema import Gate, parse_condition

_OPS = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class GateVerdict:
    status: str
    """pass | fail | inconclusive"""
    value: float | None
    reason: str


def holds(condition: str, value: float) -> bool:
    op, threshold = parse_condition(condition)
    return _OPS[op](value, threshold)


def judge(gate: Gate, values: dict[str, Any]) -> GateVerdict:
    """The gate's verdict on `values[gate.measure]`; missing or NaN is inconclusive, never a pass."""
    raw = values.get(gate.measure)
    if isinstance(raw, bool):
        raw = int(raw)
    if not isinstance(raw, int | float) or (isinstance(raw, float) and math.isnan(raw)):
        return GateVerdict(
            "inconclusive",
            None,
            f"no value for '{gate.measure}' in the result: cannot judge {gate.label}",
        )
    value = float(raw)
    shown = f"{gate.measure} {value:g}{(' ' + gate.unit) if gate.unit else ''}"
    if holds(gate.pass_, value):
        return GateVerdict("pass", value, f"{shown} meets {gate.pass_}")
    if gate.fail is None or holds(gate.fail, value):
        limit = gate.fail or f"not {gate.pass_}"
        return GateVerdict("fail", value, f"{shown} breaks {limit} (pass needs {gate.pass_})")
    return GateVerdict(
        "inconclusive", value, f"{shown} is between pass {gate.pass_} and fail {gate.fail}"
    )
