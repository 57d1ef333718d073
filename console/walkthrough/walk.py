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
from console.walkthrough.steps import RUNNABLE, Missing, StepResult, missing, not_runnable

if TYPE_CHECKING:
    from console.playbooks import Playbook, Step
    from console.site import Site


@dataclass(frozen=True)
class Next:
    """What to do after the last verdict: a step of this playbook, or another playbook."""

    why: str
    """'addresses gate index' | 're-check after the mitigation' | 'next open step'"""
    step: str | None = None
    index: int | None = None
    title: str = ""
    playbook: str | None = None
    """Another playbook to open (a gate's on_fail naming a route)."""

    def text(self) -> str:
        """'next: step 4 — Roll back' (or 'next: open rollback_and_fast_recovery')."""
        if self.playbook:
            return (
                f"next: open {self.playbook} — {self.title}"
                if self.title
                else (f"next: open {self.playbook}")
            )
        return f"next: step {self.index} — {self.title}"

    def to_json(self) -> dict[str, Any]:
        return {
            "why": self.why,
            "step": self.step,
            "index": self.index,
            "title": self.title,
            "playbook": self.playbook,
            "text": self.text(),
        }


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
        self.catalog: Any = None
        """The catalogue, when the face has it: names the playbook an on_fail route opens."""

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

    def need(self, step: Step) -> Missing | None:
        """What this step needs that the site lacks (None: it can run, or does not run)."""
        return missing(self.site, step)

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

    def next(self, catalog: Any = None) -> Next | None:
        """What to do after the step settled last: after no verdict, that step again; after a
        red verdict, what its gate's on_fail names; after a mitigation that passed, the red step it addresses (re-check it);
        otherwise the next open step. None when every step is settled."""
        catalog = catalog if catalog is not None else self.catalog
        steps = self.playbook.steps
        last = self._last_settled()
        if last is not None:
            status = self.progress.status(last.id)
            gate = self.playbook.gate(last.gate) if last.gate else None
            if status == "pending" and last.kind in ("probe", "query", "gate"):
                # it ran and could not decide (no data yet, refused, too soon): run it again
                return self._to(last, "no verdict yet: run it again when its result says")
            if status == "failed" and gate is not None and gate.on_fail:
                target = self.playbook.on_fail_step(gate)
                why = f"addresses gate {gate.id}: {gate.label}"
                if target is not None:
                    return self._to(target, why)
                other = catalog.get(gate.on_fail) if catalog is not None else None
                return Next(why, playbook=gate.on_fail, title=other.title if other else "")
            mitigation = self.playbook.on_fail_step(gate) if gate is not None else None
            if (
                status == "done"
                and mitigation is not None
                and self.progress.status(mitigation.id) == "done"
            ):
                # green again after its mitigation: carry on from the mitigation
                after = self.progress.next_open(self.playbook, after=mitigation.id)
                return self._to(self.playbook.step(after), "next open step") if after else None
            if status == "done" and last.kind == "action":
                for s in steps:
                    g = self.playbook.gate(s.gate) if s.gate else None
                    if (
                        g is not None
                        and g.on_fail == last.id
                        and self.progress.status(s.id) == "failed"
                    ):
                        return self._to(s, f"re-check: did {last.title!r} fix it?")
        nxt = self.progress.next_open(self.playbook, after=last.id if last else None)
        return self._to(self.playbook.step(nxt), "next open step") if nxt else None

    def _to(self, step: Step, why: str) -> Next:
        index = [s.id for s in self.playbook.steps].index(step.id) + 1
        return Next(why, step.id, index, step.title)

    def _last_settled(self) -> Step | None:
        """The step whose status or result changed last (None: nothing happened yet)."""
        when: dict[str, str] = {}
        for sid, at in [*self.progress.status_at.items(), *self.progress.result_at.items()]:
            when[sid] = max(when.get(sid, ""), at)
        ids = {s.id for s in self.playbook.steps}
        p = self.progress
        changed = [
            (at, sid)
            for sid, at in when.items()
            if sid in ids and at and (p.status(sid) != "pending" or sid in p.results)
        ]
        if not changed:
            return None
        return self.playbook.step(max(changed)[1])

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
