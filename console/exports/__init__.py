"""What an incident leaves behind: the postmortem draft, status-page drafts per phase, the
next-update reminder and the 60-second ship checklist. Offline, and redacted like the rest.
"""

from console.exports.drafts import (
    ROOT_CAUSE_CLASSES,
    StatusDraft,
    UpdateDue,
    checklist_status,
    export_incident,
    incident_actions,
    incident_json,
    internal_terms,
    next_update_due,
    postmortem_markdown,
    status_draft,
    status_drafts,
)

__all__ = [
    "ROOT_CAUSE_CLASSES",
    "StatusDraft",
    "UpdateDue",
    "checklist_status",
    "export_incident",
    "incident_actions",
    "incident_json",
    "internal_terms",
    "next_update_due",
    "postmortem_markdown",
    "status_draft",
    "status_drafts",
]
