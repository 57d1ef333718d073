"""Running walkthrough steps: probe, query and action steps, each in a worker."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:  # pydantic stays out of the console's first frame
    from console.playbooks import Playbook, Step


class StepOutcome(Message):
    """A step finished running: what it found and how its gate judged it."""

    def __init__(
        self,
        step_id: str,
        status: str,
        lines: list[str],
        payload: Any = None,
        *,
        record: bool = True,
    ) -> None:
        super().__init__()
        self.record = record
        """False: nothing ran (e.g. the engineer cancelled); keep the step's last result."""
        self.step_id = step_id
        self.status = status
        """pass | fail | inconclusive | error"""
        self.lines = lines
        self.payload = payload


class StepProgress(Message):
    """Output so far of a step that is still running (an action's last lines)."""

    def __init__(self, step_id: str, lines: list[str], playbook_id: str = "") -> None:
        super().__init__()
        self.playbook_id = playbook_id
        self.step_id = step_id
        self.lines = lines


class _AppSide:
    """Where step workers run and report: the app (a screen may be popped while they run)."""

    def __init__(self, app: Any, playbook_id: str) -> None:
        self.app = app
        self.playbook_id = playbook_id

    def post_message(self, message: Any) -> None:
        message.playbook_id = self.playbook_id
        self.app.post_message(message)

    def run_worker(self, work: Any, **kwargs: Any) -> Any:
        kwargs["group"] = f"{kwargs.get('group', 'step')}@{self.playbook_id}"
        return self.app.run_worker(work, **kwargs)


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class StepRunner:
    """Knows which step kinds this build can run, and runs them off the UI thread."""

    ENGINES = {
        "probe": "console.probes.run",
        "query": "console.history.store",
        "action": "console.actions.execute",
        "gate": "console.gates.run",
    }

    def __init__(self, app: Any) -> None:
        self.app = app

    def can_run(self, step: Step) -> bool:
        module = self.ENGINES.get(step.kind)
        return module is not None and _available(module)

    def run(self, screen: Any, playbook: Playbook, step: Step) -> None:
        """Run a step; its outcome goes to the app, which files it on the playbook's progress
        even when the engineer has left the walkthrough meanwhile."""
        handler = getattr(self, f"_run_{step.kind}")
        handler(_AppSide(self.app, playbook.id), playbook, step)

    # ------------------------------------------------------------ probe

    def _run_probe(self, screen: Any, playbook: Playbook, step: Step) -> None:
        site = self.app.site
        gate = playbook.gate(step.gate) if step.gate else None

        def work() -> None:
            from console.incident import recorder
            from console.playbooks import judge
            from console.probes import run_probes_sync
            from screens.probes import result_lines

            (result,) = run_probes_sync(site, [step.probe])
            recorder.probes(site, [result], context=f"{playbook.id}/{step.id}")
            lines = result_lines(result)
            status = result.status
            if gate is not None and result.status in ("pass", "fail", "inconclusive"):
                verdict = judge(gate, {**result.values, "value": result.value})
                if verdict.value is not None:
                    status = verdict.status
                    lines.append(f"gate {gate.id}: {verdict.status} — {verdict.reason}")
                else:
                    lines.append(
                        f"gate {gate.id}: the probe's own verdict stands ({verdict.reason})"
                    )
            screen.post_message(StepOutcome(step.id, status, lines, result))

        screen.run_worker(
            work,
            thread=True,
            group=f"step-{step.id}",
            exclusive=True,
            exit_on_error=False,
            description=f"probe {step.probe}",
        )

    # ------------------------------------------------------------ gate

    def _run_gate(self, screen: Any, playbook: Playbook, step: Step) -> None:
        """Runs the step's gate set (its probes once, its history queries); go is a pass."""
        site = self.app.site
        name = step.gate_set or "readiness"

        def work() -> None:
            from console.gates import run_gate_set

            run = run_gate_set(site, name)
            self.app.call_from_thread(self.app.gate_runs.__setitem__, run.set, run)
            lines = [f"{run.set}: {run.summary()}"]
            for t in run.targets:
                lines.append(
                    f"{t.name}: {t.status} {t.value_text()} ({t.threshold or '-'}) {t.reason}"
                )
            status = {"go": "pass", "no-go": "fail"}.get(run.verdict, "inconclusive")
            screen.post_message(StepOutcome(step.id, status, lines, run))

        screen.run_worker(
            work,
            thread=True,
            group=f"step-{step.id}",
            exclusive=True,
            exit_on_error=False,
            description=f"gate set {name}",
        )

    # ------------------------------------------------------------ action

    def _run_action(self, screen: Any, playbook: Playbook, step: Step) -> None:
        """Opens the same confirm dialog as the actions screen; the outcome lands on the step."""
        output: list[str] = []

        def on_output(line: str) -> None:
            output.append(line)
            screen.post_message(StepProgress(step.id, output[-6:]))

        def on_done(outcome: Any, error: str | None) -> None:
            if outcome is None:
                cancelled = (error or "").startswith("cancelled")
                screen.post_message(
                    StepOutcome(step.id, "inconclusive", [error or "not run"], record=not cancelled)
                )
                return
            screen.post_message(
                StepOutcome(step.id, outcome_status(outcome), outcome_lines(outcome), outcome)
            )

        ActionFlow(
            screen, step.action or "", step.params, on_output=on_output, on_done=on_done
        ).start()

    # ------------------------------------------------------------ query

    def _run_query(self, screen: Any, playbook: Playbook, step: Step) -> None:
        """Opens the history screen on the step's query; its verdict comes back to the step."""
        from console.playbooks import judge
        from screens.history import HistoryScreen

        gate = playbook.gate(step.gate) if step.gate else None
        if step.sql:
            request = step.sql
        else:
            request = " ".join([step.query or "", *(f"{k}={v}" for k, v in step.params.items())])

        def on_result(result: Any, error: str | None) -> None:
            if error is not None:
                screen.post_message(StepOutcome(step.id, "error", [f"query failed: {error}"]))
                return
            lines = [
                f"{result.title or request}: {len(result.rows)} rows in {result.elapsed_ms:.0f} ms"
            ]
            if result.note:
                lines.append(result.note)
            shown = {k: v for k, v in list(result.measures.items())[:8]}
            if shown:
                lines.append("  ".join(f"{k}={v:.3g}" for k, v in shown.items()))
            status = "pass" if result.rows else "inconclusive"
            if gate is not None:
                verdict = judge(gate, result.measures)
                status = verdict.status
                lines.append(f"gate {gate.id}: {verdict.status} — {verdict.reason}")
            screen.post_message(StepOutcome(step.id, status, lines, result))

        self.app.push_screen(HistoryScreen(request, on_result=on_result))


# ---------------------------------------------------------------- actions


class ActionFlow:
    """Plan (worker) → the confirm dialog → run (worker), for one action, from any screen.

    `on_output(line)` and `on_done(outcome, error)` are called on the UI thread.
    """

    def __init__(
        self,
        screen: Any,
        name: str,
        params: dict[str, Any] | None = None,
        *,
        on_output: Any = None,
        on_done: Any = None,
    ) -> None:
        self.screen = screen
        self.app = screen.app
        self.name = name
        self.params = {
            k: str(v) if not isinstance(v, bool) else v for k, v in (params or {}).items()
        }
        self.on_output = on_output or (lambda line: None)
        self.on_done = on_done or (lambda outcome, error: None)

    def start(self, ask: bool = False) -> None:
        """Plan and confirm; first ask for parameters when `ask` or when a required one is missing."""
        spec = self.app.site.config.actions.get(self.name)
        if spec is not None and spec.params:
            missing = [
                n
                for n, p in spec.params.items()
                if n not in self.params and p.default is None and p.required is not False
            ]
            if ask or missing:
                from screens.dialogs import params_dialog

                def filled(values: dict[str, str] | None) -> None:
                    if values is None:
                        self.on_done(None, "cancelled: nothing was run")
                        return
                    self.params = values
                    self._plan()

                self.app.push_screen(params_dialog(self.name, spec.params, self.params), filled)
                return
        self._plan()

    def _plan(self) -> None:
        site = self.app.site

        def plan() -> None:
            from console.actions import plan_action
            from console.core import FixmapError

            try:
                planned = plan_action(site, self.name, self.params, incident=self.app.incident_id())
            except FixmapError as exc:
                self.app.call_from_thread(self.on_done, None, exc.render())
                return
            self.app.call_from_thread(self._confirm, planned)

        self.screen.run_worker(
            plan,
            thread=True,
            group=f"action-{self.name}",
            exit_on_error=False,
            description=f"plan {self.name}",
        )

    def _confirm(self, plan: Any) -> None:
        from screens.dialogs import ConfirmActionDialog, Confirmation

        def decided(choice: Confirmation | None) -> None:
            if choice is None or not choice.confirmed:
                self.on_done(None, "cancelled: nothing was run")
                return
            self._run(plan, choice)

        self.app.push_screen(ConfirmActionDialog(plan), decided)

    def _run(self, plan: Any, choice: Any) -> None:
        site = self.app.site

        def run() -> None:
            from console.actions import run_action
            from console.core import FixmapError

            def line(text: str) -> None:
                self.app.call_from_thread(self.on_output, text)

            try:
                outcome = run_action(site, plan, True, choice.break_glass, line, retry=choice.retry)
            except FixmapError as exc:
                self.app.call_from_thread(self.on_done, None, exc.render())
                return
            self.app.call_from_thread(self.on_done, outcome, None)
            self.app.call_from_thread(self.app.refresh_site_state)

        self.screen.run_worker(
            run,
            thread=True,
            group=f"action-{self.name}",
            exit_on_error=False,
            description=f"run {self.name}",
        )


def outcome_lines(outcome: Any) -> list[str]:
    """An action's outcome as short lines (walkthrough results, notifications)."""
    head = f"{outcome.action}: {outcome.status}"
    if outcome.exit_code is not None:
        head += f" (exit {outcome.exit_code})"
    if outcome.http_status is not None:
        head += f" (HTTP {outcome.http_status})"
    if outcome.duration_s is not None:
        head += f" in {outcome.duration_s:.1f}s"
    lines = [head]
    if outcome.reason:
        lines.append(outcome.reason)
    if outcome.timed_out:
        lines.append("timed out: the command was killed")
    if outcome.break_glass:
        lines.append(f"break-glass: {outcome.break_glass}")
    if outcome.verify:
        v = outcome.verify
        lines.append(f"verify {v.get('probe')}: {v.get('status')} {v.get('reason') or ''}".rstrip())
    lines.append(f"key {outcome.key}")
    lines.extend(outcome.output_tail[-5:])
    return lines


def outcome_status(outcome: Any) -> str:
    """pass (done, verified or no verify), fail (failed, verify failed), inconclusive (refused)."""
    if outcome.status in ("done", "already_done"):
        return "fail" if outcome.verify_ok is False else "pass"
    if outcome.status == "failed":
        return "fail"
    return "inconclusive"
