"""Gates: go / no-go on the seed's acceptance targets (readiness, canary, hard_stop, recovery
and a site's own sets), each target judged from a probe or the metric history.
"""

from console.gates.run import (
    DEFAULT_SET,
    STATUSES,
    VERDICTS,
    GateError,
    GateRun,
    GateSetSpec,
    TargetResult,
    TargetSpec,
    format_value,
    gate_sets,
    get_set,
    overall,
    require_site,
    run_gate_set,
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
    "run_gate_set",
]
