"""Triage: what is wrong, from the live site (a probe sweep and what changed in the metric
history) and from what the engineer types or pastes, as one ranking of the fix routes with the
reasons for each.

evidence (gather: the sweep, bounded and cancellable -> findings) -> rank (findings mapped to
routes through the playbooks' `evidence` field, combined with the text router's ranking).
"""

from console.triage.evidence import Evidence, Finding, gate_findings, gather_evidence
from console.triage.intake import open_from_alert, rank_alert
from console.triage.rank import Triage, TriageRoute, evidence_map, triage

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
