"""Running one walkthrough step, headless: what can run here, and the step's result.

The console and `fixmap step` call the same functions, so a step gets the same verdict on
either face. Each step kind has one runner that measures, records (console.incident.recorder)
and judges; the result is one `StepResult`, whatever the kind:

- probe: runs the site probe, then the playbook gate the step names (when the probe measured
  the gate's measure); a probe that could not measure stays an error, never a pass;
- query: runs the named query (or the SQL) over the metric history, judged by its gate;
- gate: runs the gate set; go is a pass, no-go a fail, anything else inconclusive;
- action: plans and runs a site action through the usual guards (the face confirms);
  done is a pass, failed (or done but its verify failing) a fail, refused is refused.

The runners block: the console calls them from thread workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from console.core import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, EXIT_REFUSED, now_iso

if TYPE_CHECKING:
    from console.playbooks import Playbook, Step
    from console.site import Site

RUNNABLE = ("probe", "query", "action", "gate")
"""Step kinds that measure or change something (the others are read, checked or followed)."""


@dataclass
class StepResult:
    """One run of one step: its verdict, what it showed, and what it stood on."""

    playbook: str
    step: str
    kind: str
    status: str
    """pass | fail | inconclusive | error | refused"""
    lines: list[str]
    """What the engineer reads: the measurement, the gate's verdict, the action's outcome."""
    source: str = ""
    """What was measured or run: 'probe index', 'query latency_percentiles', 'action rollback'."""
    finished_at: str = field(default_factory=now_iso)
    payload: Any = None
    """The engine's own result (ProbeResult, QueryResult, GateRun, Outcome) for the faces."""
    ran: bool = True
    """False when nothing ran (cancelled, not confirmed): the step keeps its last result."""

    @property
    def summary(self) -> str:
        gate = next((line for line in self.lines if line.startswith("gate ")), None)
        return gate or (self.lines[0] if self.lines else self.status)

    @property
    def exit_code(self) -> int:
        """0 pass, 1 fail, 2 inconclusive or error (could not judge), 3 refused."""
        return {"pass": EXIT_OK, "fail": EXIT_CHECK_FAILED, "refused": EXIT_REFUSED}.get(
            self.status, EXIT_BAD_INPUT
        )

    @property
    def mark(self) -> str | None:
        """The walkthrough status this result earns: done on a pass, failed on a fail."""
        return {"pass": "done", "fail": "failed"}.get(self.status)

    def to_json(self) -> dict[str, Any]:
        from console.core import redact_obj

        return redact_obj(
            {
                "playbook": self.playbook,
                "step": self.step,
                "kind": self.kind,
                "status": self.status,
                "mark": self.mark,
                "summary": self.summary,
                "lines": self.lines,
                "source": self.source,
                "finished_at": self.finished_at,
                "ran": self.ran,
            }
        )


# ------------------------------------------------------------------ what can run here


@dataclass(frozen=True)
class Missing:
    """What a step needs that this site does not have (`fixmap doctor` turns it into TOML)."""

    what: str
    """site | probe | action | param | value | query | gate_set"""
    name: str
    """The probe, action, query or gate set the step names ('' for site)."""
    text: str
    """The sentence the walkthrough shows."""
    params: tuple[str, ...] = ()
    """For 'param': the parameters the step passes that the action does not take; for 'value':
    the parameter whose value the action refuses."""


def missing(site: Site, step: Step) -> Missing | None:
    """What this step needs that the site config lacks, or None when it can run."""
    if step.kind not in RUNNABLE:
        return None
    if site.path is None:
        return Missing(
            "site",
            "",
            "Not configured: no site config. This step runs once fixmap has a site "
            "(`--config PATH`), or try it on `fixmap demo`.",
        )
    cfg = site.config
    if step.kind == "probe" and step.probe not in cfg.probes:
        name = step.probe or ""
        return Missing(
            "probe", name, f"Not configured here: the site config has no `[probes.{name}]`."
        )
    if step.kind == "action":
        name = step.action or ""
        spec = cfg.actions.get(name)
        if spec is None:
            return Missing(
                "action", name, f"Not configured here: the site config has no `[actions.{name}]`."
            )
        unknown = tuple(p for p in step.params if p not in spec.params)
        if unknown:
            takes = ", ".join(spec.params) or "no parameters"
            return Missing(
                "param",
                name,
                f"Not configured here: `[actions.{name}]` has no parameter "
                f"{', '.join(repr(p) for p in unknown)} (it takes {takes}).",
                unknown,
            )
        for p, value in action_params(step).items():
            try:
                spec.params[p].convert(value)
            except ValueError as exc:
                return Missing(
                    "value",
                    name,
                    f"Not configured here: the step passes {p}={value!r}, which "
                    f"`[actions.{name}]` refuses: {exc}.",
                    (p,),
                )
    if step.kind == "query" and step.query:
        from console.history import NAMED_QUERIES

        if step.query not in NAMED_QUERIES:
            return Missing(
                "query",
                step.query,
                f"Unknown named query `{step.query}` (see `fixmap history query --help`).",
            )
    if step.kind == "gate":
        from console.gates import gate_sets

        if step.gate_set not in gate_sets(site):
            name = step.gate_set or ""
            return Missing("gate_set", name, f"Not configured here: no gate set `{name}`.")
    return None


def not_runnable(site: Site, step: Step) -> str | None:
    """Why this step cannot run on this site (what to add), or None when it can."""
    need = missing(site, step)
    return need.text if need else None


# ------------------------------------------------------------------ probe steps


def run_probe(site: Site, playbook: Playbook, step: Step) -> StepResult:
    """Run the step's probe and judge it by the step's gate."""
    from console.incident import recorder
    from console.probes import run_probes_sync

    (result,) = run_probes_sync(site, [step.probe or ""])
    recorder.probes(site, [result], context=f"{playbook.id}/{step.id}")
    lines = result.lines()
    status = result.status
    if step.gate and result.status in ("pass", "fail", "inconclusive"):
        status, line = judge_probe(playbook, step, result)
        lines.append(line)
    return _result(playbook, step, status, lines, f"probe {step.probe}", result)


def judge_probe(playbook: Playbook, step: Step, result: Any) -> tuple[str, str]:
    """A probe step's verdict: its gate's on the gate's measure (the probe's own verdict is the
    measure `verdict`, 1 pass / 0 fail), and a line saying why. A gate that passes does not hide
    a probe that failed; a measure the probe did not report is inconclusive, never a pass (a
    failed probe stays failed)."""
    from console.playbooks import judge

    gate = playbook.gate(step.gate or "")
    own = {"pass": 1, "fail": 0}.get(result.status)
    verdict = judge(gate, {**result.values, "value": result.value, "verdict": own})
    if verdict.value is None:
        status = "fail" if result.status == "fail" else "inconclusive"
        return status, f"gate {gate.id}: {status} — {verdict.reason}"
    if verdict.status == "pass" and result.status == "fail":
        return "fail", f"gate {gate.id}: {verdict.reason}, but the probe failed: {result.reason}"
    return verdict.status, f"gate {gate.id}: {verdict.status} — {verdict.reason}"


# ------------------------------------------------------------------ query steps


def query_request(step: Step) -> str:
    """The step's query as the history screen and `fixmap history query` take it."""
    if step.sql:
        return step.sql
    return " ".join([step.query or "", *(f"{k}={v}" for k, v in step.params.items())])


def run_query(site: Site, playbook: Playbook, step: Step) -> StepResult:
    """Run the step's query over the metric history and judge it by the step's gate."""
    from console.history import HistoryError, history_for
    from console.incident import recorder

    try:
        history = history_for(site)
        if step.sql:
            result = history.sql(step.sql)
        else:
            result = history.named(step.query or "", **dict(step.params))
    except HistoryError as exc:
        return query_failed(playbook, step, exc.render())
    recorder.query(result)
    return query_result(playbook, step, result)


def query_failed(playbook: Playbook, step: Step, error: str) -> StepResult:
    return _result(playbook, step, "error", [f"query failed: {error}"], _query_source(step))


def query_result(playbook: Playbook, step: Step, result: Any) -> StepResult:
    """Judge a query's result (from run_query or the history screen) by the step's gate."""
    request = query_request(step)
    lines = [f"{result.title or request}: {len(result.rows)} rows in {result.elapsed_ms:.0f} ms"]
    if result.note:
        lines.append(result.note)
    shown = dict(list(result.measures.items())[:8])
    if shown:
        lines.append("  ".join(f"{k}={v:.3g}" for k, v in shown.items()))
    status = "pass" if result.rows else "inconclusive"
    if step.gate:
        from console.playbooks import judge

        gate = playbook.gate(step.gate)
        verdict = judge(gate, result.measures)
        status = verdict.status
        lines.append(f"gate {gate.id}: {verdict.status} — {verdict.reason}")
    return _result(playbook, step, status, lines, _query_source(step), result)


def _query_source(step: Step) -> str:
    return f"query {step.query}" if step.query else "query (SQL)"


# ------------------------------------------------------------------ gate steps


def run_gate(site: Site, playbook: Playbook, step: Step) -> StepResult:
    """Run the step's gate set: go passes, no-go fails, anything else is inconclusive."""
    from console.gates import run_gate_set

    run = run_gate_set(site, step.gate_set or "readiness")
    lines = [f"{run.set}: {run.summary()}"]
    for t in run.targets:
        lines.append(f"{t.name}: {t.status} {t.value_text()} ({t.threshold or '-'}) {t.reason}")
    status = {"go": "pass", "no-go": "fail"}.get(run.verdict, "inconclusive")
    return _result(playbook, step, status, lines, f"gate set {run.set}", run)


# ------------------------------------------------------------------ action steps


def action_params(step: Step, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The step's parameters (as text, bools kept), overridden by what the engineer gave."""
    params = {k: v if isinstance(v, bool) else str(v) for k, v in step.params.items()}
    params.update(given or {})
    return params


def action_result(playbook: Playbook, step: Step, outcome: Any) -> StepResult:
    """An action's outcome as the step's result."""
    return _result(
        playbook,
        step,
        action_status(outcome),
        action_lines(outcome),
        f"action {outcome.action}",
        outcome,
    )


def action_not_run(playbook: Playbook, step: Step, why: str, *, ran: bool = False) -> StepResult:
    """Nothing ran: cancelled, or the plan was refused before anything started."""
    result = _result(playbook, step, "refused", [why], f"action {step.action}")
    result.ran = ran
    return result


def action_status(outcome: Any) -> str:
    """pass (done, and what it was for passes now, or nothing to re-check), fail (failed, or
    done with something still failing), inconclusive (done but not re-measurable, or left
    running under its supervisor), refused."""
    if outcome.status in ("done", "already_done"):
        verify = outcome.verify
        if verify is not None and verify.get("status") == "fail":
            return "fail"
        return "inconclusive" if outcome.verify_ok is False else "pass"
    if outcome.status == "failed":
        return "fail"
    if outcome.status == "running":
        return "inconclusive"
    return "refused"


def action_lines(outcome: Any) -> list[str]:
    """An action's outcome as short lines."""
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
        lines.append(outcome.verify.line())
    lines.append(f"key {outcome.key}")
    lines.extend(outcome.output_tail[-5:])
    return lines


def _result(
    playbook: Playbook, step: Step, status: str, lines: list[str], source: str, payload: Any = None
) -> StepResult:
    from console.core import redact

    return StepResult(
        playbook.id, step.id, step.kind, status, [redact(x) for x in lines], source, payload=payload
    )
