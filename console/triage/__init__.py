"""Triage: what is wrong, from the live site (a probe sweep and what changed in the metric
history) and from what the engineer types or pastes, as one ranking of the fix routes with the
reasons for each.

evidence (gather: the sweep, bounded and cancellable -> findings) -> rank (findings mapped to
routes through the playbooks' `evidence` field, combined with the text router's ranking).

Its names load with their module on first use: the console's first ranking needs only `rank`.
"""

from console.core.lazy import lazy_names

__getattr__ = lazy_names(
    __name__,
    {
        "Evidence": "evidence",
        "Finding": "evidence",
        "gate_findings": "evidence",
        "gather_evidence": "evidence",
        "open_from_alert": "intake",
        "rank_alert": "intake",
        "Triage": "rank",
        "TriageRoute": "rank",
        "evidence_map": "rank",
        "triage": "rank",
    },
)

__all__ = [
    "Evidence",
    "Finding",
    "Triage",
    "TriageRoute",
    "evidence_map",
    "gate_findings",
    "gather_evidence",
    "open_from_alert",
    "rank_alert",
    "triage",
]
