"""Running walkthrough steps: probe, query and action steps, each in a worker."""

from __future__ import annotations

import importlib.util
from typing import Any

from textual.message import Message

from console.playbook import Playbook, Step


class StepOutcome(Message):
    """A step finished running: what it found and how its gate judged it."""

    def __init__(self, step_id: str, status: str, lines: list[str], payload: Any = None) -> None:
        super().__init__()
        self.step_id = step_id
        self.status = status
        """pass | fail | inconclusive | error"""
        self.lines = lines
        self.payload = payload


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class StepRunner:
    """Knows which step kinds this build can run, and runs them off the UI thread."""

    ENGINES = {"probe": "console.probes", "query": "console.history", "action": "console.actions"}

    def __init__(self, app: Any) -> None:
        self.app = app

    def can_run(self, step: Step) -> bool:
        module = self.ENGINES.get(step.kind)
        return module is not None and _available(module)

    def run(self, screen: Any, playbook: Playbook, step: Step) -> None:
        handler = getattr(self, f"_run_{step.kind}")
        handler(screen, playbook, step)

    # ------------------------------------------------------------ probe

    def _run_probe(self, screen: Any, playbook: Playbook, step: Step) -> None:
        loaded = self.app.loaded
        gate = playbook.gate(step.gate) if step.gate else None

        def work() -> None:
            from console.probes import record_in_history, run_probes_sync
            from console.verdict import judge
            from screens.probes import result_lines

            (result,) = run_probes_sync(loaded, [step.probe])
            record_in_history(loaded, [result])
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

    # ------------------------------------------------------------ query

    def _run_query(self, screen: Any, playbook: Playbook, step: Step) -> None:
        """Opens the history screen on the step's query; its verdict comes back to the step."""
        from console.verdict import judge
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
