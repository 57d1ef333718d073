"""Drafts written from an incident's timeline, offline: the postmortem, the status-page updates,
and the seed's 60-second ship checklist ticked from gate results.

Nothing here reaches the network: a bastion often has no outbound access, so the drafts are text
to paste. Every text passes the redactor. Status-page text is built from the incident's public
fields only (service, severity, phase, times): internal measures (ΔS, coverage, λ, hashes, p95
numbers) never reach users, as the seed's comms page asks.

- `postmortem_markdown(incident, *, site=None, now=None) -> str`
- `status_drafts(incident, now=None) -> list[StatusDraft]` (investigating, identified, monitoring,
  resolved) and `next_update_due(incident, now=None) -> UpdateDue`
- `incident_json(incident, *, site=None, now=None) -> dict`
- `export_incident(incident_or_id, fmt="md", *, site=None, now=None) -> str`
- `checklist_status(site, gate_run) -> list[(item, detail, status, why)]`, status ticked | open
  | unknown
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from console.core.durations import duration_text
from console.core.identity import parse_ts
from console.gates import format_value
from console.incident import PHASES, SEVERITY_MEANING, Incident, TimelineEvent, load_incident

FIRST_UPDATE_MIN = 10
UPDATE_EVERY_MIN = 15
UPDATE_EVERY_MAX_MIN = 20
STABLE_EVERY_MIN = 30
POSTMORTEM_HOURS = 48

STATUS_STATE = {
    "S1": "Major outage",
    "S2": "Degraded performance",
    "S3": "Partial outage",
    "S4": "Informational",
}
"""Severity -> the status-page state while investigating (seed §4.14)."""

USER_EFFECT = {
    "S1": "errors or missing answers for most users",
    "S2": "slow or degraded answers and some timeouts",
    "S3": "problems for some users of one feature or region",
    "S4": "a possible issue; we do not expect any disruption",
}

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

_INTERNAL = re.compile(
    r"ΔS|delta[ _-]?s|\bds[ _]|coverage|λ|lambda|flip[ _]rate|p9[59]|p50|index[ _]?hash|"
    r"INDEX_HASH|embedd|idempoten|\bgate\b|\bprobe|mismatch",
    re.IGNORECASE,
)


def internal_terms(text: str) -> list[str]:
    """Internal measure names found in a text meant for users (empty when it is clean)."""
    return sorted({m.group(0) for m in _INTERNAL.finditer(text or "")})


def _hm(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%H:%M UTC")


def _stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _clock(ts: str) -> str:
    try:
        return parse_ts(ts).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return ts


def _cell(text: Any) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return " ".join(str("" if text is None else text).split()).replace("|", "\\|")


# ------------------------------------------------------------------ comms


@dataclass(frozen=True)
class UpdateDue:
    """When the next public update is due, and why."""

    due: datetime | None
    overdue: bool
    why: str

    def text(self, now: datetime | None = None) -> str:
        if self.due is None:
            return self.why
        now = now or datetime.now(UTC)
        delta = (self.due - now).total_seconds()
        when = f"overdue by {duration_text(-delta)}" if delta < 0 else f"in {duration_text(delta)}"
        return f"next update due {_hm(self.due)} ({when}): {self.why}"


def next_update_due(incident: Incident, now: datetime | None = None) -> UpdateDue:
    """First update ≤ 10 min after open, then every 15-20 min, every 30 min once stable."""
    now = now or datetime.now(UTC)
    if not incident.is_open:
        closed = incident.closed or now
        return UpdateDue(
            None,
            False,
            f"resolved: no more updates; publish the postmortem by "
            f"{_stamp(closed + timedelta(hours=POSTMORTEM_HOURS))} (≤ {POSTMORTEM_HOURS} h)",
        )
    posts = incident.of_kind("comms")
    if not posts:
        due = incident.opened + timedelta(minutes=FIRST_UPDATE_MIN)
        why = f"the first public update is due ≤ {FIRST_UPDATE_MIN} min after the incident opened"
    else:
        last = posts[-1].time
        if incident.phase == "monitoring":
            due = last + timedelta(minutes=STABLE_EVERY_MIN)
            why = f"stable (monitoring): an update every {STABLE_EVERY_MIN} min"
        else:
            due = last + timedelta(minutes=UPDATE_EVERY_MIN)
            why = (
                f"an update every {UPDATE_EVERY_MIN}-{UPDATE_EVERY_MAX_MIN} min until stable "
                f"(last posted {_hm(last)})"
            )
    return UpdateDue(due, now > due, why)


@dataclass(frozen=True)
class StatusDraft:
    """One status-page update, ready to paste; no internal measures in it."""

    phase: str
    state: str
    """The status-page component state: Major outage, Degraded performance, Monitoring..."""
    title: str
    body: str
    banner: str
    """The in-product banner that must say the same thing."""
    next_update: datetime | None

    def text(self) -> str:
        lines = [f"[{self.phase.upper()}] {self.state}: {self.title}", "", self.body]
        lines += ["", f"Banner: {self.banner}"]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "state": self.state,
            "title": self.title,
            "body": self.body,
            "banner": self.banner,
            "next_update": self.next_update.isoformat() if self.next_update else None,
        }


def _component(incident: Incident) -> str:
    name = incident.service or "the service"
    name = re.sub(r"[^A-Za-z0-9 ._/-]", "", name).strip() or "the service"
    return name if not internal_terms(name) else "the service"


def _rolled_back(actions: list[dict[str, Any]]) -> bool:
    return any(
        "rollback" in str(a.get("action") or "").lower()
        and a.get("status") in ("done", "already_done")
        for a in actions
    )


def status_draft(incident: Incident, phase: str, now: datetime | None = None) -> StatusDraft:
    """The update for one comms phase, from the incident's public fields only."""
    from console.core import redact

    now = now or datetime.now(UTC)
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {', '.join(PHASES)}")
    comp = _component(incident)
    sev = incident.severity if incident.severity in STATUS_STATE else "S2"
    effect = USER_EFFECT[sev]
    actions = incident_actions(incident)
    rolled_back = _rolled_back(actions)
    acted = bool(actions)
    if phase == "investigating":
        nxt = now + timedelta(minutes=UPDATE_EVERY_MIN)
        state = STATUS_STATE[sev]
        title = f"Investigating {'issues' if sev != 'S4' else 'a possible issue'} with {comp}"
        body = f"We are investigating {effect} on {comp}. " + (
            "We have engaged our rollback options. " if acted else ""
        )
        body += f"Next update by {_hm(nxt)}."
        banner = f"We are looking into {effect} on {comp}. See our status page for updates."
    elif phase == "identified":
        nxt = now + timedelta(minutes=UPDATE_EVERY_MIN)
        state = STATUS_STATE[sev]
        title = f"Cause identified: {comp}"
        body = (
            f"We have identified the cause of the {effect} on {comp} and are "
            + ("rolling back the latest change. " if acted or rolled_back else "applying a fix. ")
            + "Cause: [one sentence in user terms, e.g. 'a configuration change in our latest "
            "release']. " + f"Next update by {_hm(nxt)}."
        )
        banner = f"We know what is causing problems on {comp} and are fixing it."
    elif phase == "monitoring":
        nxt = now + timedelta(minutes=STABLE_EVERY_MIN)
        state = "Monitoring"
        fix = (
            f"We have restored the previous version of {comp}"
            if rolled_back
            else "A fix has been applied"
        )
        title = f"Recovering: {comp}"
        body = (
            f"{fix} and {comp} is recovering. We are monitoring it closely. "
            f"Next update by {_hm(nxt)}."
        )
        banner = f"{comp} is recovering; we are monitoring it."
    else:
        nxt = None
        state = "Operational"
        since = incident.closed or now
        title = f"Resolved: {comp}"
        body = (
            f"This incident has been resolved: {comp} has been working normally since "
            f"{_hm(since)}. We are sorry for the disruption. A write-up with the cause and our "
            f"prevention steps will follow within {POSTMORTEM_HOURS} hours."
        )
        banner = "(remove the banner)"
    return StatusDraft(phase, state, redact(title), redact(body), redact(banner), nxt)


def status_drafts(incident: Incident, now: datetime | None = None) -> list[StatusDraft]:
    """One draft per comms phase: investigating, identified, monitoring, resolved."""
    return [status_draft(incident, p, now) for p in PHASES]


# ------------------------------------------------------------------ actions and evidence


def incident_actions(incident: Incident) -> list[dict[str, Any]]:
    """Actions during the incident: from its timeline and from the action journal (runs tagged
    with the incident, or started while it was open), oldest first, one row per run."""
    rows: dict[str, dict[str, Any]] = {}
    for e in incident.of_kind("action"):
        d = e.detail
        key = f"{d.get('key')}:{d.get('run') or e.ts}"
        rows[key] = {
            "ts": e.ts,
            "action": d.get("action"),
            "status": d.get("status"),
            "key": d.get("key"),
            "run": d.get("run"),
            "exit_code": d.get("exit_code"),
            "http_status": d.get("http_status"),
            "verify": d.get("verify"),
            "break_glass": d.get("break_glass"),
            "reason": d.get("reason"),
            "who": e.who,
            "from": "timeline",
        }
    try:
        from console.actions import read_journal

        entries = read_journal()
    except Exception:
        entries = []
    start = incident.opened
    end = incident.closed or datetime.now(UTC)
    for entry in entries:
        try:
            started = parse_ts(entry.started_at)
        except ValueError:
            continue
        if entry.incident != incident.id and not (start <= started <= end):
            continue
        if entry.incident and entry.incident != incident.id:
            continue
        key = f"{entry.key}:{entry.run or entry.started_at}"
        existing = next(
            (r for r in rows.values() if r["run"] and r["run"] == entry.run),
            None,
        )
        row = existing or rows.setdefault(key, {"ts": entry.started_at, "from": "journal"})
        found = {
            "action": entry.action,
            "status": entry.status,
            "key": entry.key,
            "run": entry.run,
            "exit_code": entry.exit_code,
            "http_status": entry.http_status,
            "verify": entry.verify,
            "break_glass": entry.break_glass,
            "reason": entry.note or row.get("reason"),
            "who": entry.who or row.get("who"),
        }
        row.update({k: v for k, v in found.items() if v is not None or k not in row})
        if existing is not None:
            existing["from"] = "timeline + journal"
    return sorted(rows.values(), key=lambda r: str(r.get("ts")))


def _gate_events(incident: Incident) -> list[TimelineEvent]:
    return incident.of_kind("gate")


def _probe_rows(incident: Incident) -> list[tuple[str, dict[str, Any]]]:
    """(ts, probe result) for every probe result on the timeline (own events and gate runs)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for e in incident.events:
        if e.kind in ("probe", "gate"):
            for p in e.detail.get("probes") or []:
                if isinstance(p, dict):
                    out.append((e.ts, p))
    return out


def _pins_in_play(incident: Incident, site: Any) -> tuple[list[tuple[str, str, str]], str]:
    """(pin, deployed, lock) rows and where they come from."""
    observed = [(ts, p) for ts, p in _probe_rows(incident) if p.get("kind") == "pins"]
    for ts, p in reversed(observed):
        values = p.get("values") or {}
        deployed = values.get("deployed")
        lock = values.get("lock")
        if isinstance(deployed, dict) and isinstance(lock, dict):
            rows = [(k, str(deployed.get(k)), str(lock.get(k))) for k in lock]
            first = observed[0][1].get("values") or {}
            note = f"from the pins probe at {_clock(ts)}"
            drift = [
                k
                for k in lock
                if isinstance(first.get("deployed"), dict)
                and str(first["deployed"].get(k)) != str(deployed.get(k))
            ]
            if drift and len(observed) > 1:
                note += f"; at {_clock(observed[0][0])} these differed: " + ", ".join(
                    f"{k} {first['deployed'].get(k)}" for k in drift
                )
            return rows, note
    pins: dict[str, str] = {}
    try:
        if site is not None and site.path is not None:
            pins = dict(site.config.pins)
    except Exception:
        pins = {}
    if pins:
        return [(k, "(not observed)", v) for k, v in pins.items()], (
            "the site config's pinned lock; no pins probe ran during the incident"
        )
    return [], "not captured: run the pins probe (fixmap probe pins) during the incident"


def _action_title(a: dict[str, Any]) -> str:
    text = f"action {a.get('action')}: {a.get('status')}"
    verify = a.get("verify") or {}
    if verify:
        text += f", verify {verify.get('status')}"
    return text


def _timeline(inc: Incident, actions: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(ts, kind, what, who): every event, plus journaled actions the timeline did not get."""
    rows = [(e.ts, e.kind, e.title, e.who) for e in inc.events]
    for a in actions:
        if a.get("from") == "journal":
            rows.append(
                (
                    str(a.get("ts")),
                    "action",
                    _action_title(a) + " (journal)",
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
            ("Mitigation (first action done)", str(mitigation.get("ts")), _action_title(mitigation))
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


# ------------------------------------------------------------------ postmortem


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
        f"> Draft written by fixmap from the timeline of {inc.id} on {_stamp(now)}. Secrets are "
        f"redacted. Fill in every TODO, then publish within {POSTMORTEM_HOURS} h of the "
        f"resolution: by **{_stamp(publish_by)}**."
    )
    w("")
    w("## Summary")
    w("")
    w("| | |")
    w("| --- | --- |")
    w(f"| Incident | {_cell(inc.id)} |")
    w(f"| Title | {_cell(inc.title)} |")
    w(f"| Service | {_cell(inc.service or '-')} |")
    w(f"| Severity | {inc.severity} ({SEVERITY_MEANING.get(inc.severity, '')}) |")
    if inc.site:
        w(f"| Site | {_cell(inc.site)} |")
    w(f"| Opened | {_clock(inc.opened_at)} UTC by {_cell(inc.opened_by)} on {_cell(inc.host)} |")
    if closed:
        w(f"| Closed | {_clock(inc.closed_at or '')} UTC by {_cell(inc.closed_by)} |")
        w(f"| Duration | {duration_text(inc.age_s())} |")
        w(f"| Resolution | {_cell(inc.resolution)} |")
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
        w(f"- **{label}**: {_clock(ts)} UTC — {_cell(what)}")
    w("")
    w("TODO: blast radius: users or tenants affected, error rate, answers served wrong, cost.")
    w("")

    w("## Timeline")
    w("")
    w("| time (UTC) | kind | what | who |")
    w("| --- | --- | --- | --- |")
    for ts, kind, what, who in _timeline(inc, actions):
        w(f"| {_clock(ts)} | {kind} | {_cell(what)} | {_cell(who)} |")
    w("")

    w("## What fired")
    w("")
    gates = _gate_events(inc)
    if gates:
        w("### Gates")
        w("")
        for e in gates:
            d = e.detail
            w(
                f"- {_clock(e.ts)} **{_cell(d.get('set'))}**: {_cell(d.get('summary') or d.get('verdict'))}"
            )
            rows = [t for t in d.get("targets") or [] if t.get("status") != "pass"]
            for t in rows:
                value = format_value(t.get("value"), str(t.get("unit") or ""))
                w(
                    f"  - `{_cell(t.get('name'))}` {t.get('status')}: value {_cell(value)}, "
                    f"threshold {_cell(t.get('threshold'))}; {_cell(t.get('reason'))}"
                )
        w("")
    probes = _probe_rows(inc)
    red_probes = [(ts, p) for ts, p in probes if p.get("status") != "pass"]
    if probes:
        w("### Probes")
        w("")
    if red_probes:
        w("| time (UTC) | probe | status | value | threshold | reason |")
        w("| --- | --- | --- | --- | --- | --- |")
        for ts, p in red_probes:
            w(
                f"| {_clock(ts)} | {_cell(p.get('name'))} | {_cell(p.get('status'))} | "
                f"{_cell(p.get('value'))} | {_cell(p.get('threshold'))} | {_cell(p.get('reason'))} |"
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
            w(f"- {_clock(e.ts)} {_cell(e.title)}" + (f": {_cell(shown)}" if shown else ""))
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
                f"| {_clock(str(a.get('ts')))} | {_cell(a.get('action'))} | {_cell(outcome)} | "
                f"`{_cell(a.get('key'))}` | {_cell(code if code is not None else '-')} | "
                f"{_cell(vtext)} | {_cell(a.get('who'))} |"
            )
    else:
        w("No action was run from fixmap during the incident.")
    w("")

    w("## Versions and pins in play")
    w("")
    pins, where = _pins_in_play(inc, site)
    if pins:
        w("| pin | deployed | lock |")
        w("| --- | --- | --- |")
        for k, deployed, lock in pins:
            mark = "" if deployed == lock or deployed == "(not observed)" else " ≠"
            w(f"| {_cell(k)} | {_cell(deployed)}{mark} | {_cell(lock)} |")
        w("")
    w(f"Source: {where}.")
    w("")

    w("## Route taken")
    w("")
    steps = inc.of_kind("route", "step")
    if steps:
        for e in steps:
            w(f"- {_clock(e.ts)} {_cell(e.title)}")
    else:
        w("No playbook was opened in the console during the incident.")
    w("")

    notes = inc.of_kind("note")
    if notes:
        w("## Notes")
        w("")
        for e in notes:
            w(f"- {_clock(e.ts)} ({_cell(e.who)}) {_cell(e.title)}")
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
            w(f"| {n} | TODO: fix for `{_cell(name)}` | TODO | TODO | {_cell(suite)} |")
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


# ------------------------------------------------------------------ JSON and dispatch


def incident_json(incident: Incident, *, site: Any = None, now: datetime | None = None) -> dict:
    """Everything about the incident: fields, every event, actions, drafts, comms timer."""
    from console.core import redact_obj

    now = now or datetime.now(UTC)
    due = next_update_due(incident, now)
    pins, where = _pins_in_play(incident, site)
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


# ------------------------------------------------------------------ the ship checklist


def _collect(gate_run: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Target results by name (the latest run wins) and verdicts by set."""
    runs = gate_run if isinstance(gate_run, list | tuple) else [gate_run] if gate_run else []
    targets: dict[str, Any] = {}
    verdicts: dict[str, str] = {}
    for run in runs:
        verdicts[run.set] = run.verdict
        for t in run.targets:
            targets[t.name] = t
    return targets, verdicts


def _tick(targets: dict[str, Any], names: tuple[str, ...], run_hint: str) -> tuple[str, str]:
    found = [targets[n] for n in names if n in targets]
    failing = [t for t in found if t.status == "fail"]
    if failing:
        return "open", "; ".join(f"{t.name}: {t.reason}" for t in failing)
    if len(found) == len(names) and all(t.status == "pass" for t in found):
        return "ticked", "; ".join(f"{t.name} pass" for t in found)
    missing = [n for n in names if n not in targets or targets[n].status != "pass"]
    return "unknown", f"no verdict on {', '.join(missing)}: {run_hint}"


def checklist_status(site: Any, gate_run: Any) -> list[tuple[str, str, str, str]]:
    """The seed's 60-second ship checklist: (item, detail, ticked | open | unknown, why).

    `gate_run` is a GateRun, a list of them (readiness + canary...), or None.
    """
    from console.playbooks import SHIP_CHECKLIST

    targets, verdicts = _collect(gate_run)
    readiness = "run fixmap gate readiness"
    out: list[tuple[str, str, str, str]] = []
    for item, detail in SHIP_CHECKLIST:
        if item == "Freeze the world":
            status, why = _tick(targets, ("version_lock", "index"), readiness)
        elif item == "Warm up safely":
            status, why = _tick(targets, ("index", "warmup"), readiness)
        elif item == "Shadow then canary":
            verdict = verdicts.get("canary")
            if verdict == "go":
                status, why = "ticked", "canary gate go: the graduation targets hold"
            elif verdict == "no-go":
                status, why = "open", "canary gate no-go: do not step the rollout up"
            else:
                status, why = (
                    "unknown",
                    (
                        "run fixmap gate canary during the canary window; shadow mirroring is not "
                        "measured by fixmap"
                    ),
                )
        elif item == "Guard the edge":
            status, why = _tick(targets, ("idempotency", "p95"), readiness)
            if status == "ticked":
                why += "; retries with jitter are not measured: check the client config"
        elif item == "Know your exit":
            rollbacks: list[str] = []
            try:
                if site is not None and site.path is not None:
                    rollbacks = [n for n, a in site.config.actions.items() if a.kind == "rollback"]
            except Exception:
                rollbacks = []
            if rollbacks:
                status, why = (
                    "ticked",
                    (
                        f"rollback action {', '.join(rollbacks)} configured (fixmap act "
                        f"{rollbacks[0]} --dry-run); comms drafts: fixmap incident export ID"
                    ),
                )
            else:
                status, why = (
                    "open",
                    "no rollback action in the site config ([actions.*] kind = 'rollback')",
                )
        else:
            status, why = "unknown", "fixmap cannot check this item"
        out.append((item, detail, status, why))
    return out
