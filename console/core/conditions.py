"""Conditions and the judge: the one rule for 'does this value pass?' in playbook gates and
gate sets.

A condition is an operator and a threshold: '<= 0.45', '> 0.60', '== 0', or a named threshold
'<= $budget_ms' that the source of the value supplies. A value is judged against a pass
condition and an optional fail condition: it passes when pass holds; fails when fail holds
(or, with no fail condition, when pass does not); anything in between is inconclusive.
A missing or NaN value is never judged: the caller says why (no data, an error).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

_SYNTAX = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?|\$[a-z][a-z0-9_]*)\s*$")
OPS = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}
SYMBOL = {"<=": "≤", ">=": "≥", "==": "=", "!=": "≠", "<": "<", ">": ">"}
NEGATION = {"<=": ">", ">=": "<", "==": "≠", "!=": "=", "<": "≥", ">": "≤"}


class ThresholdMissing(ValueError):
    """A '$name' threshold whose value the source did not supply."""


@dataclass(frozen=True)
class Condition:
    """'<= 0.45' (number set) or '<= $budget_ms' (ref set: the source supplies the number).

    `resolved()` fills in a ref's number and keeps the ref, so a reason can still say where the
    number came from ('budget 1200 ms')."""

    op: str
    number: float | None = None
    ref: str | None = None

    @property
    def text(self) -> str:
        return f"{self.op} ${self.ref}" if self.ref else f"{self.op} {plain(self.number or 0.0)}"

    @property
    def high_is_bad(self) -> bool:
        return self.op in ("<", "<=")

    def threshold(self, values: Mapping[str, Any] | None = None) -> float:
        """The number to compare with; a ref not yet resolved is looked up in `values`."""
        if self.number is not None:
            return self.number
        raw = (values or {}).get(self.ref or "")
        if not is_number(raw):
            raise ThresholdMissing(f"the threshold ${self.ref} needs a number '{self.ref}'")
        return float(raw)

    def resolved(self, values: Mapping[str, Any] | None = None) -> Condition:
        """This condition with its number filled in from `values` (ThresholdMissing if none)."""
        return self if self.number is not None else replace(self, number=self.threshold(values))

    def holds(self, value: float, values: Mapping[str, Any] | None = None) -> bool:
        return OPS[self.op](value, self.threshold(values))


def parse(text: str, *, refs: bool = True) -> Condition:
    """'<= 0.45' -> Condition('<=', 0.45); ValueError naming the accepted forms."""
    m = _SYNTAX.match(text) if isinstance(text, str) else None
    if m is None or (not refs and m.group(2).startswith("$")):
        forms = "'<= 0.45', '> 0.60'" + (" or '<= $budget_ms'" if refs else "")
        raise ValueError(f"'{text}' is not a condition like {forms}")
    op, rhs = m.group(1), m.group(2)
    if rhs.startswith("$"):
        return Condition(op, None, rhs[1:])
    return Condition(op, float(rhs), None)


def is_number(v: Any) -> bool:
    """A real number to judge: not a bool, not NaN."""
    return isinstance(v, int | float) and not isinstance(v, bool) and not math.isnan(float(v))


def plain(x: float) -> str:
    """A number as a condition holds it (never an exponent)."""
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.10f}".rstrip("0").rstrip(".")


def judge(
    value: float,
    pass_: Condition,
    fail: Condition | None = None,
    values: Mapping[str, Any] | None = None,
) -> str:
    """pass | fail | inconclusive for one number (ThresholdMissing when a ref has no value)."""
    if pass_.holds(value, values):
        return "pass"
    if fail is None or fail.holds(value, values):
        return "fail"
    return "inconclusive"
