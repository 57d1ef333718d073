"""The live evidence triage looks at before anyone types: every site probe, and what changed in
the metric history (each change next to the deploy it followed).

`gather_evidence` runs both at once, each bounded by one deadline and stopped early when
`cancel` is set (the console leaving the screen); what finished in time is kept, what did not
is said ("probes: no verdict within 8 s"). A finding is only what was measured: a probe that
could not measure (error, inconclusive) is listed as such and points at no route.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

PROBE_FAIL = 1.0
"""Strength of a probe that failed just now: fresh, direct evidence."""
CHANGE_ONGOING = 0.6
"""Strength of a metric still off its baseline (history: a trend, not a verdict)."""
CHANGE_ENDED = 0.3
"""Strength of a change that is already back within its baseline."""
DEFAULT_TIMEOUT_S = 8.0
DEFAULT_WINDOW = "6h"
DEFAULT_BASELINE = "24h"
DEPLOY_LEAD_S = 2 * 3600
"""A change is 'since the deploy' when it began within this long after one (or 5 min before)."""


@dataclass(frozen=True)
class Finding:
    """One piece of live evidence: a probe verdict or a metric that left its baseline."""

    source: str
    """probe | change | gate"""
    name: str
    """The probe's name, the metric, the gate target."""
    kind: str
    """The probe's kind; for a change or a gate target, the metric / measure again."""
    status: str
    """probe: fail / error / inconclusive; change: up / down; gate: no-go."""
    text: str
    """One line: 'index probe FAIL (hash differs from manifest)', 'rate_429 ×30 since the 09:12 deploy'."""
    strength: float
    """How much it weighs as evidence, 0 (could not measure) to 1 (a probe failing now)."""
    at: str | None = None
    """ISO time of the newest data point behind it."""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "text": self.text,
            "strength": self.strength,
            "at": self.at,
        }


@dataclass
class Evidence:
    """What the sweep found, what it looked at and what it could not look at."""

    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    """What was looked at: '9 probes: 8 pass, 1 fail', 'what changed: last 6h vs the 24h before'."""
    problems: list[str] = field(default_factory=list)
    """What could not be looked at, and why."""
    started_at: str = ""
    duration_s: float = 0.0
    complete: bool = True
    """False when the deadline or a cancel cut the sweep short."""

    def plus(self, findings: list[Finding]) -> Evidence:
        """A copy with more findings (a gate run's no-go targets), strongest first."""
        merged = sorted([*self.findings, *findings], key=lambda f: -f.strength)
        return Evidence(
            merged,
            list(self.checked),
            list(self.problems),
            self.started_at,
            self.duration_s,
            self.complete,
        )

    def taken(self, now: datetime | None = None) -> str:
        """When the sweep looked, as the screen says it: 'probed 14:20:31 UTC, 3m ago'."""
        from console.core.durations import duration_text

        if not self.started_at:
            return ""
        at = datetime.fromisoformat(self.started_at)
        age = max(0.0, ((now or datetime.now(UTC)) - at).total_seconds())
        return f"probed {at:%H:%M:%S} UTC, {duration_text(age)} ago"

    def to_json(self) -> dict[str, Any]:
        return {
            "findings": [f.to_json() for f in self.findings],
            "checked": self.checked,
            "problems": self.problems,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "complete": self.complete,
        }


def gather_evidence(
    site: Any,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    window: str = DEFAULT_WINDOW,
    baseline: str = DEFAULT_BASELINE,
    cancel: threading.Event | None = None,
    probes: bool = True,
    history: bool = True,
) -> Evidence:
    """Sweep the site's probes and ask the history what changed, both at once, within `timeout`."""
    ev = Evidence(started_at=datetime.now(UTC).isoformat(timespec="seconds"))
    if site is None or getattr(site, "path", None) is None:
        ev.problems.append("no site config: only the text is ranked")
        return ev
    cancel = cancel or threading.Event()
    halt = _Either(cancel)  # stops the sweep's own workers; the caller's event is left alone
    t0 = time.monotonic()
    deadline = t0 + timeout
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="triage-evidence")
    jobs = {}
    if probes:
        jobs["probes"] = pool.submit(_probe_findings, site, deadline, halt)
    if history:
        jobs["history"] = pool.submit(_change_findings, site, window, baseline)
    try:
        pending = set(jobs.values())
        while pending and not cancel.is_set() and time.monotonic() < deadline:
            _done, pending = wait(pending, timeout=min(0.05, max(deadline - time.monotonic(), 0)))
        for what, job in jobs.items():
            if not job.done():
                ev.complete = False
                said = (
                    "stopped (cancelled)" if cancel.is_set() else f"no answer within {timeout:g} s"
                )
                ev.problems.append(f"{what}: {said}")
                continue
            try:
                findings, checked, problems = job.result()
            except Exception as exc:  # one side failing must not lose the other's evidence
                from console.core import redact

                ev.problems.append(redact(f"{what}: {type(exc).__name__}: {exc}"))
                continue
            ev.findings += findings
            ev.checked += checked
            ev.problems += problems
            if cancel.is_set():
                ev.complete = False
    finally:
        halt.set()  # a history query still running is left to finish on its own thread
        pool.shutdown(wait=False, cancel_futures=True)
    ev.findings.sort(key=lambda f: -f.strength)
    ev.duration_s = time.monotonic() - t0
    return ev


# ------------------------------------------------------------------ probes


class _Either:
    """Set when the caller cancels or the sweep is over, whichever comes first."""

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.own = threading.Event()

    def is_set(self) -> bool:
        return self.cancel.is_set() or self.own.is_set()

    def set(self) -> None:
        self.own.set()


def _probe_findings(
    site: Any, deadline: float, cancel: _Either
) -> tuple[list[Finding], list[str], list[str]]:
    if not site.config.probes:
        return [], [], ["no probes in the site config"]
    from console.probes import run_probes

    done: list[Any] = []

    async def sweep() -> bool:
        task = asyncio.ensure_future(run_probes(site, None, done.append))
        while not task.done():
            if cancel.is_set() or time.monotonic() >= deadline:
                task.cancel()
                return False
            await asyncio.wait({task}, timeout=0.05)
        task.result()
        return True

    finished = asyncio.run(sweep())
    findings = [f for f in (_probe_finding(r) for r in done) if f is not None]
    counts: dict[str, int] = {}
    for r in done:
        counts[r.status] = counts.get(r.status, 0) + 1
    total = len(site.config.probes)
    summary = ", ".join(
        f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: kv[0] != "pass")
    )
    checked = [f"{total} probes: {summary or 'none finished'}"]
    problems = []
    if not finished:
        missing = total - len(done)
        problems.append(f"probes: {missing} of {total} gave no verdict in time (stopped)")
    return findings, checked, problems


def _probe_finding(r: Any) -> Finding | None:
    if r.status == "pass":
        return None
    reason = " ".join(str(r.reason or "").split())
    if len(reason) > 70:
        reason = reason[:69].rstrip() + "\u2026"
    measured = r.status == "fail"
    label = r.status.upper() if measured else f"{r.status.upper()}, could not measure"
    return Finding(
        source="probe",
        name=r.name,
        kind=r.kind,
        status=r.status,
        text=f"{r.name} probe {label} ({reason})" if reason else f"{r.name} probe {label}",
        strength=PROBE_FAIL if measured else 0.0,
        at=r.started_at,
    )


# ------------------------------------------------------------------ what changed


def _change_findings(
    site: Any, window: str, baseline: str
) -> tuple[list[Finding], list[str], list[str]]:
    from console.history import default_db_path, history_for, seconds

    if not default_db_path(site).exists():
        return [], [], ["no metric history yet (fixmap history ingest, or the sampler)"]
    hist = history_for(site)
    changes = hist.what_changed(None, window, baseline, limit=20)
    span = seconds(window, "--window")
    now = datetime.now(UTC).replace(tzinfo=None)
    deploys = hist.events(now - timedelta(seconds=span + DEPLOY_LEAD_S), None, kinds=["deploy"])
    checked = [f"what changed: last {window} vs the {baseline} before ({len(changes)} changes)"]
    try:
        own = site.default_service
    except Exception:
        own = None
    findings = []
    seen: set[tuple[str, str]] = set()
    for c in changes:
        if (c.metric, c.direction) in seen:  # one line per metric and direction, the strongest
            continue
        seen.add((c.metric, c.direction))
        findings.append(_change_finding(c, deploys, now, own))
    return findings, checked, []


def _change_finding(c: Any, deploys: list[Any], now: datetime, service: str | None) -> Finding:
    if c.baseline and c.baseline > 0 and c.peak / c.baseline >= 2:
        size = f"\u00d7{c.peak / c.baseline:.0f}"
    elif c.change_pct is not None:
        size = f"{c.change_pct:+.0f}%"
    else:
        size = f"{c.direction} to {c.peak:g}"
    deploy = None
    for e in deploys:
        lead = (c.started - e.ts).total_seconds()
        if -300 <= lead <= DEPLOY_LEAD_S:
            deploy = e
    since = f"since the {deploy.ts:%H:%M} deploy" if deploy else f"since {c.started:%H:%M}"
    text = f"{c.metric} {size} {since}"
    if c.service and c.service != service:  # the site's own service goes without saying
        text = f"{c.service}/{text}"
    if c.ended is not None:
        text += f" (over by {c.ended:%H:%M})"
    return Finding(
        source="change",
        name=c.metric,
        kind=c.metric,
        status=c.direction,
        text=text,
        strength=CHANGE_ENDED if c.ended is not None else CHANGE_ONGOING,
        at=(c.ended or now).isoformat(timespec="seconds") + "Z",
    )


def gate_findings(runs: list[Any], site: Any = None) -> list[Finding]:
    """The failing targets of gate runs made this session (console.gates.GateRun) as findings.

    A finding carries the target's name and its measure (readiness 'index' measures
    index_mismatches), so a playbook's `evidence.gates` may name either."""
    from console.gates import gate_sets

    try:
        measures = {
            (set_name, t.name): t.measure
            for set_name, spec in gate_sets(site).items()
            for t in spec.targets
        }
    except Exception:  # a broken [gates] table must not cost the other evidence
        measures = {}
    out = []
    for run in runs:
        for t in run.targets:
            if t.status != "fail":
                continue
            reason = " ".join(str(t.reason or "").split())[:70]
            head = f"gate {run.set} {t.name} FAIL"
            out.append(
                Finding(
                    source="gate",
                    name=t.name,
                    kind=measures.get((run.set, t.name), t.name),
                    status="no-go",
                    text=f"{head} ({reason})" if reason else head,
                    strength=PROBE_FAIL,
                    at=run.started_at,
                )
            )
    return out
