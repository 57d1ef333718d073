"""Gates: go / no-go on the seed's acceptance targets (readiness, canary, hard_stop, recovery
and a site's own sets), each target judged from a probe or the metric history.

spec (the sets: built-ins plus the site's [gates] tables) -> sources (a target's values) ->
judge (its verdict and reason) -> results (the run's verdict); run ties them together.
"""

from console.gates.results import (
    STATUSES,
    VERDICTS,
    GateRun,
    TargetResult,
    format_value,
    overall,
)
from console.gates.run import run_gate_set
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

__all__ = [
    "DEFAULT_SET",
    "STATUSES",
    "VERDICTS",
    "GateError",
    "GateRun",
    "GateSetSpec",
    "TargetResult",
    "TargetSpec",
    "format_value",
    "gate_sets",
    "get_set",
    "overall",
    "require_site",
    "resolve_probe",
    "run_gate_set",
]
