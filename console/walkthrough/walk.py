"""One playbook being walked on one site: its steps, their saved state, and what can run.

`Walkthrough` is the headless engine behind the walkthrough screen, `fixmap walk` and
`fixmap step`: marks and results are saved at once (console.walkthrough.progress) and land on
the open incident's timeline; running a step is console.walkthrough.steps'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.core import PlaybookError, closest
from console.walkthrough.progress import STATUSES, Progress, ProgressStore
from console.walkthrough.steps import RUNNABLE, StepResult, not_runnable

if TYPE_CHECKING:
    from console.playbooks import Playbook, Step
    from console.site import Site


@dataclass
class StepView:
    """A step as a face lists it."""

    index: int
    id: str
    kind: str
    title: str
    status: str
    last: list[str]
    blocked: str | None
    """Why it cannot run on this site (None: it can, or it is not a step that runs)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "status": self.status,
            "last": self.last,
            "runnable": self.kind in RUNNABLE and self.blocked is None,
            "not_configured": self.blocked,
        }


class Walkthrough:
    """A playbook, its progress on this machine, and the site its steps run against."""

    def __init__(
        self,
        site: Site,
        playbook: Playbook,
        progress: Progress | None = None,
        store: ProgressStore | None = None,
    ) -> None:
        self.site = site
        self.playbook = playbook
        self.store = store or ProgressStore()
        self.progress = progress or self.store.load(playbook)

    def step(self, step_id: str) -> Step:
        """The step with that id (a 1-based number works too); PlaybookError with a hint."""
        steps = self.playbook.steps
        if step_id.isdigit() and 1 <= int(step_id) <= len(steps):
            return steps[int(step_id) - 1]
        for s in steps:
            if s.id == step_id:
                return s
        ids = [s.id for s in steps]
        guess = closest(step_id, ids)
        hint = f"did you mean '{guess}'?" if guess else "steps: " + ", ".join(ids)
        raise PlaybookError(f"{self.playbook.id} has no step '{step_id}' ({hint})")

    def blocked(self, step: Step) -> str | None:
        return not_runnable(self.site, step)

    def views(self) -> list[StepView]:
        return [
            StepView(
                i,
                s.id,
                s.kind,
                s.title,
                self.progress.status(s.id),
                list(self.progress.results.get(s.id, [])),
                self.blocked(s),
            )
            for i, s in enumerate(self.playbook.steps, 1)
        ]

    def counts(self) -> dict[str, int]:
        return self.progress.counts(self.playbook)

    # ------------------------------------------------------------ changing state

    def set_status(self, step_id: str, status: str) -> Step:
        """A mark by hand (done, skipped, failed, pending), in memory; save() keeps it."""
        if status not in STATUSES:
            raise ValueError(f"'{status}' is not one of {', '.join(STATUSES)}")
        step = self.step(step_id)
        self.progress.set_status(step.id, status)
        return step

    def apply(self, result: StepResult) -> bool:
        """Keep a step's result in memory: its lines, and done/failed when it judged.
        False when nothing ran (the step keeps its last result)."""
        if not result.ran:
            return False
        self.progress.set_result(result.step, result.lines, result.finished_at)
        if result.mark:
            self.progress.set_status(result.step, result.mark, result.finished_at)
        return True

    def mark_event(self, step: Step, status: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The timeline entry of a mark: arguments for console.incident.record_step."""
        return (self.playbook.id, step.id, status, step.title), {}

    def result_event(self, result: StepResult) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The timeline entry of a result: arguments for console.incident.record_step."""
        detail = {"result": result.status, "summary": result.summary, "source": result.source}
        title = self.step(result.step).title
        return (self.playbook.id, result.step, result.mark or result.status, title), {
            "detail": detail
        }

    def mark(self, step_id: str, status: str) -> None:
        """Mark a step by hand; saved at once and on the open incident's timeline."""
        from console.incident import record_step

        step = self.set_status(step_id, status)
        self.save()
        args, kwargs = self.mark_event(step, status)
        record_step(*args, **kwargs)

    def file(self, result: StepResult) -> None:
        """Keep a step's result; saved at once and on the open incident's timeline."""
        from console.incident import record_step

        if self.apply(result):
            self.save()
            args, kwargs = self.result_event(result)
            record_step(*args, **kwargs)

    def save(self) -> None:
        self.store.save(self.progress)

    # ------------------------------------------------------------ running (blocking)

    def run(self, step_id: str) -> StepResult:
        """Run a probe, query or gate step and keep its result (actions: run_action_step)."""
        from console.walkthrough import steps

        step = self.step(step_id)
        runner = {"probe": steps.run_probe, "query": steps.run_query, "gate": steps.run_gate}
        if step.kind not in runner:
            raise ValueError(f"{step.kind} steps are not run by Walkthrough.run")
        result = runner[step.kind](self.site, self.playbook, step)
        self.file(result)
        return result
