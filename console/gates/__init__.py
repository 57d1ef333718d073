"""Gates: go / no-go on the seed's acceptance targets (readiness, canary, hard_stop, recovery
and a site's own sets), each target judged from a probe or the metric history.

spec (the sets: built-ins plus the site's [gates] tables) -> sources (a target's values: a
probe, the history, or Prometheus asked at decision time) -> judge (its verdict and reason) ->
results (the run's verdict, each target's newest data point and its age); run ties them
together for one measurement, watch repeats measurements with Argo Rollouts' semantics.
"""

from console.gates.results import (
    STATUSES,
    VERDICTS,
    GateRun,
    TargetResult,
    age_text,
    format_value,
    overall,
)
from console.gates.run import measure_targets, run_gate_set
from console.gates.sources import resolve_probe
from console.gates.spec import (
    DEFAULT_SET,
    GateError,
    GateSetSpec,
    TargetSpec,
    gate_sets,
    get_set,
    require_site,
)
from console.gates.watch import watch_gate_set

__all__ = [
    "DEFAULT_SET",
    "STATUSES",
    "VERDICTS",
    "GateError",
    "GateRun",
    "GateSetSpec",
    "TargetResult",
    "TargetSpec",
    "age_text",
    "format_value",
    "gate_sets",
    "get_set",
    "measure_targets",
    "overall",
    "require_site",
    "resolve_probe",
    "run_gate_set",
    "watch_gate_set",
]
