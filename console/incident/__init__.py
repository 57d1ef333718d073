"""Incidents: the timeline of what was seen and done while one is open, its life (open, note,
phase, close), and the one recorder that puts results into the history and onto the timeline.
"""

from console.incident import recorder
from console.incident.alerts import Alert, AlertError, parse_alert, read_alert, record_alert
from console.incident.lifecycle import (
    add_note,
    close_incident,
    mark_update_posted,
    new_id,
    open_incident,
    set_phase,
    set_severity,
)
from console.incident.model import (
    PHASES,
    SEVERITIES,
    SEVERITY_MEANING,
    Incident,
    IncidentError,
    TimelineEvent,
    parse_phase,
    parse_severity,
)
from console.incident.timeline import (
    current_id,
    current_incident,
    incidents_dir,
    list_incidents,
    load_incident,
    record,
    record_route,
    record_step,
    resolve_id,
)

__all__ = [
    "PHASES",
    "SEVERITIES",
    "SEVERITY_MEANING",
    "Alert",
    "AlertError",
    "Incident",
    "IncidentError",
    "TimelineEvent",
    "add_note",
    "close_incident",
    "current_id",
    "current_incident",
    "incidents_dir",
    "list_incidents",
    "load_incident",
    "mark_update_posted",
    "new_id",
    "open_incident",
    "parse_alert",
    "parse_phase",
    "parse_severity",
    "read_alert",
    "record",
    "record_alert",
    "record_route",
    "record_step",
    "recorder",
    "resolve_id",
    "set_phase",
    "set_severity",
]
