"""Table cells that end in '…' when cut: a name or a reason never just stops mid-word."""

from __future__ import annotations

from rich.text import Text


def cell(value: object, style: str = "") -> Text:
    """One line that ends in an ellipsis where its column is too narrow for it."""
    if isinstance(value, Text):
        text = value.copy()
    else:
        text = Text(" ".join(str(value).split()), style=style)  # never markup: a reason is data
    text.no_wrap = True
    text.overflow = "ellipsis"
    text.end = ""
    return text
