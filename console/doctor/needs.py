"""What the playbooks and the gate sets ask of a site config: the probes (and the measures of
them they read), the actions and the parameters their steps pass, the history metrics. Plain
walks over the catalogue and the gate sets; `fixmap doctor` checks a site against them and
`fixmap config reference` documents them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class MeasureUse:
    """A measure of a probe something judges: a playbook step's gate or a gate set's target."""

    probe: str
    measure: str
    by: str
    """'gate set readiness, target index' or 'playbook X step Y (gate G)'."""
    playbook: bool = False
    """Read by a playbook step's gate (else by a gate set's target)."""


@dataclass
class ActionUse:
    """The parameters the playbooks' steps pass to one action."""

    params: dict[str, list[str]] = field(default_factory=dict)
    """Parameter -> 'playbook/step = value' for each step passing it."""
    steps: list[str] = field(default_factory=list)


def action_uses(catalog: Any) -> dict[str, ActionUse]:
    """Every action the playbooks' steps name, with the parameters each step passes."""
    out: dict[str, ActionUse] = {}
    for pb in catalog:
        for step in pb.steps:
            if step.kind != "action" or not step.action:
                continue
            use = out.setdefault(step.action, ActionUse())
            use.steps.append(f"{pb.id}/{step.id}")
            for name, value in step.params.items():
                use.params.setdefault(name, []).append(f"{pb.id}/{step.id} = {value!r}")
    return out


def measure_uses(catalog: Any, gate_sets: dict[str, Any]) -> list[MeasureUse]:
    """Every probe measure a playbook step's gate or an enabled gate-set target judges."""
    out: list[MeasureUse] = []
    for gs in gate_sets.values():
        for t in gs.enabled:
            if t.probe:
                out.append(MeasureUse(t.probe, t.measure, f"gate set {gs.name}, target {t.name}"))
                if t.count_measure:
                    out.append(
                        MeasureUse(t.probe, t.count_measure, f"gate set {gs.name}, target {t.name}")
                    )
    for pb in catalog:
        for step in pb.steps:
            if step.kind == "probe" and step.probe and step.gate:
                gate = next((g for g in pb.gates if g.id == step.gate), None)
                if gate is not None:
                    out.append(
                        MeasureUse(
                            step.probe,
                            gate.measure,
                            f"playbook {pb.id} step {step.id} (gate {gate.id})",
                            playbook=True,
                        )
                    )
    return out


ALWAYS_THERE = frozenset({"verdict", "value"})
"""Measures every probe has: its own verdict (1 pass, 0 fail) and its headline value."""

QUERY_METRICS: dict[str, tuple[str, ...]] = {
    "error_rates": ("error_rate", "rate_5xx", "rate_429"),
    "cache_hit_ratio": ("cache_hit_ratio",),
    "quality_trend": ("delta_s", "coverage", "lambda_flip_rate"),
}
"""The history metrics a named query reads when its target names no `metric` parameter."""


def metric_unit(metric: str) -> str:
    """The unit the history keeps a metric in, by the naming convention the queries rely on."""
    if metric.endswith("_ms"):
        return "ms"
    if metric.startswith("rate_") or metric.endswith(("_rate", "_ratio")) or metric == "coverage":
        return "ratio 0-1"
    if metric == "delta_s":
        return "ΔS 0-1 (1 − cosine)"
    return ""


def target_metrics(target: Any) -> tuple[str, ...]:
    """The history metrics a gate-set target reads (none for a probe target)."""
    if not target.query:
        return ()
    if target.params.get("metric"):
        return (str(target.params["metric"]),)
    return QUERY_METRICS.get(target.query, ("latency_ms",))
