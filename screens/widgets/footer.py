"""The footer of key hints, drawn with the screen's first frame.

Textual's Footer composes nothing until the screen first announces its bindings, then
recomposes after the next refresh: the hints arrive a few frames (tens of ms) after the
screen. This one has them in its first compose: the screen's bindings are known once it is
mounted, and a later change of focus recomposes it as usual.
"""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    """A Footer whose key hints are on screen from the first frame."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.set_reactive(Footer._bindings_ready, True)
