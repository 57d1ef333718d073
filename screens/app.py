"""The fixmap console: a Textual app over the console/ engine."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding

from console.site import Site
from screens.commands import PlaybookCommands
from screens.feedback import Feedback
from screens.keeping import Keeping
from screens.messages import CatalogReady, RouterReady, SiteStateChanged
from screens.theme import readable_filters
from screens.walkthroughs import Walkthroughs

STATE_POLL_SECONDS = 15.0
ROUTER_SHOWN_WAIT_S = 2.0
"""How long the playbooks wait for the first ranking to be on screen (it takes ~20 ms)."""


class FixmapApp(Feedback, Keeping, Walkthroughs, App[int]):
    """Routes a symptom to its fix and walks it with the engineer."""

    CSS_PATH = "fixmap.tcss"
    TITLE = "fixmap"
    COMMANDS = App.COMMANDS | {PlaybookCommands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="help"),
        Binding("f2", "show_probes", "Probes", id="probes"),
        Binding("f3", "show_history", "History", id="history"),
        Binding("f4", "show_actions", "Actions", id="actions"),
        Binding("f5", "show_gates", "Gates", id="gates"),
        Binding("f6", "show_incident", "Incident", id="incident"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
        # Ctrl+S also where a text box has the focus (s is a letter there)
        Binding("s,ctrl+s", "save_pane", "Save pane", id="save", show=False),
    ]

    gc_paused = False
    """The garbage collector is off until the first frame (`run`); on_ready turns it back on."""

    def __init__(self, site: Site, *, demo: bool = False, history_worker: bool = True):
        super().__init__()
        self.site = site
        self.demo = demo
        self.history_worker = history_worker
        """History queries run in a short-lived worker process: the console's memory stays
        bounded however big the history is (console.history.worker)."""
        self._history_worker_before: bool | None = None
        self._history_worker_lock = threading.Lock()
        self.catalog: Any = None
        self.router: Any = None
        self.route_titles: dict[str, str] = {}
        """Each route's title by id from the warm cache: the first frame lists them before the
        router itself is read (right after it, in the catalogue worker)."""
        self.site_state: Any = None
        self.interrupted = 0
        self.incident: Any = None
        """The open incident as last polled (None: none open)."""
        self.gate_runs: dict[str, Any] = {}
        """The last run of each gate set in this session (the checklist ticks from them)."""
        self._interrupted_told = False
        self._site_state_started = False
        self._pending_open: str | None = None
        self._router_shown = threading.Event()
        """Set once what was typed before the router came is ranked and on screen."""
        from console.walkthrough import ProgressStore
        from screens.steps import StepRunner

        self.progress = ProgressStore()
        self.step_runner = StepRunner(self)
        self._progress: dict[str, Any] = {}
        """One Progress per playbook, shared by every walkthrough showing it."""
        self.running_steps: set[tuple[str, str]] = set()
        self.live_output: dict[tuple[str, str], list[str]] = {}
        self.sampler: Any = None
        """The child `fixmap watch` sampling the site while its config names sources."""

    @property
    def sampling(self) -> bool:
        """This console's sampler child is running."""
        return self.sampler is not None and self.sampler.poll() is None

    def get_line_filters(self):
        """Textual's filters, with every foreground kept readable (NO_COLOR and every theme)."""
        return readable_filters(super().get_line_filters())

    def on_unmount(self) -> None:
        self._router_shown.set()  # a catalogue worker still waiting for it: it may end
        if self.sampler is not None:
            import subprocess

            with contextlib.suppress(OSError):
                self.sampler.stdin.close()  # the child stops on EOF
            try:
                self.sampler.wait(timeout=3.0)
            except subprocess.TimeoutExpired:
                self.sampler.kill()
        if self._history_worker_before is not None:
            from console.history import run_in_worker_process, stop_worker

            run_in_worker_process(self._history_worker_before)
            stop_worker()

    def get_default_screen(self):
        from console.routing import cached_titles
        from screens.triage import TriageScreen

        # only the routes' titles (a few hundred bytes): the first frame lists them; the router
        # is read right after it (~20 ms, no numpy), and a cold cache is built after that
        self.route_titles = cached_titles(self.site) or {}
        return TriageScreen()

    def on_ready(self) -> None:
        if self.gc_paused:
            import gc

            # what is on the heap now is the code and the first screen, kept for the whole
            # run: frozen, no collection walks it again (a full one took ~30 ms, right when
            # the first keystrokes are ranked)
            gc.freeze()
            gc.enable()
        marker = os.environ.get("FIXMAP_BENCH_FIRST_FRAME")
        if marker:  # bench/startup.py: note when the first frame is on screen, then leave
            Path(marker).write_text(repr(time.time()), encoding="utf-8")
            self.exit()
            return
        # after the first frame: the router (what typing needs) alone, then the playbooks
        self.run_worker(
            self._load_playbooks,
            thread=True,
            group="catalog",
            exclusive=True,
            exit_on_error=False,
            description="load playbooks and router",
        )

    def _start_sampler(self) -> None:
        """The site's [history.sampling] sources into its history, in a child `fixmap watch`
        (its own process: DuckDB stays out of the console's memory; it stops when the console
        goes, even killed). Another fixmap already sampling the history: that child only reads."""
        if self.site.path is None:
            return
        from console.history import sampling_sources

        if not sampling_sources(self.site):
            return
        import subprocess
        import sys

        from console.core import data_dir

        # its rounds, one line each, as `fixmap watch` prints them (this console's run only)
        log = open(data_dir() / "sampler.log", "wb")  # noqa: SIM115 - the child owns it
        try:
            self.sampler = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "console",
                    "--config",
                    str(self.site.path),
                    "watch",
                    "--with-parent",
                ],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                start_new_session=True,  # a Ctrl+C meant for the console is not the sampler's
            )
        finally:
            log.close()

    # ------------------------------------------------------------ site state

    def _first_site_state(self) -> None:
        """The first poll, once the router is up (or its loading failed); it re-arms itself."""
        if not self._site_state_started:
            self._site_state_started = True
            self.refresh_site_state()

    def refresh_site_state(self) -> None:
        """Poll freeze / read-only state, the journal and the incident in a worker; re-armed only
        when done, so polls never pile up on a slow target."""
        site = self.site

        def work() -> None:
            state = None
            interrupted = 0
            incident = None
            try:
                if site.path is not None:
                    from console.actions import site_state

                    state = site_state(site, live=True)
            finally:
                from console.actions import read_journal
                from console.incident import current_incident

                interrupted = sum(1 for e in read_journal() if e.interrupted)
                incident = current_incident()
                self.post_message(SiteStateChanged(state, interrupted, incident))

        self.run_worker(
            work,
            thread=True,
            group="site-state",
            exclusive=True,
            exit_on_error=False,
            description="check freeze and read-only state",
        )

    def on_site_state_changed(self, message: SiteStateChanged) -> None:
        if message.state is not None:
            self.site_state = message.state
        self.interrupted = message.interrupted
        self.incident = message.incident
        if message.interrupted and not self._interrupted_told:
            self._interrupted_told = True
            self.notify(
                f"{message.interrupted} action(s) INTERRUPTED: started and never recorded an outcome. "
                "Check the target before retrying (F4, then j for the journal).",
                title="Journal",
                severity="error",
                timeout=20,
            )
        self.refresh_bars()
        self.set_timer(STATE_POLL_SECONDS, self.refresh_site_state, name="site-state")

    def refresh_bars(self) -> None:
        from screens.widgets import SiteBar

        for screen in self.screen_stack:
            for bar in screen.query(SiteBar):
                bar.refresh_bar()

    def incident_id(self) -> str | None:
        """The open incident, if any (actions key on it). Safe from worker threads."""
        from console.incident import current_id

        return current_id()

    def timeline(self, call: Any, *args: Any, **kwargs: Any) -> None:
        """Record on the open incident's timeline off the UI thread (each line is fsynced)."""

        def work() -> None:
            from console import incident

            call(incident, *args, **kwargs)

        self.run_worker(
            work,
            thread=True,
            group="timeline",
            exit_on_error=False,
            description="write the incident timeline",
        )

    def _load_playbooks(self) -> None:
        router = self._load_router()
        # the first ranking on screen before the playbooks are parsed: two threads at work at
        # once each go at half speed, and that ranking is what the engineer is waiting for
        self._router_shown.wait(ROUTER_SHOWN_WAIT_S)
        self._load_catalog(router)

    def _load_router(self) -> Any:
        """The router and its example bank from the warm cache; RouterReady either way (None:
        the cache was cold, the catalogue step builds it)."""
        router = None
        try:
            from console.routing import cached_router

            router = cached_router(self.site)
            if router is not None:
                router.bank  # noqa: B018 - read the example bank here, not on the first keystroke
                from console.triage import triage

                triage(router, None, "warm up: p95 doubled", None)  # its first call's costs too
        except Exception:  # a cache that will not read: the catalogue step builds one anew
            router = None
        finally:
            self.post_message(RouterReady(router))
        return router

    def _load_catalog(self, router: Any = None) -> None:
        """The playbooks (and the router, when its cache was cold)."""
        from console.routing import build_router, save_router

        self.site.config  # noqa: B018 - validate the (known-good) config off the first frame
        from console.playbooks import load_catalog

        catalog = load_catalog(self.site.playbook_dirs)
        if router is None:
            router = build_router(self.site, catalog)
            save_router(self.site, router)
        self.post_message(CatalogReady(catalog, router))
        self.use_history_worker()

    def use_history_worker(self) -> None:
        """From now on the history is asked in its worker process (with `history_worker`): every
        thread that is about to ask it before the playbooks are loaded calls this first, so no
        DuckDB (or numpy) ever lands in the console's own memory. Safe from any thread."""
        if not self.history_worker:
            return
        with self._history_worker_lock:
            if self._history_worker_before is None:
                from console.history import run_in_worker_process

                self._history_worker_before = run_in_worker_process(True)

    def on_router_ready(self, message: RouterReady) -> None:
        if message.router is not None and self.router is None:
            self.router = message.router
        for screen in self.screen_stack:
            if hasattr(screen, "router_ready"):
                screen.router_ready()  # what was typed meanwhile is ranked now ...
        self.call_after_refresh(self._after_router)

    def _after_router(self) -> None:
        """... and on screen: the playbooks may load now, and the site-state poll start (with
        a cold router cache it waits for them)."""
        self._router_shown.set()
        if self.router is not None:
            self._first_site_state()

    def on_catalog_ready(self, message: CatalogReady) -> None:
        self._first_site_state()  # a cold router cache: the poll waited for it
        self.catalog = message.catalog
        self.router = message.router
        for problem in self.catalog.problems[:3]:
            self.notify(problem.render(), title="Playbook problem", severity="warning", timeout=10)
        if len(self.catalog.problems) > 3:
            self.notify(
                f"{len(self.catalog.problems) - 3} more playbook problems: run "
                "'fixmap playbooks validate'",
                severity="warning",
                timeout=10,
            )
        for screen in self.screen_stack:
            if hasattr(screen, "catalog_ready"):
                screen.catalog_ready()
        if self._pending_open:
            pid, self._pending_open = self._pending_open, None
            self.open_playbook(pid)

    def on_worker_state_changed(self, event) -> None:
        """One place where a failed worker becomes a visible error."""
        from textual.worker import WorkerState

        group = event.worker.group or ""
        if group == "catalog" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._first_site_state()
        if group == "catalog" and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            # after the playbooks, loaded or not: importing the history (to read the sampling
            # sources) would compete with them for the interpreter
            self.run_worker(
                self._start_sampler,
                thread=True,
                group="sampler",
                exclusive=True,
                exit_on_error=False,
                description="start the live sampler",
            )
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED) and "@" in group:
            self.step_worker_failed(group, event.worker.error)
        if event.state == WorkerState.ERROR:
            from console.core import redact

            error = event.worker.error
            self.notify(
                redact(f"{event.worker.description}: {error}"),
                title="Failed",
                severity="error",
                timeout=15,
            )

    # ------------------------------------------------------------ navigation

    def open_playbook(self, playbook_id: str) -> None:
        if self.catalog is None:
            self._pending_open = playbook_id
            self.notify("Loading playbooks…", timeout=2)
            return
        pb = self.catalog.get(playbook_id)
        if pb is None:
            self.notify(
                f"No playbook '{playbook_id}' (it failed to load: see 'fixmap playbooks validate')",
                severity="error",
            )
            return
        from screens.walkthrough import WalkthroughScreen

        self.push_screen(WalkthroughScreen(pb, self.progress_for(pb)))
        self.timeline(lambda inc: inc.record_route(pb.id, pb.title))

    def get_system_commands(self, screen):
        """The palette also goes to every screen (the F-keys, by name)."""
        from textual.app import SystemCommand

        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Probes (F2)", "Run the site's probes, one or all", self.action_show_probes
        )
        yield SystemCommand(
            "History (F3)", "What changed, named queries, SQL", self.action_show_history
        )
        yield SystemCommand(
            "Actions (F4)", "Rollback, freeze, read-only…; the journal", self.action_show_actions
        )
        yield SystemCommand(
            "Gates (F5)", "Go / no-go on the acceptance targets", self.action_show_gates
        )
        yield SystemCommand(
            "Incident (F6)", "Timeline, notes, drafts, export", self.action_show_incident
        )

    def _go_to(self, screen_type: type) -> None:
        """Show the screen of that type: back to it if it is open already, else a new one."""
        for i, screen in enumerate(self.screen_stack):
            if isinstance(screen, screen_type):
                while len(self.screen_stack) > i + 1:
                    self.pop_screen()
                return
        self.push_screen(screen_type())

    def action_show_probes(self) -> None:
        from screens.probes import ProbesScreen

        self._go_to(ProbesScreen)

    def action_show_history(self) -> None:
        from screens.history import HistoryScreen

        self._go_to(HistoryScreen)

    def action_show_actions(self) -> None:
        from screens.actions import ActionsScreen

        self._go_to(ActionsScreen)

    def action_show_gates(self) -> None:
        from screens.gates import GateScreen

        self._go_to(GateScreen)

    def action_show_incident(self) -> None:
        from screens.incident import IncidentScreen

        self._go_to(IncidentScreen)

    def action_help(self) -> None:
        from screens.dialogs import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.screen))


def run(site: Site, **kwargs: Any) -> int:
    import gc

    # No garbage collection until the first frame (on_ready freezes the heap, then turns it
    # back on): with the engine imported on top of Textual, a full collection of the whole
    # import-time heap used to land in the first frame (~15-35 ms), then in the first ranking.
    app = FixmapApp(site, **kwargs)
    app.gc_paused = gc.isenabled()
    gc.disable()
    try:
        result = app.run()
    finally:
        if app.gc_paused:
            gc.enable()
    return int(result or app.return_code or 0)
