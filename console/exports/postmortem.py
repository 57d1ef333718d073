"""The postmortem draft (the seed's §4.12 template) and the incident's full export.

`postmortem_markdown` writes what the timeline can say (summary, impact window, timeline
table, what fired, actions, pins in play, route taken, notes, status-page drafts) and leaves a
TODO where only people can answer (root cause, what went well, owners). Follow-ups name the
regression test that would have caught each failing target, and every follow-up asks for a test
that fails before the fix and passes after. `incident_json` is everything, for tools;
`export_incident` picks between the two. Both pass the redactor: secrets never reach an export.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from console.core.durations import duration_text
from console.exports.evidence import action_title, incident_actions, pins_in_play, probe_rows
from console.exports.render import md_cell, utc_clock, utc_stamp
from console.exports.status import POSTMORTEM_HOURS, next_update_due, status_drafts
from console.gates import format_value
from console.incident import SEVERITY_MEANING, Incident, load_incident

ROOT_CAUSE_CLASSES: tuple[tuple[str, str, str], ...] = (
    (
        "Pin drift",
        "answers change after a silent provider update",
        "version_pinning_and_model_lock",
    ),
    ("Index swap error", "mixed citations, stale blends", "vector_index_build_and_swap"),
    ("Cache namespace bug", "cross-arm answers after cutover", "cache_warmup_invalidation"),
    ("Idempotency missing", "duplicate writes or refunds", "idempotency_dedupe"),
    ("Load controls weak", "429 storms, tail spikes", "rate_limit_backpressure, retry_backoff"),
    ("Boot ordering", "first call fails after deploy", "bootstrap_ordering"),
    ("Prompt regression", "fluent but wrong citations", "rollout_readiness_gate"),
)
"""The seed's root-cause classifier (postmortem page, §4.12)."""

REGRESSION_TESTS: dict[str, str] = {
    "index": "alias swap rehearsal: build offline, head-to-head against the live index, "
    "reversible single flip; hash + counts equal",
    "version_lock": "pins check: every request carries the 11 pins; prompt header checksum fails "
    "on a change without a PROMPT_VER bump",
    "delta_s": "retrieval quality: 20-40 gold items, ΔS ≤ 0.45, coverage ≥ 0.70, λ convergent "
    "on 2 seeds",
    "coverage": "retrieval quality: 20-40 gold items, coverage ≥ 0.70 on the expected section",
    "lambda": "reranker stability: deterministic top-k for a frozen candidate set on 2 seeds",
    "idempotency": "idempotency: webhook replay, API retry and consumer crash replay give 0 "
    "duplicates",
    "duplicates": "idempotency: webhook replay, API retry and consumer crash replay give 0 "
    "duplicates",
    "p95": "rate/retry harness: token bucket + full jitter under a burst; p95 in budget",
    "p95_live": "rate/retry harness: token bucket + full jitter under a burst; p95 in budget",
    "p95_uplift": "rate/retry harness: p95 ≤ baseline + 15 % under a replayed burst",
    "warmup": "cache versioning: keys include INDEX_HASH and PROMPT_VER; L1 and L2 warmed",
    "boot": "cold start and boot order: secrets ready, index mounted, health probe runs a gold QA",
    "error_rate": "rollback rehearsal: error rate < 0.5 % within 10 min of the flip",
    "rate_429": "rate/retry harness: 429 p95 < 2 % in bursts",
}
"""Failing target -> the seed's regression-suite item that would have caught it (§4.12)."""


def _timeline(inc: Incident, actions: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(ts, kind, what, who): every event, plus journaled actions the timeline did not get."""
    rows = [(e.ts, e.kind, e.title, e.who) for e in inc.events]
    for a in actions:
        if a.get("from") == "journal":
            rows.append(
                (
                    str(a.get("ts")),
                    "action",
                    action_title(a) + " (journal)",
                    str(a.get("who") or ""),
                )
            )
    return sorted(rows, key=lambda r: r[0])


def _impact(incident: Incident, actions: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(label, time, what) for the key moments: first red, opened, mitigation, green, closed."""
    moments: list[tuple[str, str, str]] = []
    red = next(
        (
            e
            for e in incident.events
            if (e.kind == "gate" and e.detail.get("verdict") == "no-go")
            or (
                e.kind == "probe"
                and any((p or {}).get("status") == "fail" for p in e.detail.get("probes") or [])
            )
        ),
        None,
    )
    if red is not None:
        moments.append(("First red signal", red.ts, red.title))
    moments.append(("Incident opened", incident.opened_at, incident.title))
    mitigation = next((a for a in actions if a.get("status") in ("done", "already_done")), None)
    if mitigation is not None:
        moments.append(
            ("Mitigation (first action done)", str(mitigation.get("ts")), action_title(mitigation))
        )
    after = str(mitigation.get("ts")) if mitigation else (red.ts if red else incident.opened_at)
    green = next(
        (e for e in incident.of_kind("gate") if e.detail.get("verdict") == "go" and e.ts >= after),
        None,
    )
    if green is not None and (red is not None or mitigation is not None):
        moments.append(("Green confirmed (gate go)", green.ts, green.title))
    if incident.closed_at:
        moments.append(("Closed", incident.closed_at, incident.resolution or ""))
    return sorted(moments, key=lambda m: m[1])


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "incident"


def postmortem_markdown(
    incident: Incident, *, site: Any = None, now: datetime | None = None
) -> str:
    """A postmortem draft a team can start its review from (seed §4.12 template)."""
    from console.core import redact

    now = now or datetime.now(UTC)
    inc = incident
    closed = inc.closed
    publish_by = (closed or now) + timedelta(hours=POSTMORTEM_HOURS)
    out: list[str] = []
    w = out.append
    w(f"# Incident {_slug(inc.title)} · severity {inc.severity}")
    w("")
    w(
        f"> Draft written by fixmap from the timeline of {inc.id} on {utc_stamp(now)}. Secrets are "
        f"redacted. Fill in every TODO, then publish within {POSTMORTEM_HOURS} h of the "
        f"resolution: by **{utc_stamp(publish_by)}**."
    )
    w("")
    w("## Summary")
    w("")
    w("| | |")
    w("| --- | --- |")
    w(f"| Incident | {md_cell(inc.id)} |")
    w(f"| Title | {md_cell(inc.title)} |")
    w(f"| Service | {md_cell(inc.service or '-')} |")
    w(f"| Severity | {inc.severity} ({SEVERITY_MEANING.get(inc.severity, '')}) |")
    if inc.site:
        w(f"| Site | {md_cell(inc.site)} |")
    w(
        f"| Opened | {utc_clock(inc.opened_at)} UTC by {md_cell(inc.opened_by)} on {md_cell(inc.host)} |"
    )
    if closed:
        w(f"| Closed | {utc_clock(inc.closed_at or '')} UTC by {md_cell(inc.closed_by)} |")
        w(f"| Duration | {duration_text(inc.age_s())} |")
        w(f"| Resolution | {md_cell(inc.resolution)} |")
    else:
        w(f"| Status | still open ({inc.phase}), {inc.age_text(now)} so far |")
    w(f"| Timeline | {len(inc.events)} events |")
    w("")
    w("TODO: two or three sentences: what users saw, why, and what brought it back.")
    w("")

    actions = incident_actions(inc)
    w("## Impact window")
    w("")
    for label, ts, what in _impact(inc, actions):
        w(f"- **{label}**: {utc_clock(ts)} UTC — {md_cell(what)}")
    w("")
    w("TODO: blast radius: users or tenants affected, error rate, answers served wrong, cost.")
    w("")

    w("## Timeline")
    w("")
    w("| time (UTC) | kind | what | who |")
    w("| --- | --- | --- | --- |")
    for ts, kind, what, who in _timeline(inc, actions):
        w(f"| {utc_clock(ts)} | {kind} | {md_cell(what)} | {md_cell(who)} |")
    w("")

    w("## What fired")
    w("")
    gates = inc.of_kind("gate")
    if gates:
        w("### Gates")
        w("")
        for e in gates:
            d = e.detail
            w(
                f"- {utc_clock(e.ts)} **{md_cell(d.get('set'))}**: {md_cell(d.get('summary') or d.get('verdict'))}"
            )
            rows = [t for t in d.get("targets") or [] if t.get("status") != "pass"]
            for t in rows:
                value = format_value(t.get("value"), str(t.get("unit") or ""))
                w(
                    f"  - `{md_cell(t.get('name'))}` {t.get('status')}: value {md_cell(value)}, "
                    f"threshold {md_cell(t.get('threshold'))}; {md_cell(t.get('reason'))}"
                )
        w("")
    probes = probe_rows(inc)
    red_probes = [(ts, p) for ts, p in probes if p.get("status") != "pass"]
    if probes:
        w("### Probes")
        w("")
    if red_probes:
        w("| time (UTC) | probe | status | value | threshold | reason |")
        w("| --- | --- | --- | --- | --- | --- |")
        for ts, p in red_probes:
            w(
                f"| {utc_clock(ts)} | {md_cell(p.get('name'))} | {md_cell(p.get('status'))} | "
                f"{md_cell(p.get('value'))} | {md_cell(p.get('threshold'))} | {md_cell(p.get('reason'))} |"
            )
        w("")
    if probes:
        passed = len(probes) - len(red_probes)
        w(
            f"{passed} of {len(probes)} probe results passed; every value is in the JSON export "
            f"(fixmap incident export {inc.id} --format json)."
        )
        w("")
    queries = inc.of_kind("query")
    if queries:
        w("### Queries")
        w("")
        for e in queries:
            measures = e.detail.get("measures") or {}
            shown = ", ".join(
                f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                for k, v in list(measures.items())[:6]
            )
            w(f"- {utc_clock(e.ts)} {md_cell(e.title)}" + (f": {md_cell(shown)}" if shown else ""))
        w("")
    if not (gates or probes or queries):
        w("Nothing was measured from fixmap during the incident.")
        w("")

    w("## Actions")
    w("")
    if actions:
        w("| time (UTC) | action | outcome | key | exit / HTTP | verify | who |")
        w("| --- | --- | --- | --- | --- | --- | --- |")
        for a in actions:
            code = a.get("exit_code") if a.get("exit_code") is not None else a.get("http_status")
            verify = a.get("verify") or {}
            vtext = f"{verify.get('probe')} {verify.get('status')}" if verify else "-"
            outcome = str(a.get("status"))
            if a.get("break_glass"):
                outcome += f" (break glass: {a['break_glass']})"
            w(
                f"| {utc_clock(str(a.get('ts')))} | {md_cell(a.get('action'))} | {md_cell(outcome)} | "
                f"`{md_cell(a.get('key'))}` | {md_cell(code if code is not None else '-')} | "
                f"{md_cell(vtext)} | {md_cell(a.get('who'))} |"
            )
    else:
        w("No action was run from fixmap during the incident.")
    w("")

    w("## Versions and pins in play")
    w("")
    pins, where = pins_in_play(inc, site)
    if pins:
        w("| pin | deployed | lock |")
        w("| --- | --- | --- |")
        for k, deployed, lock in pins:
            mark = "" if deployed == lock or deployed == "(not observed)" else " ≠"
            w(f"| {md_cell(k)} | {md_cell(deployed)}{mark} | {md_cell(lock)} |")
        w("")
    w(f"Source: {where}.")
    w("")

    w("## Route taken")
    w("")
    steps = inc.of_kind("route", "step")
    if steps:
        for e in steps:
            w(f"- {utc_clock(e.ts)} {md_cell(e.title)}")
    else:
        w("No playbook was opened in the console during the incident.")
    w("")

    notes = inc.of_kind("note")
    if notes:
        w("## Notes")
        w("")
        for e in notes:
            w(f"- {utc_clock(e.ts)} ({md_cell(e.who)}) {md_cell(e.title)}")
        w("")

    w("## Root cause")
    w("")
    w("TODO: tick the class and describe the mechanism (seed root-cause classifier):")
    w("")
    for name, sign, page in ROOT_CAUSE_CLASSES:
        w(f"- [ ] **{name}**: {sign} → {page}")
    w("")
    w("Mechanism: TODO. First bad change: TODO. Last known-good set: TODO.")
    w("")

    w("## What went well, what went wrong")
    w("")
    w("- Went well: TODO")
    w("- Went wrong: TODO")
    w("")

    w("## Follow-ups")
    w("")
    w(
        "Every follow-up needs an owner, a due date and a regression test that **fails on the "
        "pre-fix build and passes on the fixed one**."
    )
    w("")
    w("| # | fix (fix page, diff) | owner | due | regression test (fails before, passes after) |")
    w("| --- | --- | --- | --- | --- |")
    failing: list[str] = []
    for e in gates:
        for t in e.detail.get("targets") or []:
            if t.get("status") == "fail" and t.get("name") not in failing:
                failing.append(str(t.get("name")))
    n = 0
    for name in failing:
        suite = REGRESSION_TESTS.get(name)
        if suite:
            n += 1
            w(f"| {n} | TODO: fix for `{md_cell(name)}` | TODO | TODO | {md_cell(suite)} |")
    n += 1
    w(f"| {n} | TODO | TODO | TODO | TODO: the test that fails before the fix, passes after |")
    w("")

    w("## Status-page drafts")
    w("")
    due = next_update_due(inc, now)
    w(f"Comms: {due.text(now)}.")
    w("")
    for d in status_drafts(inc, now):
        w(f"### {d.phase.capitalize()} ({d.state})")
        w("")
        w(f"**{d.title}**")
        w("")
        w(d.body)
        w("")
        w(f"Banner: {d.banner}")
        w("")

    w("## Appendix")
    w("")
    w(f"- Timeline file: `{inc.path}`" if inc.path else "- Timeline file: -")
    w("- Full record: `fixmap incident export " + inc.id + " --format json`")
    w("")
    return redact("\n".join(out))


def incident_json(incident: Incident, *, site: Any = None, now: datetime | None = None) -> dict:
    """Everything about the incident: fields, every event, actions, drafts, comms timer."""
    from console.core import redact_obj

    now = now or datetime.now(UTC)
    due = next_update_due(incident, now)
    pins, where = pins_in_play(incident, site)
    data = incident.to_json()
    data.update(
        {
            "actions": incident_actions(incident),
            "pins": [{"pin": k, "deployed": d, "lock": lk} for k, d, lk in pins],
            "pins_source": where,
            "status_drafts": [d.to_json() for d in status_drafts(incident, now)],
            "next_update": {
                "due": due.due.isoformat() if due.due else None,
                "overdue": due.overdue,
                "why": due.why,
            },
            "postmortem_due": (
                (incident.closed or now) + timedelta(hours=POSTMORTEM_HOURS)
            ).isoformat(),
        }
    )
    return redact_obj(data)


def export_incident(
    incident: Incident | str, fmt: str = "md", *, site: Any = None, now: datetime | None = None
) -> str:
    """The incident as Markdown (postmortem draft with the status drafts) or JSON text."""
    from console.core import redact_json

    inc = load_incident(incident) if isinstance(incident, str) else incident
    if fmt == "md":
        return postmortem_markdown(inc, site=site, now=now)
    if fmt == "json":
        return redact_json(incident_json(inc, site=site, now=now), indent=2)
    raise ValueError(f"format must be md or json, not {fmt!r}")
