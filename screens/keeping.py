"""`s` / Ctrl+S: keep the screen's pane as a file, copy it, and say where it went on screen.

A screen (or dialog) offers its pane with `pane_text() -> (name, text) | None`; the engine
writes it (console.exports.save_text: redacted, DATA_DIR/saved/<name>-<UTC>.txt) in a worker;
the path goes into the screen's KeptLine, and the same redacted text to the terminal's
clipboard with OSC 52 (Textual's copy_to_clipboard; terminals that ignore OSC 52 copy nothing,
so the line says "if the terminal allows").
"""

from __future__ import annotations

from typing import Any


class Keeping:
    """Mixed into the App: the one save-pane action every screen shares."""

    def action_save_pane(self) -> None:
        screen = self.screen  # type: ignore[attr-defined]
        offer = getattr(screen, "pane_text", None)
        pane = offer() if offer is not None else None
        if not pane or not pane[1].strip():
            self.cannot("s: nothing on this screen to save yet.")  # type: ignore[attr-defined]
            return
        name, text = pane

        def work() -> None:
            from console.core import redact
            from console.exports import save_text

            try:
                path = save_text(name, text)
            except OSError as exc:
                self.call_from_thread(  # type: ignore[attr-defined]
                    self.kept_on, screen, f"✗ not saved: {exc}", None
                )
                return
            self.call_from_thread(self.kept_on, screen, f"saved {path}", redact(text))  # type: ignore[attr-defined]

        self.run_worker(  # type: ignore[attr-defined]
            work, thread=True, group="save-pane", exit_on_error=False, description="save the pane"
        )

    def kept_on(self, screen: Any, said: str, copy: str | None) -> None:
        """Say on `screen` where its pane went (and copy it, when it was saved)."""
        from screens.widgets.kept import show_kept

        if copy is not None:
            self.copy_to_clipboard(copy)  # type: ignore[attr-defined]
            said += " · copied (OSC 52, if the terminal allows)"
        if screen.is_attached:
            show_kept(screen, said)
