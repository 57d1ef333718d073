"""Triage: 'What do you see?' — type a symptom, get ranked fix routes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from console.playbooks import DEPLOY_TRAPS, QUICK_ROUTES
from screens.widgets import KeyFooter, SiteBar


class TriageScreen(Screen):
    """The first screen: one question, one input, the routes that answer it."""

    HELP = """
## Triage

Type **what you see** — in your own words, abbreviations welcome
(`p95 doubled after deploy`, `429 storm`, `answers cite old docs`).
The routes below re-rank as you type; each says *why* it matched.

- **↑ / ↓** choose a route, **Enter** opens it (the top one by default).
- **Esc** clears the input and shows the seed's quick routes again.
- **Ctrl+P** opens any playbook by name.
- **Ctrl+Q** quits. Your progress in every walkthrough is saved as you go.
"""

    BINDINGS = [
        Binding("down", "cursor(1)", "Next", show=False, id="triage.next"),
        Binding("up", "cursor(-1)", "Prev", show=False, id="triage.prev"),
        Binding("enter", "open", "Open route", id="triage.open"),
        Binding("escape", "clear", "Clear", id="triage.clear"),
        Binding("ctrl+p", "command_palette", "Playbooks", id="triage.palette"),
    ]

    def compose(self) -> ComposeResult:
        yield SiteBar()
        yield Label("What do you see?", id="question")
        yield Input(placeholder="e.g. answers cite old snippets after the index swap", id="symptom")
        yield Label("", id="results-title")
        yield OptionList(id="routes")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show_quick_routes()
        self.query_one(Input).focus()
        if self.app.site.path is None and not getattr(self.app, "demo", False):
            from console.site import NO_CONFIG_HINT

            self.notify(NO_CONFIG_HINT, title="Offline", timeout=6)

    # ------------------------------------------------------------ content

    def _titles(self) -> dict[str, str]:
        catalog = self.app.catalog
        if catalog is not None:
            return {pb.id: pb.title for pb in catalog}
        router = self.app.router  # from the warm cache, before the playbooks are parsed
        return dict(zip(router.ids, router.titles, strict=True)) if router is not None else {}

    def show_quick_routes(self) -> None:
        titles = self._titles()
        routes = self.query_one(OptionList)
        width = max((routes.size.width or self.app.size.width - 2) - 4, 40)
        options: list[Option | None] = []
        for scenario, pid in QUICK_ROUTES:
            options.append(Option(_route_line(scenario, titles.get(pid, pid), width), id=pid))
        options.append(None)
        for scenario, pid in DEPLOY_TRAPS:
            options.append(Option(_route_line(scenario, titles.get(pid, pid), width), id=pid))
        routes.set_options(options)
        routes.highlighted = 0
        self.query_one("#results-title", Label).update(
            "Quick routes · type to search · Enter opens"
        )

    def show_results(self, query: str) -> None:
        routes = self.query_one(OptionList)
        title = self.query_one("#results-title", Label)
        router = self.app.router
        if router is None:
            title.update("Loading routes…")
            return
        results = router.route(query, top=8)
        if not results:
            routes.clear_options()
            title.update("No route matches — try other words, or Ctrl+P for every playbook")
            return
        options = []
        width = max((routes.size.width or self.app.size.width - 2) - 4, 40)
        for i, r in enumerate(results, 1):
            line = Text()
            line.append(_clip(f"{i}. {r.title}", width - 6), style="bold" if i == 1 else "")
            line.append(f"  {r.score:.2f}", style="dim")
            line.append("\n   " + _clip(r.why, width - 3), style="dim")
            options.append(Option(line, id=r.id))
        routes.set_options(options)
        routes.highlighted = 0
        title.update(f"Best routes for “{_clip(query, 40)}” · ↑↓ choose · Enter opens")

    def catalog_ready(self) -> None:
        query = self.query_one(Input).value
        if query.strip():
            self.show_results(query)
        else:
            self.show_quick_routes()

    # ------------------------------------------------------------ events

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self.show_results(event.value)
        else:
            self.show_quick_routes()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_open()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.open_playbook(event.option.id)

    def action_cursor(self, delta: int) -> None:
        routes = self.query_one(OptionList)
        if routes.option_count == 0:
            return
        if delta > 0:
            routes.action_cursor_down()
        else:
            routes.action_cursor_up()

    def action_open(self) -> None:
        option = self.query_one(OptionList).highlighted_option
        if option is not None and option.id:
            self.app.open_playbook(option.id)

    def action_clear(self) -> None:
        self.query_one(Input).value = ""
        self.query_one(Input).focus()

    def action_command_palette(self) -> None:
        self.app.action_command_palette()


def _route_line(scenario: str, title: str, width: int = 74) -> Text:
    line = Text()
    line.append(f"{scenario:<20}", style="bold")
    line.append(" " + _clip(title, width - 21), style="dim")
    return line


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
