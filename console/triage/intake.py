"""An alert becomes an incident: opened with the alert's title and severity, its labels,
annotations and links on the timeline, and the routes ranked from the alert's name, its
annotations and the live evidence."""

from __future__ import annotations

from typing import Any

from console.triage.evidence import gather_evidence
from console.triage.rank import Triage, triage


def rank_alert(site: Any, alert: Any, *, evidence: bool = True, timeout: float = 8.0) -> Triage:
    """The routes for an alert: its text, and the site's evidence when there is a site."""
    from console.playbooks import load_catalog
    from console.routing import Router, get_router

    if site is not None:
        catalog = load_catalog(site.playbook_dirs)
        router = get_router(site)
    else:
        catalog = load_catalog()
        router = Router.from_playbooks(catalog)
    ev = gather_evidence(site, timeout=timeout) if evidence and site is not None else None
    return triage(router, catalog, alert.route_text(), ev)


def open_from_alert(
    alert: Any,
    site: Any = None,
    *,
    title: str | None = None,
    severity: str | None = None,
    service: str | None = None,
    evidence: bool = True,
    timeout: float = 8.0,
) -> tuple[Any, Triage]:
    """Open the incident for `alert` and put the alert (and its ranked routes) on its timeline.

    A `title` given replaces the alert's; so do `severity` and `service`. The routes are
    ranked before the incident opens, so a refusal to open (another incident is
    still open) costs nothing and records nothing.
    """
    from console.incident import current_incident, open_incident, record_alert

    if current_incident() is not None:
        open_incident(
            title or alert.title, severity or alert.severity, service, site=site
        )  # raises
    ranked = rank_alert(site, alert, evidence=evidence, timeout=timeout)
    service = service or alert.labels.get("service")
    inc = open_incident(title or alert.title, severity or alert.severity, service, site=site)
    routes = [r.to_json() for r in ranked.routes[:5]]
    record_alert(alert, routes, inc.id)
    if ranked.evidence is not None and ranked.evidence.findings:
        from console.incident import record

        record(
            "probe",
            "evidence at intake: " + "; ".join(f.text for f in ranked.evidence.findings[:4]),
            ranked.evidence.to_json(),
            incident_id=inc.id,
        )
    return inc, ranked
