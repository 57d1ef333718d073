"""Triage: 'What do you see?' — the live evidence (a probe sweep and what changed, started as
the screen opens) and what is typed or pasted, ranked into fix routes with their reasons."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from console.playbooks import DEPLOY_TRAPS, QUICK_ROUTES
from screens.feedback import NO_SITE
from screens.triage_resume import ResumeLine
from screens.widgets import KeyFooter, SiteBar
from screens.widgets.progress import TICK_S, progress_text

EVIDENCE_TIMEOUT_S = 8.0
"""The sweep's deadline: probes still running then are stopped and said to be."""


class EvidenceStarted(Message):
    """The sweep started (there is something to probe or a history to ask)."""


class EvidenceReady(Message):
    """The probe sweep and what changed finished (posted from the evidence worker)."""

    def __init__(self, evidence: Any) -> None:
        super().__init__()
        self.evidence = evidence


class TriageScreen(ResumeLine, Screen):
    """The first screen: one question, one input, the evidence and the routes that answer it."""

    DEFAULT_CSS = """
    TriageScreen #evidence {
        padding: 0 1;
        height: auto;
        max-height: 6;
        color: $text;
    }
    TriageScreen #evidence.-empty, TriageScreen #resume.-empty {
        display: none;
    }
    TriageScreen #resume {
        padding: 0 1;
        height: auto;
        text-style: bold;
    }
    """

    HELP = """
## Triage

Type **what you see** — in your own words, abbreviations welcome
(`p95 doubled after deploy`, `429 storm`, `answers cite old docs`), or paste
the alert, the exception or the log line. The routes below re-rank as you
type; each says *why* it matched. When nothing matches, nothing is ranked:
the screen says so and suggests symptoms to try. What you type goes into the
box wherever the cursor is on this screen, even while the console starts.

With a site configured, the screen probes the site and asks the history what
changed as soon as it opens (in the background, at most 8 s). What it finds is
the **Evidence** block — a failing probe, a metric that left its baseline —
each with the route that addresses it; evidence and text rank together.

- **↑ / ↓** choose a route, **Enter** opens it (the top one by default).
- **Esc** clears the input and shows the seed's quick routes again (or the
  routes the evidence points at).
- **Ctrl+R** probes the site again and asks again what changed.
- **Ctrl+P** opens any playbook by name.
- With a walkthrough in progress, the **resume** line names it and how far it got:
  **Ctrl+O** opens it, **Ctrl+N** starts it over (every step back to pending, after a yes).
- **Ctrl+Q** quits. Your progress in every walkthrough is saved as you go.
"""

    AUTO_FOCUS = ""  # the symptom takes the focus in on_mount, behind the keys typed ahead

    BINDINGS = [
        Binding("down", "cursor(1)", "Next", show=False, id="triage.next"),
        Binding("up", "cursor(-1)", "Prev", show=False, id="triage.prev"),
        Binding("enter", "open", "Open route", id="triage.open"),
        Binding("escape", "clear", "Clear", id="triage.clear"),
        Binding("ctrl+p", "command_palette", "Playbooks", id="triage.palette"),
        Binding("ctrl+r", "refresh_evidence", "Re-probe", id="triage.evidence"),
        # named on the resume line itself, which shows only when there is one
        Binding("ctrl+o", "resume", "Resume walkthrough", show=False, id="triage.resume"),
        Binding("ctrl+n", "start_over", "Start it over", show=False, id="triage.start_over"),
    ]

    def compose(self) -> ComposeResult:
        yield SiteBar()
        yield Label("What do you see?", id="question")
        # not selected on focus: a key typed with the focus elsewhere (or typed ahead) goes in
        # and the next one must not replace it; Esc clears the box
        yield Input(
            placeholder="e.g. answers cite old snippets after the index swap",
            id="symptom",
            select_on_focus=False,
        )
        # the resume line and the evidence block come when they have something to say (`_box`)
        yield Label("", id="results-title")
        yield OptionList(id="routes")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.evidence: Any = None
        self.resumable: list[Any] = []
        """Walkthroughs in progress, the latest change first (the resume line shows the first)."""
        self.sweep_started = 0.0
        self._sweep_timer: Any = None
        self.set_interval(15, self._age_evidence)  # "3m ago" keeps counting
        self._cancel = threading.Event()
        self._evidence_started = False
        self._rank_due = False
        self.show_quick_routes()
        # the focus comes behind any key already sent to this screen (typed ahead while the
        # console started): `on_key` keeps those, and they go into the symptom first
        self._typed_ahead: list[str] | None = []
        self.call_later(self._symptom_ready)
        if self.app.site.path is None and not getattr(self.app, "demo", False):
            from console.site import NO_CONFIG_HINT

            self.notify(NO_CONFIG_HINT, title="Offline", timeout=6)
        if self.app.router is not None:  # the router was in before this screen
            self.router_ready()

    def router_ready(self) -> None:
        """The router is in (or its cache was cold): rank what is typed; then start the sweep
        (its imports, httpx and duckdb, delay neither the first frame nor that ranking)."""
        if self.app.router is not None:
            self.rank_typed()
        if not self._evidence_started and self.app.site.path is not None:
            self._evidence_started = True
            self.call_after_refresh(self.start_evidence)

    def on_unmount(self) -> None:
        self._cancel.set()

    def action_refresh_evidence(self) -> None:
        """Sweep again: the last sweep (if still running) is stopped first."""
        if self.app.site.path is None:
            self.app.cannot("Ctrl+R: no site config, so nothing to probe. " + NO_SITE)
            return
        self._cancel.set()
        self._cancel = threading.Event()
        self.start_evidence()

    # ------------------------------------------------------------ evidence

    def start_evidence(self) -> None:
        """Probe the site and ask what changed, in a thread worker bounded by a deadline."""
        site, cancel, app = self.app.site, self._cancel, self.app

        def work() -> None:
            use_worker = getattr(app, "use_history_worker", None)
            if use_worker is not None:  # the console: what changed runs in its worker process
                use_worker()
            from console.history import default_db_path
            from console.triage import Evidence, gather_evidence

            if not site.config.probes and not default_db_path(site).exists():
                self.post_message(EvidenceReady(Evidence()))  # nothing to look at
                return
            self.post_message(EvidenceStarted())
            evidence = gather_evidence(site, timeout=EVIDENCE_TIMEOUT_S, cancel=cancel)
            if not cancel.is_set() or evidence.findings:
                self.post_message(EvidenceReady(evidence))

        self.run_worker(
            work,
            thread=True,
            group="triage-evidence",
            exclusive=True,
            exit_on_error=False,
            description="probe sweep and what changed",
        )

    def on_evidence_started(self, message: EvidenceStarted) -> None:
        self.sweep_started = time.monotonic()
        self._show_sweep()
        if self._sweep_timer is not None:
            self._sweep_timer.stop()
        self._sweep_timer = self.set_interval(TICK_S, self._show_sweep, name="evidence-progress")

    def _show_sweep(self) -> None:
        """Until the first evidence is in: the sweep is running, and for how long."""
        if self.evidence is None and self.sweep_started:
            line = progress_text(
                "Evidence · probing the site, asking what changed…", self.sweep_started
            )
            self._show_evidence_text(Text(line, style="dim"))

    def on_evidence_ready(self, message: EvidenceReady) -> None:
        self.evidence = message.evidence
        if self._sweep_timer is not None:
            self._sweep_timer.stop()
            self._sweep_timer = None
        # late evidence re-ranks, but keeps the route the engineer has the cursor on
        routes = self.query_one(OptionList)
        option = routes.highlighted_option
        chosen = option.id if option is not None and routes.highlighted else None
        self.catalog_ready()
        if chosen:
            from textual.widgets.option_list import OptionDoesNotExist

            with contextlib.suppress(OptionDoesNotExist):  # that route is no longer listed
                routes.highlighted = routes.get_option_index(chosen)

    def _age_evidence(self) -> None:
        if self.evidence is not None and self.is_current:
            last = getattr(self, "_last_result", None)
            self._render_evidence(
                last if last is not None and last.evidence is self.evidence else None
            )

    def _box(self, box_id: str, shown: bool) -> Static | None:
        """The resume line or the evidence block (in that order, above the routes), mounted the
        first time it is shown: two hidden widgets cost the first frame ~6 ms."""
        found = self.query(f"#{box_id}")
        if found:
            return found.first(Static)
        if not shown:
            return None
        box = Static("", id=box_id, classes="-empty")
        later = self.query("#evidence") if box_id == "resume" else None
        self.mount(box, before=later.first() if later else self.query_one("#results-title"))
        return box

    def _show_evidence_text(self, text: Text | None) -> None:
        box = self._box("evidence", text is not None)
        if box is not None:
            box.set_class(text is None, "-empty")
            box.update(text or "")

    def _render_evidence(self, result: Any) -> None:
        if result is not None:
            self._last_result = result
        ev = result.evidence if result is not None else self.evidence
        if ev is None:
            return
        if not ev.checked:  # no probes and no history: nothing was looked at, say nothing
            self._show_evidence_text(None)
            return
        width = max(self.app.size.width - 4, 40)
        text = Text()
        taken = ev.taken()
        head = f"Evidence ({taken}, ^r again)" if taken else "Evidence"
        head += " · " + ("; ".join(ev.checked) or "nothing to look at")
        text.append(_clip(head, width), style="bold")
        for f in ev.findings[:4]:
            to = result.pointers.get(f.text) if result is not None else None
            arrow = f" → {to[0]}" if to else ""
            style = "bold" if f.strength >= 1 else ("dim" if f.strength == 0 else "")
            text.append("\n  " + _clip(f.text, max(width - 2 - len(arrow), 20)), style=style)
            text.append(arrow, style="bold")
        if not ev.findings:
            text.append("\n  nothing failing, nothing changed", style="dim")
        for p in ev.problems[:1]:
            text.append("\n  " + _clip(p, width - 2), style="dim")
        self._show_evidence_text(text)

    # ------------------------------------------------------------ content

    def _titles(self) -> dict[str, str]:
        catalog = self.app.catalog
        if catalog is not None:
            return {pb.id: pb.title for pb in catalog}
        router = self.app.router  # from the warm cache, before the playbooks are parsed
        if router is not None:
            return dict(zip(router.ids, router.titles, strict=True))
        return getattr(self.app, "route_titles", {})  # the first frame's, before the router

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

    def triage(self, query: str) -> Any:
        """Text and evidence ranked together (None until the router has loaded, or while
        evidence waits for the playbooks that say which routes it points at)."""
        router, catalog = self.app.router, self.app.catalog
        if router is None:
            return None
        from console.triage import Evidence, gate_findings, triage

        evidence = self.evidence
        runs = list(getattr(self.app, "gate_runs", {}).values())
        if runs:  # a gate run this session: its failing targets are evidence too
            found = gate_findings(runs, self.app.site)
            if found:
                evidence = (evidence or Evidence(checked=["gate runs this session"])).plus(found)
        if catalog is None and evidence is not None and evidence.findings:
            return None
        return triage(router, catalog, query, evidence, top=8)

    def show_results(self, query: str) -> None:
        routes = self.query_one(OptionList)
        title = self.query_one("#results-title", Label)
        result = self.triage(query)
        if result is None:
            title.update("Loading routes…")
            return
        self._render_evidence(result)
        if not result.matched:
            routes.clear_options()  # nothing ranked: Enter opens nothing
            tries = "".join(f"\n  try “{_clip(t, 70)}”" for t in result.suggestions[:3])
            title.update(f"No route matches “{_clip(query, 40)}” · Ctrl+P: every playbook{tries}")
            return
        self._show_ranked(result.routes)
        title.update(f"Best routes for “{_clip(query, 40)}” · ↑↓ choose · Enter opens")

    def show_evidence_routes(self) -> bool:
        """With nothing typed: the routes the evidence points at, if it points at any."""
        result = self.triage("")
        if result is None:
            return False
        self._render_evidence(result)
        if not result.matched:
            return False
        self._show_ranked(result.routes[:5])
        self.query_one("#results-title", Label).update(
            "Routes from the evidence · type to add what you see · Enter opens"
        )
        return True

    def _show_ranked(self, ranked: list[Any]) -> None:
        routes = self.query_one(OptionList)
        options = []
        width = max((routes.size.width or self.app.size.width - 2) - 4, 40)
        for i, r in enumerate(ranked, 1):
            line = Text()
            line.append(_clip(f"{i}. {r.title}", width - 6), style="bold" if i == 1 else "")
            line.append(f"  {r.score:.2f}", style="dim")
            # the strongest evidence, and what the words matched when they did
            shown = r.reasons[:1] + (
                r.reasons[-1:] if r.text_score > 0 and len(r.reasons) > 1 else []
            )
            why = "; ".join(shown)
            line.append("\n   " + _clip(why, width - 3), style="dim")
            options.append(Option(line, id=r.id))
        routes.set_options(options)
        routes.highlighted = 0

    def catalog_ready(self) -> None:
        self.find_resumable()
        self.rank_typed()

    # ------------------------------------------------------------ events

    def on_key(self, event: events.Key) -> None:
        """A printable key that reached the screen reached no text box: it goes into the
        symptom. Typed ahead while the console starts (the keys come before the input has the
        focus, and were lost), or typed with the cursor in the route list: type to search."""
        if not (event.is_printable and event.character):
            return
        event.stop()
        if self._typed_ahead is not None:  # the input is not up yet: kept, in order
            self._typed_ahead.append(event.character)
            return
        box = self.query_one(Input)
        box.focus()
        box.insert_text_at_cursor(event.character)

    def _symptom_ready(self) -> None:
        typed, self._typed_ahead = self._typed_ahead or [], None
        box = self.query_one(Input)
        if typed:
            box.insert_text_at_cursor("".join(typed))
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        # ranked once per burst: keys that came in together (typed fast, or all at once in a
        # slow terminal) are ranked as the text they make, not one prefix after another
        if not self._rank_due:
            self._rank_due = True
            self.call_later(self.rank_typed)

    def rank_typed(self) -> None:
        """Rank what the input holds now (or, when it is empty, what the evidence points at)."""
        self._rank_due = False
        value = self.query_one(Input).value
        if value.strip():
            self.show_results(value)
        elif not self.show_evidence_routes():
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
        elif self.app.router is None:
            self.app.cannot("Enter: the routes are still loading; try again in a moment.")
        else:
            self.app.cannot("Enter: no route is listed to open. Ctrl+P opens any playbook.")

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
