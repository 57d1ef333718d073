"""`fixmap incident open|note|list|show|close|export|comms`: the timeline and its drafts.

Exit 0 ok, 2 bad input (no incident open, unknown id, bad severity). With --json, one JSON
document on stdout; messages on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from console.cli.base import (
    CONTEXT,
    FixmapGroup,
    _config_from,
    config_option,
    echo,
    emit_json,
    main,
)
from console.core import ConfigError


def _echo(text: str, *, err: bool = False) -> None:
    echo(text, err=err)


def _emit_json(payload: Any) -> None:
    emit_json(payload)


def _loaded(ctx: click.Context, config_path: Path | None):
    """The site config when there is one (for the history mirror and pins); none is fine.

    An explicit --config that is wrong is an error; an implicit one that is broken is only a
    warning: a broken config must not stop anyone from opening or closing an incident.
    """
    from console.site import load_config

    explicit = _config_from(ctx, config_path)
    if explicit is not None:
        return load_config(explicit)
    try:
        site = load_config(None)
        return site if site.path is not None else None
    except ConfigError as exc:
        _echo(f"fixmap: site config ignored: {exc.message}", err=True)
        return None


def _done(notes: list[str]) -> None:
    for note in notes:
        _echo(f"fixmap: {note}", err=True)
    history = sys.modules.get("console.history.store")
    if history is not None:
        import contextlib

        with contextlib.suppress(Exception):
            history.close_all()


def _pick(incident_id: str | None) -> str:
    """The incident to show: the one given, else the current one, else the newest."""
    from console.incident import IncidentError, current_id, list_incidents

    if incident_id:
        return incident_id
    iid = current_id()
    if iid is not None:
        return iid
    newest = list_incidents()
    if not newest:
        raise IncidentError("no incidents yet: fixmap incident open TITLE [--severity S2]")
    _echo(f"fixmap: no current incident; using the newest, {newest[0].id}", err=True)
    return newest[0].id


def _line(inc) -> str:
    state = inc.status if inc.status == "closed" else f"open {inc.age_text()}"
    service = f" [{inc.service}]" if inc.service else ""
    return f"{inc.id}  {inc.severity}  {state:<12} {inc.title}{service}"


def _show(inc) -> None:
    from console.exports import next_update_due

    _echo(_line(inc))
    _echo(f"  opened {inc.opened_at} by {inc.opened_by}; phase {inc.phase}")
    if inc.closed_at:
        _echo(f"  closed {inc.closed_at} by {inc.closed_by}: {inc.resolution}")
    else:
        _echo(f"  comms: {next_update_due(inc).text()}")
    for e in inc.events:
        ts = e.ts.replace("T", " ").rstrip("Z")[:19]
        _echo(f"  {ts}  {e.kind:<8} {e.title}")


@main.group(cls=FixmapGroup, context_settings=CONTEXT)
def incident() -> None:
    """Incidents: a timeline of what was seen and done, and its postmortem and status drafts."""


@incident.command("open", context_settings=CONTEXT)
@click.argument("title", required=False, default="")
@click.option(
    "--severity", "-s", default="S2", show_default=True, help="S1 (major outage) .. S4 (advisory)."
)
@click.option("--service", default=None, help="The affected service (default: the site's).")
@click.option(
    "--from-alert",
    "from_alert",
    metavar="FILE|-",
    help="Open it from an Alertmanager webhook or PagerDuty v3 event: title, severity, labels, routes.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@config_option
@click.pass_context
def incident_open(
    ctx: click.Context,
    title: str,
    severity: str,
    service: str | None,
    from_alert: str | None,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """Open an incident and make it current: everything fixmap does lands on its timeline."""
    from console.exports import next_update_due
    from console.incident import open_incident

    site = _loaded(ctx, config_path)
    if from_alert:
        from console.cli.triage import open_alert_incident

        given = ctx.get_parameter_source("severity") == click.core.ParameterSource.COMMANDLINE
        open_alert_incident(site, from_alert, title, severity if given else None, service, as_json)
        return
    inc = open_incident(title, severity, service, site=site)
    if as_json:
        _emit_json(inc.summary_json())
    else:
        _echo(f"opened {_line(inc)}")
        _echo(f"  {next_update_due(inc).text()}")
    _done(inc.notes)


@incident.command("note", context_settings=CONTEXT)
@click.argument("text")
@click.option("--id", "incident_id", default=None, help="The incident (default: the current one).")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def incident_note(text: str, incident_id: str | None, as_json: bool) -> None:
    """Add a free-text note to the current incident's timeline."""
    from console.incident import add_note

    event = add_note(text, incident_id)
    if as_json:
        _emit_json(event.to_json())
    else:
        _echo(f"noted at {event.ts}")


@incident.command("list", context_settings=CONTEXT)
@click.option("--all", "show_all", is_flag=True, help="Closed incidents too.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def incident_list(show_all: bool, as_json: bool) -> None:
    """The open incidents (--all: every one), newest first; the current one is marked with *."""
    from console.incident import current_id, list_incidents

    every = list_incidents()
    incidents = every if show_all else [i for i in every if i.is_open]
    current = current_id()
    if not show_all and not as_json and len(every) > len(incidents):
        _echo(f"{len(every) - len(incidents)} closed (fixmap incident list --all)", err=True)
    if as_json:
        _emit_json(
            {
                "current": current,
                "incidents": [i.summary_json() for i in incidents],
            }
        )
        return
    if not incidents:
        _echo("no incident open: fixmap incident open TITLE [--severity S2]", err=True)
        return
    for inc in incidents:
        mark = "*" if inc.id == current and inc.is_open else " "
        _echo(f"{mark} {_line(inc)}")


@incident.command("reopen", context_settings=CONTEXT)
@click.argument("incident_id", metavar="[ID]", required=False)
@click.option("--reason", required=True, help="What came back (a sentence, on the timeline).")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@config_option
@click.pass_context
def incident_reopen(
    ctx: click.Context, incident_id: str | None, reason: str, as_json: bool, config_path
) -> None:
    """Reopen a closed incident (default: the newest closed one) with a reason."""
    from console.incident import reopen_incident

    site = _loaded(ctx, config_path)
    inc = reopen_incident(incident_id, reason, site=site)
    if as_json:
        _emit_json(inc.summary_json())
    else:
        _echo(f"reopened {inc.id}: {inc.title} ({inc.severity})")
    _done(inc.notes)


@incident.command("show", context_settings=CONTEXT)
@click.argument("incident_id", metavar="[ID]", required=False)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def incident_show(incident_id: str | None, as_json: bool) -> None:
    """One incident and its timeline (default: the current one)."""
    from console.incident import load_incident

    inc = load_incident(_pick(incident_id))
    if as_json:
        _emit_json(inc.to_json())
        return
    _show(inc)


@incident.command("close", context_settings=CONTEXT)
@click.option("--resolution", "-r", default=None, help="What brought it back.")
@click.option("--id", "incident_id", default=None, help="The incident (default: the current one).")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@config_option
@click.pass_context
def incident_close(
    ctx: click.Context,
    resolution: str | None,
    incident_id: str | None,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """Close the current incident, recording its resolution."""
    from console.exports import next_update_due
    from console.incident import close_incident

    site = _loaded(ctx, config_path)
    inc = close_incident(resolution, site=site, incident_id=incident_id)
    if as_json:
        _emit_json(inc.summary_json())
    else:
        _echo(f"closed {_line(inc)} after {inc.age_text()}")
        _echo(f"  {next_update_due(inc).text()}")
        _echo(f"  postmortem draft: fixmap incident export {inc.id}")
    _done(inc.notes)


@incident.command("export", context_settings=CONTEXT)
@click.argument("incident_id", metavar="[ID]", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "json"]),
    default="md",
    show_default=True,
    help="md: postmortem draft with the status-page drafts; json: the full record.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of stdout.",
)
@config_option
@click.pass_context
def incident_export(
    ctx: click.Context,
    incident_id: str | None,
    fmt: str,
    output: Path | None,
    config_path: Path | None,
) -> None:
    """The postmortem draft (Markdown) or the full record (JSON) of an incident, offline."""
    from console.exports import check_output, export_incident, write_export
    from console.incident import load_incident

    if output is not None:
        check_output(output)  # before any work: a typo in the folder is said at once
    inc = load_incident(_pick(incident_id))
    site = _loaded(ctx, config_path)
    text = export_incident(inc, fmt, site=site)
    if output is not None:
        written = write_export(output, text + "\n")
        _echo(f"wrote {written}", err=True)
    else:
        echo(text)
    _done([])


@incident.command("comms", context_settings=CONTEXT)
@click.argument("incident_id", metavar="[ID]", required=False)
@click.option(
    "--phase",
    default=None,
    help="investigating | identified | monitoring | resolved (default: the incident's phase).",
)
@click.option("--all", "all_phases", is_flag=True, help="The drafts of every phase.")
@click.option(
    "--posted", is_flag=True, help="Record that this update was posted (restarts the timer)."
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def incident_comms(
    incident_id: str | None, phase: str | None, all_phases: bool, posted: bool, as_json: bool
) -> None:
    """The status-page draft for the current phase, and when the next update is due."""
    from console.exports import next_update_due, status_draft, status_drafts
    from console.incident import load_incident, mark_update_posted, parse_phase, set_phase

    inc = load_incident(_pick(incident_id))
    wanted = parse_phase(phase) if phase else inc.phase
    if posted:
        if phase and wanted != inc.phase and inc.is_open:
            set_phase(wanted, incident_id=inc.id)
        mark_update_posted(wanted, incident_id=inc.id)
        inc = load_incident(inc.id)
    drafts = status_drafts(inc) if all_phases else [status_draft(inc, wanted)]
    due = next_update_due(inc)
    if as_json:
        _emit_json(
            {
                "incident": inc.id,
                "phase": inc.phase,
                "drafts": [d.to_json() for d in drafts],
                "next_update": {
                    "due": due.due.isoformat() if due.due else None,
                    "overdue": due.overdue,
                    "why": due.why,
                },
            }
        )
        return
    for d in drafts:
        _echo(d.text())
        _echo("")
    _echo(due.text())
