"""Tables as the CLI prints them: a query result's columns and rows, fitted to the output width
(console/cli/base.output_width: COLUMNS, the terminal, or uncut when piped), then its notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from console.cli.base import echo, output_width, warn


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S" if v.second or v.microsecond else "%Y-%m-%d %H:%M")
    if isinstance(v, float):
        if v != v:
            return "NaN"
        a = abs(v)
        if a == 0:
            return "0"
        if a >= 1e7 or a < 1e-4:
            return f"{v:.3e}"
        if a >= 100:
            return f"{v:.1f}"
        return f"{v:.4g}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_cell(x) for x in v) + "]"
    return str(v).replace("\n", " ")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def format_table(columns: list[str], rows: list[list[Any]], width: int | None = 80) -> str:
    """An aligned text table no wider than `width` (None: as wide as it needs); wide cells are
    cut with '…'."""
    if not columns:
        return ""
    cells = [[_cell(v) for v in r] for r in rows]
    numeric = [
        all(
            isinstance(r[i], int | float) and not isinstance(r[i], bool)
            for r in rows
            if r[i] is not None
        )
        and any(r[i] is not None for r in rows)
        for i in range(len(columns))
    ]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    shown = len(columns)

    def total(n: int) -> int:
        return sum(widths[:n]) + 2 * (n - 1)

    # cut text columns first (not below their header, up to 12); then leave columns out
    solid = [
        numeric[i] or any(isinstance(r[i], datetime) for r in rows) for i in range(len(columns))
    ]
    floors = [
        widths[i] if solid[i] else min(widths[i], max(6, min(len(c), 12)))
        for i, c in enumerate(columns)
    ]
    while width is not None and total(shown) > width:
        soft = [i for i in range(shown) if widths[i] > floors[i]]
        if soft:
            widest = max(soft, key=lambda i: widths[i])
            widths[widest] = max(floors[widest], widths[widest] - (total(shown) - width))
        elif shown > 1:
            shown -= 1
        else:
            widths[0] = width
            break
    hidden = len(columns) - shown

    def line(values: list[str]) -> str:
        out = []
        for i in range(shown):
            text = _clip(values[i], widths[i])
            out.append(text.rjust(widths[i]) if numeric[i] else text.ljust(widths[i]))
        return "  ".join(out).rstrip()

    lines = [line(columns), "  ".join("-" * widths[i] for i in range(shown))]
    lines.extend(line(r) for r in cells)
    if hidden:
        lines.append(
            _clip(
                f"({hidden} more column{'s' if hidden > 1 else ''}, see them with --json: "
                f"{', '.join(columns[shown:])})",
                width or 10**6,
            )
        )
    return "\n".join(lines)


def print_result(result: Any) -> None:
    if result.title and result.name:
        echo(result.title)
    if result.columns:
        echo(format_table(result.columns, result.rows, output_width()))
    if result.note:
        warn(f"note: {result.note}")
    if result.measures:
        shown = ", ".join(f"{k}={_cell(v)}" for k, v in result.measures.items())
        echo(f"measures: {shown}")
    more = " (more rows exist: raise --limit or narrow the query)" if result.truncated else ""
    warn(
        f"{len(result.rows)} row{'s' if len(result.rows) != 1 else ''} in {result.elapsed_ms:.1f} ms{more}"
    )


# ---------------------------------------------------------------- commands
