"""The app's side of walkthrough steps: each playbook's progress (loaded once, saved and merged
with what other consoles or `fixmap step` saved), and the step results filed on it wherever
the engineer is now. A mix-in of FixmapApp; the decisions are console.walkthrough's."""

from __future__ import annotations

from typing import Any


class Walkthroughs:
    """Progress and step outcomes for FixmapApp (which provides site, catalog, progress,
    running_steps, live_output, notify, timeline and screen_stack)."""

    def progress_for(self, playbook: Any) -> Any:
        if playbook.id not in self._progress:
            self._progress[playbook.id] = self.progress.load(playbook)
        return self._progress[playbook.id]

    def save_progress(self, progress: Any) -> None:
        try:
            merged = self.progress.save(progress)
        except OSError as exc:
            self.notify(f"Could not save progress: {exc}", severity="error")
            return
        if merged:  # another console's marks came in with the merge
            for screen in self._walkthroughs(progress.playbook_id):
                screen.refresh_all()

    def poll_progress(self, progress: Any) -> None:
        """Bring in what another console (or `fixmap step`) saved for this playbook."""
        try:
            changed = self.progress.refresh(progress)
        except OSError:
            return
        if changed:
            for screen in self._walkthroughs(progress.playbook_id):
                screen.refresh_all()

    def _walkthroughs(self, playbook_id: str) -> list[Any]:
        from screens.walkthrough import WalkthroughScreen

        return [
            s
            for s in self.screen_stack
            if isinstance(s, WalkthroughScreen) and s.playbook.id == playbook_id
        ]

    def on_step_progress(self, message: Any) -> None:
        from console.core import redact

        self.live_output[(message.playbook_id, message.step_id)] = [
            redact(x) for x in message.lines
        ]
        for screen in self._walkthroughs(message.playbook_id):
            screen.refresh_step(message.step_id)

    def walkthrough_of(self, playbook: Any) -> Any:
        """The engine's walkthrough of a playbook on this site, over the shared progress."""
        from console.walkthrough import Walkthrough

        return Walkthrough(self.site, playbook, self.progress_for(playbook), self.progress)

    def on_step_outcome(self, message: Any) -> None:
        """File a step's result on its playbook's progress, wherever the engineer is now."""
        from console.core import redact

        result = message.result
        key = (result.playbook, result.step)
        self.running_steps.discard(key)
        self.live_output.pop(key, None)
        screens = self._walkthroughs(result.playbook)
        if not result.ran:
            self.notify(result.lines[0] if result.lines else "nothing ran", timeout=4)
            for screen in screens:
                screen.refresh_step(result.step)
            return
        if self.catalog is None or result.playbook not in self.catalog:
            return
        playbook = self.catalog[result.playbook]
        walk = self.walkthrough_of(playbook)
        walk.apply(result)
        self.save_progress(walk.progress)
        args, kwargs = walk.result_event(result)
        self.timeline(lambda inc: inc.record_step(*args, **kwargs))
        for screen in screens:
            screen.refresh_all()
        severity = {"pass": "information", "fail": "error"}.get(result.status, "warning")
        title = playbook.step(result.step).title
        self.notify(
            redact(result.summary), title=f"{title}: {result.status}", severity=severity, timeout=8
        )

    def step_worker_failed(self, group: str, error: Any) -> None:
        """A step whose worker broke is not left 'running'."""
        from console.walkthrough import StepResult
        from screens.messages import StepOutcome

        name, _, playbook_id = group.partition("@")
        step_id = name.removeprefix("step-").removeprefix("action-")
        if (playbook_id, step_id) not in self.running_steps:
            return
        kind = "action" if name.startswith("action-") else "step"
        lines = [f"error: {error}"] if error else ["cancelled"]
        self.on_step_outcome(StepOutcome(StepResult(playbook_id, step_id, kind, "error", lines)))
