"""Running walkthrough steps from the console: each in a worker, judged by the headless engine
(console.walkthrough), the result filed by the app on the playbook's progress."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from screens.messages import StepOutcome, StepProgress

if TYPE_CHECKING:  # pydantic stays out of the console's first frame
    from console.playbooks import Playbook, Step


class StepRunner:
    """Runs a walkthrough step off the UI thread; its result goes to the app, which files it on
    the playbook's progress even when the engineer has left the walkthrough meanwhile."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def run(self, playbook: Playbook, step: Step) -> None:
        if step.kind == "action":
            self._run_action(playbook, step)
        elif step.kind == "query":
            self._run_query(playbook, step)
        else:
            self._in_worker(playbook, step)

    def _in_worker(self, playbook: Playbook, step: Step) -> None:
        """probe and gate steps: the engine measures and judges; nothing here decides."""
        site = self.app.site

        def work() -> None:
            from console.walkthrough import steps

            runner = {"probe": steps.run_probe, "gate": steps.run_gate}[step.kind]
            result = runner(site, playbook, step)
            if step.kind == "gate":
                self.app.call_from_thread(
                    self.app.gate_runs.__setitem__, result.payload.set, result.payload
                )
            self.app.post_message(StepOutcome(result))

        self.app.run_worker(
            work,
            thread=True,
            group=f"step-{step.id}@{playbook.id}",
            exclusive=True,
            exit_on_error=False,
            description=f"{step.kind} step {step.id}",
        )

    def _run_action(self, playbook: Playbook, step: Step) -> None:
        """The same confirm dialog as the actions screen; the outcome lands on the step."""
        from console.walkthrough import steps

        output: list[str] = []

        def on_output(line: str) -> None:
            output.append(line)
            self.app.post_message(StepProgress(step.id, output[-6:], playbook.id))

        def on_done(outcome: Any, error: str | None) -> None:
            if outcome is None:
                cancelled = (error or "").startswith("cancelled")
                result = steps.action_not_run(playbook, step, error or "not run", ran=not cancelled)
            else:
                result = steps.action_result(playbook, step, outcome)
            self.app.post_message(StepOutcome(result))

        ActionFlow(
            self.app.screen,
            step.action or "",
            steps.action_params(step),
            on_output=on_output,
            on_done=on_done,
            worker_group=f"action-{step.id}@{playbook.id}",
        ).start()

    def _run_query(self, playbook: Playbook, step: Step) -> None:
        """Opens the history screen on the step's query; its result is judged by the engine."""
        from console.walkthrough import steps
        from screens.history import HistoryScreen

        def on_result(result: Any, error: str | None) -> None:
            if error is not None:
                self.app.post_message(StepOutcome(steps.query_failed(playbook, step, error)))
                return
            self.app.post_message(StepOutcome(steps.query_result(playbook, step, result)))

        self.app.push_screen(HistoryScreen(steps.query_request(step), on_result=on_result))


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
        worker_group: str | None = None,
    ) -> None:
        self.screen = screen
        self.group = worker_group or f"action-{name}"
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

        self.app.run_worker(
            plan,
            thread=True,
            group=self.group,
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

        self.app.run_worker(
            run,
            thread=True,
            group=self.group,
            exit_on_error=False,
            description=f"run {self.name}",
        )


def outcome_lines(outcome: Any) -> list[str]:
    """An action's outcome as short lines (the engine's words)."""
    from console.walkthrough import steps

    return steps.action_lines(outcome)
