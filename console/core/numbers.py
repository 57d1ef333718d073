"""Numbers as a person reads them, by unit: '412 ms', '1.5 s', '0.07%', '-4.98%', '2.1×', '1,204'.

One rule for every face (screens, CLI tables, verdict lines): never scientific notation, never
seven digits of noise. Shares and ratios (0…1, or a relative change) read as percentages.
"""

from __future__ import annotations

import math
import re
from typing import Any

PERCENT_UNITS = frozenset({"%", "ratio", "share", "fraction"})
"""Units whose values are fractions: 0.0007 is '0.07%'."""


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _fixed(v: float, significant: int = 3) -> str:
    """`v` with about `significant` digits, in fixed notation (0.000742, 12.3, 4120)."""
    if v == 0:
        return "0"
    digits = max(0, significant - 1 - math.floor(math.log10(abs(v))))
    text = _trim(f"{v:.{min(digits, 12)}f}")
    return "0" if text in ("-0", "") else text


def percent_text(share: float) -> str:
    """A share as a percentage: 0.999 -> '99.9%', 0.0007424 -> '0.07%', -0.0498 -> '-4.98%'.

    Two decimals below 10 %, one above; a share short of 1 never rounds up to '100%'.
    """
    p = share * 100
    text = _trim(f"{p:.{2 if abs(p) < 10 else 1}f}")
    if text in ("100", "-100") and abs(share) != 1:
        text = _trim(f"{math.trunc(p * 100) / 100:.2f}")
    if text in ("0", "-0") and share != 0:
        text = _fixed(p, 1)  # 0.00003 -> '0.003%': small, but not zero
    return f"{text}%"


def ms_text(ms: float) -> str:
    """'4.2 ms', '412 ms', '12.3 s' (from 10 s on, seconds read better)."""
    if abs(ms) >= 10_000:
        return seconds_text(ms / 1000)
    return f"{_trim(f'{ms:.1f}') if abs(ms) < 10 else f'{ms:.0f}'} ms"


def seconds_text(s: float) -> str:
    """'0.35 s', '12 s', '4 min 10 s', '2 h 5 min'."""
    if abs(s) < 60:
        return f"{_fixed(s, 3)} s"
    total = round(abs(s))
    sign = "-" if s < 0 else ""
    h, rest = divmod(total, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return f"{sign}{h} h {m} min" if m else f"{sign}{h} h"
    return f"{sign}{m} min {sec} s" if sec else f"{sign}{m} min"


def count_text(v: float) -> str:
    """'7', '1,204', '2.5' (a count that is an average keeps one decimal)."""
    if v == int(v):
        return f"{int(v):,}" if abs(v) >= 10_000 else str(int(v))
    return _fixed(v, 3) if abs(v) < 100 else f"{v:,.0f}"


def number_text(value: Any, unit: str = "") -> str:
    """Any measured value, by its unit. None is '-'; booleans (or unit 'bool') 'yes' / 'no'."""
    if value is None:
        return "-"
    if isinstance(value, bool) or unit == "bool":
        if isinstance(value, int | float):
            return "yes" if value else "no"
        return str(value)
    if isinstance(value, str) or not isinstance(value, int | float):
        return str(value)
    v = float(value)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if unit in PERCENT_UNITS:
        return percent_text(v)
    if unit == "ms":
        return ms_text(v)
    if unit == "s":
        return seconds_text(v)
    if unit == "x":
        return f"{_trim(f'{v:.2f}')}×"
    if unit == "count" or (unit == "" and v == int(v)):
        return count_text(v)
    text = _fixed(v) if abs(v) < 1000 else f"{v:,.0f}"
    return f"{text} {unit}" if unit else text


def axis_text(value: float, unit: str = "") -> str:
    """A short chart-axis label: '0.07%', '412', '1.2k', '0.0007' (no unit word for plain ones)."""
    if unit in PERCENT_UNITS:
        return percent_text(value)
    if value == 0:
        return "0"
    mag = abs(value)
    if mag >= 1_000_000:
        return f"{_trim(f'{value / 1e6:.1f}')}M"
    if mag >= 1000:
        return f"{_trim(f'{value / 1000:.1f}')}k"
    if mag >= 10:
        return f"{value:.0f}"
    return _fixed(value, 2)


def metric_unit(metric: str) -> str:
    """The unit a metric's name implies: '_ms' is ms; rates, ratios, shares and coverage are
    fractions; anything else has none."""
    name = metric.lower()
    if name.endswith("_ms") or "_ms_" in name or name in ("latency", "p50", "p95", "p99"):
        return "ms"
    if name.endswith(("_seconds", "_sec")):
        return "s"  # not '_s': delta_s is ΔS, a distance
    if name.startswith("rate_") or name.endswith(("_rate", "_ratio", "_share", "_uplift")):
        return "ratio"
    if name in ("coverage", "idempotency"):
        return "ratio"
    return ""


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE]-?\d+)?(?![\w.%])")
_OPS = {"<=": "≤", ">=": "≥", "!=": "≠"}


def condition_text(condition: str, unit: str = "") -> str:
    """A threshold as read: '<= 0.005' for a share is '≤ 0.5%'; other units keep their numbers
    (a threshold names its own 'ms')."""
    text = condition
    if unit in PERCENT_UNITS:
        text = _NUMBER.sub(lambda m: percent_text(float(m.group(0))), text)
    for op, sign in _OPS.items():
        text = text.replace(op, sign)
    return text
