"""Playbooks: the fix routes as validated data files, their catalogue (bundled and the team's),
how a step reads in words, a playbook gate's verdict, and the seed's tables (quick routes,
deploy traps, the symptom table, the ship checklist).

The seed tables are plain data; the schema (pydantic) loads on first use.
"""

from console.core.lazy import lazy_names
from console.playbooks.seed import (
    ACCEPTANCE_TARGETS,
    ALL_IDS,
    DEPLOY_TRAPS,
    QUICK_ROUTES,
    SHIP_CHECKLIST,
    SYMPTOM_TABLE,
)

__getattr__ = lazy_names(
    __name__,
    {
        "Playbook": "schema",
        "Step": "schema",
        "Gate": "schema",
        "Catalog": "schema",
        "STEP_KINDS": "schema",
        "GATE_SETS": "schema",
        "load_catalog": "schema",
        "load_playbook_file": "schema",
        "parse_playbook": "schema",
        "validate_paths": "schema",
        "playbook_text": "render",
        "step_does": "render",
        "GateVerdict": "verdict",
        "judge": "verdict",
    },
)

__all__ = [
    "ACCEPTANCE_TARGETS",
    "ALL_IDS",
    "DEPLOY_TRAPS",
    "QUICK_ROUTES",
    "SHIP_CHECKLIST",
    "SYMPTOM_TABLE",
]
