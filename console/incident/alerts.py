"""Alert intake: an Alertmanager webhook payload or a PagerDuty webhook v3 incident event, read
into one `Alert` — a title and a severity for the incident, the labels, annotations and links to
keep on its timeline, and the text the router ranks routes from.

    fixmap incident open --from-alert FILE|-     fixmap route --alert FILE|-

A payload that is neither is an `AlertError` (exit 2) naming the file, the field that is missing
and what was expected; nothing is recorded from it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.core import EXIT_BAD_INPUT, FixmapError, Problem

SOURCES = ("alertmanager", "pagerduty")

_SEVERITY_WORDS: dict[str, str] = {
    "critical": "S1", "page": "S1", "fatal": "S1", "emergency": "S1", "disaster": "S1",
    "error": "S2", "major": "S2", "high": "S2",
    "warning": "S3", "warn": "S3", "minor": "S3", "medium": "S3", "moderate": "S3",
    "info": "S4", "informational": "S4", "low": "S4", "none": "S4", "notice": "S4",
}  # fmt: skip
"""An alert's severity label (or PagerDuty urgency) -> the incident severity."""
_TEXT_ANNOTATIONS = ("summary", "description", "message", "title")
MAX_ALERTS_KEPT = 20
"""Alerts of one group whose labels go on the timeline (a storm of 500 keeps the first 20)."""


class AlertError(FixmapError):
    """The payload is not an Alertmanager webhook nor a PagerDuty v3 incident event."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class Alert:
    """One alert notification, whatever sent it."""

    source: str
    """alertmanager | pagerduty"""
    name: str
    """The alert's name (alertname; PagerDuty: the incident title)."""
    title: str
    """A title for the incident: the name and the summary."""
    severity: str
    """S1..S4, from the severity label, PagerDuty priority or urgency (S2 when none says)."""
    status: str
    """firing / resolved (Alertmanager), triggered / acknowledged / resolved (PagerDuty)."""
    labels: dict[str, str] = field(default_factory=dict)
    """The group's common labels (PagerDuty: service, incident number, urgency, priority)."""
    annotations: dict[str, str] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    """{"title": ..., "url": ...}: generator, runbook, dashboard, the incident page."""
    alerts: list[dict[str, Any]] = field(default_factory=list)
    """Each alert of the group: status, labels, annotations, startsAt (Alertmanager only)."""
    count: int = 1
    started_at: str | None = None

    def route_text(self) -> str:
        """What the router reads: the alert's name, its labels as key=value (the router drops
        identity labels and ids), and its summary and description."""
        parts = [self.name]
        parts += [f"{k}={v}" for k, v in self.labels.items() if k != "alertname"]
        parts += [self.annotations[k] for k in _TEXT_ANNOTATIONS if self.annotations.get(k)]
        return " ".join(p for p in parts if p)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "name": self.name,
            "title": self.title,
            "severity": self.severity,
            "status": self.status,
            "count": self.count,
            "started_at": self.started_at,
            "labels": self.labels,
            "annotations": self.annotations,
            "links": self.links,
            "alerts": self.alerts[:MAX_ALERTS_KEPT],
        }


def read_alert(source: str | Path) -> Alert:
    """Read a payload from a file, or from stdin when `source` is "-"."""
    name = "<stdin>" if str(source) == "-" else str(source)
    try:
        text = sys.stdin.read() if str(source) == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AlertError(
            f"cannot read the alert payload {name}",
            [Problem(name, None, str(exc), None, "give a JSON file, or - to read stdin")],
        ) from None
    return parse_alert(text, name)


def parse_alert(text: str, file: str = "<alert>") -> Alert:
    """An Alertmanager webhook payload or a PagerDuty webhook v3 incident event, as an Alert."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AlertError(
            f"{file} is not JSON",
            [Problem(file, None, exc.msg, exc.lineno, "paste the webhook body as sent")],
        ) from None
    if isinstance(data, dict) and isinstance(data.get("alerts"), list):
        return _alertmanager(data, file)
    if isinstance(data, dict) and isinstance(data.get("event"), dict):
        return _pagerduty(data["event"], file)
    if isinstance(data, dict) and isinstance(data.get("messages"), list):  # PagerDuty v2 webhook
        raise AlertError(
            f"{file} is a PagerDuty v2 webhook",
            [Problem(file, "messages", "v2 webhooks are not read", 1, "send a v3 webhook")],
        )
    raise AlertError(
        f"{file} is not an alert payload",
        [
            Problem(
                file,
                "alerts",
                "missing: neither an Alertmanager webhook ('alerts' list) nor a PagerDuty "
                "webhook v3 event ('event' object)",
                1,
                "give the JSON body Alertmanager or PagerDuty posts",
            )
        ],
    )


def _strs(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {
        str(k): str(v) for k, v in value.items() if v is not None and not isinstance(v, dict | list)
    }


def _severity(*words: str | None) -> str:
    from console.incident.model import SEVERITIES

    for w in words:
        if not w:
            continue
        t = str(w).strip().lower().replace("sev", "s").replace(" ", "")
        if t.upper() in SEVERITIES:
            return t.upper()
        if len(t) == 2 and t[0] == "p" and t[1].isdigit():  # P1..P5
            return f"S{min(max(int(t[1]), 1), 4)}"
        if t in _SEVERITY_WORDS:
            return _SEVERITY_WORDS[t]
    return "S2"


def _alertmanager(data: dict[str, Any], file: str) -> Alert:
    alerts = [a for a in data["alerts"] if isinstance(a, dict)]
    if not alerts:
        raise AlertError(
            f"{file} has no alerts",
            [Problem(file, "alerts", "the list is empty", None, "a webhook carries at least one")],
        )
    firing = [a for a in alerts if a.get("status", "firing") == "firing"] or alerts
    first = firing[0]
    first_labels = _strs(first.get("labels"))
    common = _strs(data.get("commonLabels")) or first_labels
    group = _strs(data.get("groupLabels"))
    name = common.get("alertname") or group.get("alertname") or first_labels.get("alertname")
    if not name:
        raise AlertError(
            f"{file} names no alert",
            [
                Problem(
                    file,
                    "alerts[0].labels.alertname",
                    "missing (and no commonLabels.alertname)",
                    None,
                    "Alertmanager always sends alertname; is this the webhook body?",
                )
            ],
        )
    annotations = _strs(data.get("commonAnnotations")) or _strs(first.get("annotations"))
    summary = annotations.get("summary") or annotations.get("description") or ""
    title = f"{name}: {summary}" if summary else name
    if len(firing) > 1:
        title += f" ({len(firing)} alerts)"
    links: list[dict[str, str]] = []
    for key in ("runbook_url", "dashboard_url", "dashboard", "runbook"):
        if annotations.get(key, "").startswith(("http://", "https://")):
            links.append({"title": key, "url": annotations[key]})
    if first.get("generatorURL"):
        links.append({"title": "source", "url": str(first["generatorURL"])})
    if data.get("externalURL"):
        links.append({"title": "alertmanager", "url": str(data["externalURL"])})
    kept = [
        {
            "status": a.get("status"),
            "labels": _strs(a.get("labels")),
            "annotations": _strs(a.get("annotations")),
            "startsAt": a.get("startsAt"),
        }
        for a in alerts[:MAX_ALERTS_KEPT]
    ]
    return Alert(
        source="alertmanager",
        name=name,
        title=" ".join(title.split())[:200],
        severity=_severity(common.get("severity"), first_labels.get("severity")),
        status=str(data.get("status") or first.get("status") or "firing"),
        labels=common,
        annotations=annotations,
        links=links,
        alerts=kept,
        count=len(alerts),
        started_at=min((str(a["startsAt"]) for a in firing if a.get("startsAt")), default=None),
    )


def _pagerduty(event: dict[str, Any], file: str) -> Alert:
    data = event.get("data")
    if not isinstance(data, dict):
        raise AlertError(
            f"{file} is a PagerDuty event without data",
            [Problem(file, "event.data", "missing", None, "send the incident event as posted")],
        )
    kind = str(event.get("resource_type") or data.get("type") or "")
    if kind not in ("incident", ""):
        raise AlertError(
            f"{file} is a PagerDuty {kind} event",
            [Problem(file, "event.resource_type", f"'{kind}', not 'incident'", None,
                     "subscribe the webhook to incident events")],
        )  # fmt: skip
    title = data.get("title") or data.get("summary")
    if not title:
        raise AlertError(
            f"{file} is a PagerDuty incident without a title",
            [
                Problem(
                    file, "event.data.title", "missing", None, "send the incident event as posted"
                )
            ],
        )
    priority = data.get("priority") if isinstance(data.get("priority"), dict) else {}
    service = data.get("service") if isinstance(data.get("service"), dict) else {}
    labels = {
        "event_type": str(event.get("event_type") or ""),
        "incident": str(data.get("number") or data.get("id") or ""),
        "service": str(service.get("summary") or ""),
        "urgency": str(data.get("urgency") or ""),
        "priority": str(priority.get("summary") or ""),
    }
    labels = {k: v for k, v in labels.items() if v}
    links = [{"title": "pagerduty", "url": str(data["html_url"])}] if data.get("html_url") else []
    status = str(
        data.get("status") or str(event.get("event_type", "")).rpartition(".")[2] or "triggered"
    )
    return Alert(
        source="pagerduty",
        name=str(title),
        title=" ".join(str(title).split())[:200],
        severity=_severity(priority.get("summary"), data.get("urgency")),
        status=status,
        labels=labels,
        annotations={"summary": str(title)},
        links=links,
        started_at=str(data.get("created_at") or event.get("occurred_at") or "") or None,
    )


def record_alert(alert: Alert, routes: list[dict[str, Any]], incident_id: str | None = None):
    """The alert on the incident's timeline: its labels, annotations, links and the routes
    ranked for it (redacted like everything else written there)."""
    from console.core import redact, redact_obj
    from console.incident.timeline import record

    detail = redact_obj({**alert.to_json(), "routes": routes})
    title = f"alert {alert.status}: {alert.name} ({alert.source}, {alert.severity})"
    if alert.count > 1:
        title += f", {alert.count} alerts"
    return record("alert", redact(title), detail, incident_id=incident_id)
