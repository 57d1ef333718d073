"""Walkthrough: one playbook's steps, their status, and the selected step's guidance."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Markdown, OptionList
from textual.widgets.option_list import Option

from console.playbooks import Playbook, Step, step_does
from console.walkthrough import Progress
from screens.widgets import STATUS_GLYPH, STATUS_STYLE, SiteBar

PROGRESS_POLL_SECONDS = 3.0


def _md_escape(text: str) -> str:
    for ch in "\\`*_[]<>|":
        text = text.replace(ch, "\\" + ch)
    return text


class WalkthroughScreen(Screen):
    """Steps on the left, guidance on the right; every mark is saved at once."""

    HELP = """
## Walkthrough

The playbook's steps, in order, with their status:
`○` pending · `✓` done · `»` skipped · `✗` failed.
The right pane shows the selected step: what to look at, which number means
what, what to do next.

- **↑ / ↓** select a step · **d** done · **s** skip · **x** failed · **u** back to pending
- **Enter** on a route step opens that playbook; on a probe, query or action
  step it runs it (once the site has configured it)
- **n** jumps to what comes next, as the line under the title says: after a red
  verdict, the step that addresses it (the mitigation); after a mitigation, the
  red step to re-check; otherwise the next open step
- A step that names a probe, action, query or gate set this site lacks says
  *not configured here*, with the TOML to add to the site config
- **r** related playbooks · **z** zoom the guidance to full width (again: the list)
- **Esc** back to triage
- Progress is saved on every mark: leave, come back, even restart — you are
  where you left off.
"""

    BINDINGS = [
        Binding("d", "mark('done')", "Done", id="walk.done"),
        Binding("s", "mark('skipped')", "Skip", id="walk.skip"),
        Binding("x", "mark('failed')", "Failed", id="walk.failed"),
        Binding("u", "mark('pending')", "Undo", show=False, id="walk.undo"),
        Binding("enter", "run_step", "Run/Open", id="walk.run"),
        Binding("n", "next_step", "Next", id="walk.next"),
        Binding("r", "related", "Related", id="walk.related"),
        Binding("z", "zoom", "Zoom", id="walk.zoom"),
        Binding("escape", "back", "Back", id="walk.back"),
    ]

    def __init__(self, playbook: Playbook, progress: Progress) -> None:
        super().__init__()
        self.playbook = playbook
        self.progress = progress

    def compose(self) -> ComposeResult:
        yield SiteBar()
        yield Label(self._heading(), id="walk-title")
        yield Label("", id="walk-next")
        with Horizontal(id="walk-body"):
            yield OptionList(id="steps")
            with VerticalScroll(id="guide-pane"):
                yield Markdown(id="guide")
        yield Footer()

    def on_mount(self) -> None:
        # another console on this data dir (or `fixmap step`) may mark steps meanwhile
        self.set_interval(PROGRESS_POLL_SECONDS, lambda: self.app.poll_progress(self.progress))
        self._fill_steps()
        steps = self.query_one("#steps", OptionList)
        ids = [s.id for s in self.playbook.steps]
        cursor = self.progress.cursor or self.progress.next_open(self.playbook) or ids[0]
        steps.highlighted = ids.index(cursor)
        steps.focus()
        self._show_step(cursor)

    # ------------------------------------------------------------ rendering

    def _heading(self) -> Text:
        """Progress first (it must survive a narrow terminal), then the title."""
        counts = self.progress.counts(self.playbook)
        total = len(self.playbook.steps)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{counts['done']}/{total} done", style="bold")
        if counts["skipped"]:
            text.append(f" · {counts['skipped']} skipped", style="dim")
        if counts["failed"]:
            text.append(f" · {counts['failed']} failed", style="bold red reverse")
        text.append("  ")
        text.append(self.playbook.title, style="bold")
        return text

    def _step_line(self, index: int, step: Step) -> Text:
        status = self.progress.status(step.id)
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{STATUS_GLYPH[status]} ", style=STATUS_STYLE[status])
        line.append(f"{index:>2} ", style="dim")
        line.append(step.title, style="dim" if status == "skipped" else "")
        return line

    def _fill_steps(self) -> None:
        steps = self.query_one("#steps", OptionList)
        highlighted = steps.highlighted
        steps.set_options(
            Option(self._step_line(i, s), id=s.id) for i, s in enumerate(self.playbook.steps, 1)
        )
        if highlighted is not None:
            steps.highlighted = highlighted
        self.query_one("#walk-title", Label).update(self._heading())
        self._show_next()

    def _next(self):
        """What comes next (the engine decides): console.walkthrough.Next, or None."""
        return self.app.walkthrough_of(self.playbook).next(self.app.catalog)

    def _show_next(self) -> None:
        nxt = self._next()
        label = self.query_one("#walk-next", Label)
        label.display = nxt is not None
        if nxt is None:
            return
        current = self._current()
        here = current is not None and nxt.step == current.id
        key = "Enter" if here or nxt.playbook else "n"
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{nxt.text()} ({key})", style="bold")
        if nxt.why != "next open step":
            text.append(f"  {nxt.why}", style="dim")
        label.update(text)

    def _guidance(self, step: Step) -> str:
        index = [s.id for s in self.playbook.steps].index(step.id) + 1
        status = self.progress.status(step.id)
        parts = [f"**{index}. {step.title}**", ""]
        parts.append(f"`{step.kind}` · status **{status}**")
        parts.append("")
        if step.kind in ("probe", "query", "action", "gate"):
            does = step_does(step)
            parts.append(does[:1].upper() + does[1:])
            parts.append("")
            note = self._configured_note(step)
            if note:
                parts.append(f"> {note}")
                parts.append("")
                toml = self._toml_to_add(step)
                if toml:
                    parts += ["Add to the site config (then change every CHANGE-ME):", ""]
                    parts += ["```toml", toml, "```", ""]
        elif step.kind == "route":
            target = self.app.catalog.get(step.to) if self.app.catalog else None
            name = target.title if target else step.to
            when = f" — {step.when}" if step.when else ""
            parts.append(f"**Enter** opens *{name}*{when}.")
            parts.append("")
        elif step.kind == "check":
            parts.append("Check it by hand, then press **d** (or **x** if it does not hold).")
            parts.append("")
        if step.gate:
            gate = self.playbook.gate(step.gate)
            fail = f" · hard stop `{gate.fail}`" if gate.fail else ""
            parts.append(f"**Gate:** {gate.label}: pass `{gate.pass_}`{fail}")
            if gate.note:
                parts.append(f"_{gate.note}_")
            parts.append("")
        last = self.progress.results.get(step.id)
        if self._step_running(step.id):
            parts.append("> **Running…** the console stays live; the result lands here.")
            parts.append("")
            live = self.app.live_output.get((self.playbook.id, step.id), [])
            parts.extend(f"- {_md_escape(line)}" for line in live)
            parts.append("")
        elif last:
            parts.append("**Last result**")
            parts.append("")
            parts.extend(f"- {_md_escape(line.strip())}" for line in last)
            parts.append("")
        if step.body.strip():
            parts.append(step.body.strip())
        return "\n".join(parts)

    def _configured_note(self, step: Step) -> str | None:
        """Why this step cannot run here yet, or None when it can (the engine decides)."""
        from console.walkthrough import not_runnable

        return not_runnable(self.app.site, step)

    def _toml_to_add(self, step: Step) -> str:
        """The site-config TOML that gives this step what it lacks ('' when none would)."""
        from console.doctor import action_uses, missing_toml
        from console.walkthrough import missing

        need = missing(self.app.site, step)
        if need is None:
            return ""
        uses = action_uses(self.app.catalog) if self.app.catalog is not None else None
        return missing_toml(self.app.site, need, uses)

    def _show_step(self, step_id: str) -> None:
        step = self.playbook.step(step_id)
        self.query_one("#guide", Markdown).update(self._guidance(step))
        self.query_one("#guide-pane", VerticalScroll).scroll_home(animate=False)

    def _current(self) -> Step | None:
        option = self.query_one("#steps", OptionList).highlighted_option
        return self.playbook.step(option.id) if option is not None and option.id else None

    # ------------------------------------------------------------ events

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.progress.cursor = event.option.id
            self._show_step(event.option.id)
            self._show_next()
            self._save()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_run_step()

    def catalog_ready(self) -> None:
        step = self._current()
        if step is not None:
            self._show_step(step.id)

    # ------------------------------------------------------------ actions

    def action_mark(self, status: str) -> None:
        step = self._current()
        if step is None:
            return
        walk = self.app.walkthrough_of(self.playbook)
        walk.set_status(step.id, status)
        self._save()
        args, kwargs = walk.mark_event(step, status)
        self.app.timeline(lambda inc: inc.record_step(*args, **kwargs))
        self._fill_steps()
        if status in ("done", "skipped"):
            nxt = self.progress.next_open(self.playbook, after=step.id)
            if nxt is not None:
                self.query_one("#steps", OptionList).highlighted = [
                    s.id for s in self.playbook.steps
                ].index(nxt)
            else:
                self.notify("Every step is settled.", title=self.playbook.title)
        self._show_step(self._current().id)  # type: ignore[union-attr]

    def action_run_step(self) -> None:
        step = self._current()
        if step is None:
            return
        if step.kind == "route":
            self.app.open_playbook(step.to)
            return
        if step.kind in ("read", "check"):
            self.action_mark("done")
            return
        note = self._configured_note(step)
        if note:
            self.notify(
                note.replace("`", "") + " What to add is in the guidance (z: full width).",
                title=f"Not configured here: {step.kind} step",
                severity="warning",
            )
            return
        if self._step_running(step.id):
            self.notify("Already running.", timeout=2)
            return
        self.app.running_steps.add((self.playbook.id, step.id))
        self._show_step(step.id)
        self.app.step_runner.run(self.playbook, step)

    def _step_running(self, step_id: str) -> bool:
        return (self.playbook.id, step_id) in self.app.running_steps

    def refresh_step(self, step_id: str) -> None:
        """Redraw the guidance if it shows this step (live output, a cancelled run)."""
        current = self._current()
        if current is not None and current.id == step_id:
            self._show_step(step_id)

    def refresh_all(self) -> None:
        """The shared progress changed (a result landed, another view marked a step)."""
        self._fill_steps()
        current = self._current()
        if current is not None:
            self._show_step(current.id)

    def on_screen_resume(self) -> None:
        self.refresh_all()

    def action_next_step(self) -> None:
        """Jump to what comes next: the mitigation after a red verdict, the red step after
        its mitigation, else the next open step (another playbook: open it)."""
        nxt = self._next()
        if nxt is None:
            self.notify("Every step is settled.", title=self.playbook.title)
            return
        if nxt.playbook:
            self.app.open_playbook(nxt.playbook)
            return
        ids = [s.id for s in self.playbook.steps]
        self.query_one("#steps", OptionList).highlighted = ids.index(nxt.step)

    def action_related(self) -> None:
        from screens.dialogs import PickDialog

        catalog = self.app.catalog
        ids = [pid for pid in self.playbook.related if catalog is None or pid in catalog]
        ids += [s.to for s in self.playbook.steps if s.kind == "route" and s.to not in ids]
        if not ids:
            self.notify("This playbook names no related routes.")
            return
        choices = [(pid, catalog[pid].title if catalog and pid in catalog else pid) for pid in ids]

        def chosen(pid: str | None) -> None:
            if pid:
                self.app.open_playbook(pid)

        self.app.push_screen(PickDialog("Related playbooks", choices), chosen)

    def action_zoom(self) -> None:
        """Give the guidance the whole width (80 columns are tight for tables)."""
        self.toggle_class("-zoom")
        if self.has_class("-zoom"):
            self.query_one("#guide-pane", VerticalScroll).focus()
        else:
            self.query_one("#steps", OptionList).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def _save(self) -> None:
        self.app.save_progress(self.progress)
