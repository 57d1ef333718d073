"""The seed's 60-second ship checklist, ticked from gate runs and the site config.

Each item is ticked, open or unknown, with why: ticked only when every target behind it passed,
open as soon as one failed, unknown when fixmap has no verdict (and the command that would give
one). Items fixmap cannot measure say so instead of being ticked on trust.
"""

from __future__ import annotations

from typing import Any

from console.exports.evidence import site_config


def _collect(gate_run: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Target results by name (the latest run wins) and verdicts by set."""
    runs = gate_run if isinstance(gate_run, list | tuple) else [gate_run] if gate_run else []
    targets: dict[str, Any] = {}
    verdicts: dict[str, str] = {}
    for run in runs:
        verdicts[run.set] = run.verdict
        for t in run.targets:
            targets[t.name] = t
    return targets, verdicts


def _tick(targets: dict[str, Any], names: tuple[str, ...], run_hint: str) -> tuple[str, str]:
    found = [targets[n] for n in names if n in targets]
    failing = [t for t in found if t.status == "fail"]
    if failing:
        return "open", "; ".join(f"{t.name}: {t.reason}" for t in failing)
    if len(found) == len(names) and all(t.status == "pass" for t in found):
        return "ticked", "; ".join(f"{t.name} pass" for t in found)
    missing = [n for n in names if n not in targets or targets[n].status != "pass"]
    return "unknown", f"no verdict on {', '.join(missing)}: {run_hint}"


def checklist_status(site: Any, gate_run: Any) -> list[tuple[str, str, str, str]]:
    """The seed's 60-second ship checklist: (item, detail, ticked | open | unknown, why).

    `gate_run` is a GateRun, a list of them (readiness + canary...), or None.
    """
    from console.playbooks import SHIP_CHECKLIST

    targets, verdicts = _collect(gate_run)
    readiness = "run fixmap gate readiness"
    out: list[tuple[str, str, str, str]] = []
    for item, detail in SHIP_CHECKLIST:
        if item == "Freeze the world":
            status, why = _tick(targets, ("version_lock", "index"), readiness)
        elif item == "Warm up safely":
            status, why = _tick(targets, ("index", "warmup"), readiness)
        elif item == "Shadow then canary":
            verdict = verdicts.get("canary")
            if verdict == "go":
                status, why = "ticked", "canary gate go: the graduation targets hold"
            elif verdict == "no-go":
                status, why = "open", "canary gate no-go: do not step the rollout up"
            else:
                status, why = (
                    "unknown",
                    (
                        "run fixmap gate canary during the canary window; shadow mirroring is not "
                        "measured by fixmap"
                    ),
                )
        elif item == "Guard the edge":
            status, why = _tick(targets, ("idempotency", "p95"), readiness)
            if status == "ticked":
                why += "; retries with jitter are not measured: check the client config"
        elif item == "Know your exit":
            config = site_config(site)
            actions = config.actions.items() if config is not None else ()
            rollbacks = [n for n, a in actions if a.kind == "rollback"]
            if rollbacks:
                status, why = (
                    "ticked",
                    (
                        f"rollback action {', '.join(rollbacks)} configured (fixmap act "
                        f"{rollbacks[0]} --dry-run); comms drafts: fixmap incident export ID"
                    ),
                )
            else:
                status, why = (
                    "open",
                    "no rollback action in the site config ([actions.*] kind = 'rollback')",
                )
        else:
            status, why = "unknown", "fixmap cannot check this item"
        out.append((item, detail, status, why))
    return out
