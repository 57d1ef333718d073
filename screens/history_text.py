"""What the history screen reads and shows as text: a typed request (a named query with
name=value words, or SQL) and a result cell formatted by its column's unit."""

from __future__ import annotations

import re
import shlex
from typing import Any

from console.core import metric_unit, number_text

SQL_START = (
    "select",
    "with",
    "from",
    "describe",
    "show",
    "pragma",
    "summarize",
    "explain",
    "table",
)
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_request(text: str) -> tuple[str, str, dict[str, str]]:
    """'what_changed window=24h' -> ('named', 'what_changed', {...}); anything else is SQL.

    A request is named when it is one identifier followed only by name=value words; so a
    mistyped query name still reaches the engine (which suggests the right one) and mistyped
    SQL reaches the database (which says where the syntax breaks).
    """
    stripped = text.strip()
    if stripped.split(None, 1)[0].lower() in SQL_START:
        return "sql", stripped, {}
    try:
        words = shlex.split(stripped)
    except ValueError:
        return "sql", stripped, {}
    if not NAME.match(words[0]) or not all("=" in w for w in words[1:]):
        return "sql", stripped, {}
    params: dict[str, str] = {}
    for word in words[1:]:
        k, v = word.split("=", 1)
        params[k.strip()] = v.strip()
    return "named", words[0], params


IN_METRIC_UNIT = frozenset(
    {"value", "baseline", "peak", "mean", "window", "delta", "avg", "min", "max"}
)
"""Columns whose values are in the unit of the metric (or the query): not a ratio of two."""


def column_units(columns: list[str], unit: str) -> list[str]:
    """Each column's unit: named by the column ('p95_ms', 'error_rate', 'change_pct', 'ratio'),
    else the query's unit for the values measured in it."""
    out = []
    for col in columns:
        name = col.lower()
        if name == "ratio" or name.endswith("_x"):
            out.append("x")
        elif name.endswith("_pct"):
            out.append("pct")
        elif metric_unit(name):
            out.append(metric_unit(name))
        elif unit and (name in IN_METRIC_UNIT or name in ("p50", "p95", "p99")):
            out.append(unit)
        else:
            out.append("")
    return out


def cell_text_of(v: Any, unit: str = "") -> str:
    """A value as the result table shows it: by its unit, times as MM-DD HH:MM, long text cut."""
    from datetime import datetime

    if v is None:
        return "—"
    if isinstance(v, float) and unit == "pct":  # already in percent
        return number_text(v / 100, "%")
    if isinstance(v, int | float) and not isinstance(v, bool):
        return number_text(v, unit)
    if isinstance(v, datetime):
        return v.strftime("%m-%d %H:%M")
    text = str(v)
    return text if len(text) <= 40 else text[:39] + "…"
