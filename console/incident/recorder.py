"""The one recorder: what was seen and done goes into the metric history (so charts and gates
see it) and onto the open incident's timeline (so the postmortem has it).

The journal, probe_runs.jsonl and the timeline are the records; the history copy is best
effort. A history file held by another process costs at most HISTORY_TIMEOUT and a note,
never the verdict or the action. Nothing here raises into the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from console.core import redact
from console.incident import timeline

HISTORY_TIMEOUT = 2.0
"""The longest a recording waits for a history file another process is writing."""

_ACTION_EVENT = {"index_alias": "index_swap", "custom": "action"}
"""The history event kind of an action kind, where the two differ."""


def into_history(
    site: Any, *, probe_results: Iterable[dict[str, Any]] = (), events: Iterable[dict] = ()
) -> str | None:
    """Copy probe results and events into the history; a note when that could not be done."""
    rows, evs = list(probe_results), list(events)
    if not rows and not evs:
        return None
    if site is not None and getattr(site, "path", None) is None and not rows:
        return None  # no site: events have no history to go to
    try:
        from console.history import history_for

        history = history_for(site, lock_timeout=HISTORY_TIMEOUT)
        if rows:
            history.record_probe_results(rows)
        if evs:
            history.record_events(evs)
    except Exception as exc:  # the record stands; only its copy in the history is missing
        return redact(f"history not updated ({type(exc).__name__}: {exc})")
    return None


def probes(site: Any, results: list[Any], *, context: str | None = None) -> list[str]:
    """Probe results: into the history and, as one event, onto the timeline."""
    note = into_history(site, probe_results=[r.to_dict() for r in results])
    timeline.record_probes(results, context=context)
    return [note] if note else []


def gate(site: Any, run: Any) -> list[str]:
    """A gate set's run: its probe results and verdict into the history; onto the timeline."""
    title = f"{run.set} gate: {run.summary()}"
    note = into_history(
        site,
        probe_results=[r.to_dict() for r in run.probe_results],
        events=[
            {
                "kind": "gate",
                "service": site.config.default_service() if site is not None else None,
                "title": title,
                "detail": run.to_json(),
            }
        ],
    )
    detail = run.to_json()
    detail["probes"] = [_probe_summary(r) for r in run.probe_results]
    timeline.record("gate", title, detail)
    return [note] if note else []


def action(site: Any, outcome: Any, *, ran: bool = True) -> list[str]:
    """An action's outcome onto the timeline; a run that happened into the history too."""
    notes: list[str] = []
    if ran:
        plan = outcome.plan
        verify = f", verify {outcome.verify['status']}" if outcome.verify else ""
        from console.core import who

        note = into_history(
            site,
            events=[
                {
                    "kind": _ACTION_EVENT.get(plan.kind, plan.kind),
                    "service": plan.spec.service or site.config.default_service(),
                    "title": f"{plan.action} {outcome.status}{verify}",
                    "detail": {
                        "action": plan.action,
                        "key": plan.key,
                        "run": outcome.run,
                        "status": outcome.status,
                        "exit_code": outcome.exit_code,
                        "http_status": outcome.http_status,
                        "timed_out": outcome.timed_out,
                        "who": who(),
                        "incident": plan.incident,
                        "params": plan.params,
                        "break_glass": outcome.break_glass,
                        "verify": outcome.verify,
                    },
                }
            ],
        )
        if note:
            notes.append(note + "; the journal has the run")
    timeline.record_action(outcome)
    return notes


def incident_state(site: Any, inc: Any, state: str, title: str) -> str | None:
    """An incident opened or resolved, into the history so charts mark it."""
    if site is None or getattr(site, "path", None) is None:
        return None
    note = into_history(
        site,
        events=[
            {
                "kind": "incident",
                "service": inc.service,
                "title": title,
                "detail": {
                    "state": state,
                    "id": inc.id,
                    "severity": inc.severity,
                    "resolution": inc.resolution,
                },
            }
        ],
    )
    return f"{note}; the timeline has it" if note else None


def query(result: Any) -> None:
    """A history query that was run, onto the timeline."""
    timeline.record_query(result)


def _probe_summary(r: Any) -> dict[str, Any]:
    keep = ("name", "kind", "status", "value", "threshold", "reason", "embedder", "values")
    return {k: getattr(r, k, None) for k in keep}
