"""Small widgets shared by the screens."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from screens.theme import style


class SiteBar(Widget):
    """One line on every screen: which site this console talks to (and, later, its state)."""

    DEFAULT_CSS = """
    SiteBar { height: 1; width: 1fr; background: $panel; color: $text; padding: 0 1; }
    """

    def refresh_bar(self) -> None:
        """Draw it again from the app's current state (a repaint: its height never changes)."""
        self.refresh()

    @property
    def content(self) -> Text:
        """The bar's text, as it is drawn now."""
        return self.render()

    def render(self) -> Text:
        site = self.app.site
        text = Text()
        text.append("fixmap", style="bold")
        if site.path is None:
            if getattr(self.app, "demo", False):
                text.append("  demo: playbooks only")
            else:
                text.append("  no site config", style="bold")
                text.append(" · playbooks offline · fixmap demo to try")
        else:
            text.append(f"  site {site.site_name}")
            service = site.default_service
            if service:
                text.append(f" · {service}")
            state = getattr(self.app, "site_state", None)
            if state is not None:
                if state.frozen:
                    text.append("  ")
                    text.append(" FROZEN ", style="bold reverse")
                if state.read_only:
                    text.append("  ")
                    text.append(" READ-ONLY ", style="bold reverse")
        inc = getattr(self.app, "incident", None)
        if inc is not None:
            text.append("  ")
            text.append(f" {inc.severity} ", style="bold reverse")
            text.append(f" {inc.id[-9:]} {inc.age_text()}", style="bold")
        interrupted = getattr(self.app, "interrupted", 0)
        if interrupted:
            text.append("  ")
            text.append(f" {interrupted} INTERRUPTED ", style=style("bad"))
        return text
