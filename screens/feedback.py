"""Toasts that cover nothing the engineer reads, and keys that say why they cannot act.

A toast is one short line on the site bar's row (the top line of every screen: where no result
is; fixmap.tcss places it), lasts a few seconds, and names its severity in a word-sized mark
(`✗`, `!`) so it reads without colour. While a dialog is open, toasts wait: they show when it
closes, over the screen behind it, never over the dialog.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.notifications import Notification, Notify
from textual.screen import ModalScreen

TOAST_SECONDS = {"information": 4.0, "warning": 6.0, "error": 10.0}
"""How long a toast stays, at most, by severity (the site bar is hidden meanwhile)."""
MARK = {"information": "", "warning": "! ", "error": "✗ "}
NO_SITE = "Give --config PATH, or run `fixmap demo` to try one."


def toast_line(message: str, title: str = "", severity: str = "information") -> str:
    """A notification as the one line its toast shows: mark, title, message."""
    text = " · ".join(part.strip() for part in str(message).splitlines() if part.strip())
    if title:
        text = f"{title}: {text}"
    return MARK.get(severity, "") + text


class Feedback:
    """Mixed into the App: where toasts go, and the one way a key says it cannot act."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held_toasts: list[Notification] = []
        """Raised while a dialog was open; shown when it closes."""
        self.last_toast: str = ""
        """The newest toast's line (tests and `tui screen` read what was said)."""

    def notify(  # type: ignore[override]
        self,
        message: str,
        *,
        title: str = "",
        severity: str = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        cap = TOAST_SECONDS.get(severity, 6.0)
        line = toast_line(message, title, severity)
        super().notify(  # type: ignore[misc]
            line,
            title="",
            severity=severity,  # type: ignore[arg-type]
            timeout=min(timeout, cap) if timeout else cap,
            markup=markup,
        )

    def _on_notify(self, event: Notify) -> None:
        self.last_toast = event.notification.message
        if isinstance(self.screen, ModalScreen):  # type: ignore[attr-defined]
            self.held_toasts.append(event.notification)
            return
        super()._on_notify(event)  # type: ignore[misc]

    def _refresh_notifications(self) -> None:
        if isinstance(self.screen, ModalScreen):  # type: ignore[attr-defined]
            # a dialog came up over toasts: they wait for it too, their time not yet spent
            waiting = list(self._notifications)  # type: ignore[attr-defined]
            for notification in waiting:
                self._unnotify(notification, refresh=False)  # type: ignore[attr-defined]
            self.held_toasts.extend(waiting)
            return
        super()._refresh_notifications()  # type: ignore[misc]

    def pop_screen(self) -> Any:
        done = super().pop_screen()  # type: ignore[misc]
        self.call_later(self._show_held_toasts)  # type: ignore[attr-defined]
        return done

    def _show_held_toasts(self) -> None:
        if not self.held_toasts or isinstance(self.screen, ModalScreen):  # type: ignore[attr-defined]
            return
        held, self.held_toasts = self.held_toasts, []
        for notification in held:  # their time starts now, on a screen that shows them
            fresh = dataclasses.replace(notification, raised_at=_now())
            super()._on_notify(Notify(fresh))  # type: ignore[misc]

    def cannot(self, why: str) -> None:
        """A key that cannot act now says why (a warning toast), instead of doing nothing."""
        self.notify(why, severity="warning")


def _now() -> float:
    import time

    return time.time()
