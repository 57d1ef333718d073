"""Keeping what is on screen: a pane as plain text, and the line that says where it went.

`s` (Ctrl+S where a text box has the focus) saves the screen's pane through the engine
(console.exports.save_text: redacted, under DATA_DIR/saved/) and copies it with OSC 52; the
path then stays on screen in a KeptLine above the footer, not only in a toast.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Footer, RichLog, Static


class KeptLine(Static):
    """Where the last save (or export) of this screen went; stays until the next one."""

    DEFAULT_CSS = """
    KeptLine { height: auto; max-height: 3; width: 1fr; padding: 0 1; background: $boost;
               text-style: bold; }
    """


def show_kept(screen: Any, text: str) -> KeptLine:
    """Put `text` in the screen's KeptLine, mounting one above its footer if it has none."""
    found = screen.query(KeptLine)
    if found:
        line = found.first()
        line.update(text)
        line.display = True
        return line
    line = KeptLine(text, markup=False)
    footers = screen.query(Footer)
    if footers:
        screen.mount(line, before=footers.first())
    else:
        screen.mount(line)
    return line


def cell_text(value: Any) -> str:
    plain = getattr(value, "plain", None)
    return " ".join(str(plain if plain is not None else value).split())


def table_text(table: DataTable) -> str:
    """A DataTable as an aligned plain-text table: every row, every column, nothing cut."""
    headers = [cell_text(c.label) for c in table.columns.values()]
    return rows_text(headers, [table.get_row_at(i) for i in range(table.row_count)])


def rows_text(columns: list[Any], values: list[Any]) -> str:
    """Rows of values under their column names, aligned, nothing cut."""
    headers = [cell_text(c) for c in columns]
    rows = [[cell_text("—" if v is None else v) for v in r] for r in values]
    widths = [
        max([len(h)] + [len(r[i]) for r in rows if i < len(r)]) for i, h in enumerate(headers)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def log_text(log: RichLog) -> str:
    """What a RichLog shows, as plain lines (wrapped as on screen)."""
    return "\n".join(strip.text.rstrip() for strip in log.lines)
