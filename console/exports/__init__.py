"""What an incident leaves behind: the postmortem draft, status-page drafts per phase, the
next-update reminder and the 60-second ship checklist. Offline, and redacted like the rest.

- status: `status_drafts` / `status_draft` per comms phase, `next_update_due`, `internal_terms`;
- postmortem: `postmortem_markdown`, `incident_json`, `export_incident` (md or json);
- checklist: `checklist_status(site, gate_run)` -> (item, detail, ticked | open | unknown, why);
- evidence: `incident_actions` (timeline + journal), probe results and pins the drafts draw on;
- render: UTC times and Markdown cells, written one way in every draft;
- output: `write_export` into an existing, writable folder (`check_output` first);
- saved: `save_text`, a pane kept as plain text under DATA_DIR/saved (redacted).
"""

from console.exports.checklist import checklist_status
from console.exports.evidence import incident_actions
from console.exports.output import ExportError, check_output, write_export
from console.exports.postmortem import (
    ROOT_CAUSE_CLASSES,
    export_incident,
    incident_json,
    postmortem_markdown,
)
from console.exports.saved import save_text
from console.exports.status import (
    StatusDraft,
    UpdateDue,
    internal_terms,
    next_update_due,
    status_draft,
    status_drafts,
)

__all__ = [
    "ROOT_CAUSE_CLASSES",
    "ExportError",
    "StatusDraft",
    "UpdateDue",
    "check_output",
    "checklist_status",
    "export_incident",
    "incident_actions",
    "incident_json",
    "internal_terms",
    "next_update_due",
    "postmortem_markdown",
    "save_text",
    "status_draft",
    "status_drafts",
    "write_export",
]
