"""A watched gate run: measurements repeated until every target has a verdict or the deadline,
with Argo Rollouts' analysis semantics (`fixmap gate SET --watch`, the gate screen).

Each target is measured every `interval` (default: the site's sampling interval, else 30 s),
`count` times at most (default 1; a gate never measures endlessly). After each measurement,
in Argo's order:

- failed samples over `failure_limit` -> fail (a sample is a measurement's value, or each of
  its items with samples = 'each');
- inconclusive or empty samples (stale data included) over `inconclusive_limit` -> inconclusive;
- measurements in a row whose source broke over `consecutive_error_limit` -> error (an error
  does not count towards `count`; it is retried at the interval);
- `count` measurements within those limits -> pass, if one of them passed and the newest is
  not stale (fixmap's one addition: tolerated failures alone are never a pass).

A deciding target that fails ends the run (no-go cannot turn into go); at the deadline, targets
still measuring are inconclusive. Every measurement is kept on the target's result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from console.gates.judge import result_fields
from console.gates.results import GateRun, TargetResult, age_json, overall
from console.gates.run import last_change_if, measure_targets
from console.gates.spec import DEFAULT_SET, TargetSpec, get_set, require_site

DEFAULT_INTERVAL = 30.0
"""Seconds between measurements when neither the target nor the site's sampling says."""

OnMeasurement = Callable[[str, dict[str, Any], TargetResult], Any]
"""(target name, the measurement, the target's result so far)."""


@dataclass
class _Watch:
    """One target's measurements and where its verdict stands."""

    t: TargetSpec
    interval: float
    next_at: float = 0.0
    measurements: list[dict[str, Any]] = field(default_factory=list)
    results: list[TargetResult] = field(default_factory=list)
    measured: int = 0
    passed: int = 0
    failed: int = 0
    unsure: int = 0
    errors_in_a_row: int = 0
    final: str | None = None
    why: str = ""

    def add(self, r: TargetResult) -> dict[str, Any]:
        n = len(self.measurements) + 1
        by_samples = r.detail.get("decided_by") == "samples" and not r.detail.get("stale")
        own = r.status
        if by_samples:  # what the values said, before this run's tolerance
            c = r.counts
            own = "fail" if c.get("fail") else "pass"
            if own == "pass" and c.get("inconclusive", 0) + c.get("empty", 0):
                own = "inconclusive"
        m = {
            "n": n,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "status": own,
            "value": r.to_json()["value"],
            "reason": r.reason,
            "age_s": age_json(r.age_s),
        }
        self.measurements.append(m)
        self.results.append(r)
        if r.status == "error":
            self.errors_in_a_row += 1
        else:
            self.errors_in_a_row = 0
            self.measured += 1
            self.passed += own == "pass"
            if by_samples:
                self.failed += r.counts.get("fail", 0)
                self.unsure += r.counts.get("inconclusive", 0) + r.counts.get("empty", 0)
            else:
                self.failed += r.status == "fail"
                self.unsure += r.status == "inconclusive"
        self._assess()
        return m

    def _assess(self) -> None:
        t = self.t
        if t.failure_limit >= 0 and self.failed > t.failure_limit:
            self.final, self.why = "fail", f"{self.failed} failed (limit {t.failure_limit})"
        elif t.inconclusive_limit >= 0 and self.unsure > t.inconclusive_limit:
            self.final = "inconclusive"
            self.why = f"{self.unsure} inconclusive (limit {t.inconclusive_limit})"
        elif self.errors_in_a_row > t.consecutive_error_limit:
            self.final = "error"
            self.why = f"{self.errors_in_a_row} errors in a row (limit {t.consecutive_error_limit})"
        elif self.measured >= t.count:
            newest = next(r for r in reversed(self.results) if r.status != "error")
            if not self.passed:
                self.final, self.why = "inconclusive", "no measurement passed"
            elif newest.detail.get("stale"):
                self.final, self.why = "inconclusive", "the newest measurement was on stale data"
            else:
                self.final, self.why = "pass", f"{self.measured} of {t.count} within the limits"
        self.next_at = time.monotonic() + self.interval

    def tally(self) -> str:
        n = len(self.measurements)
        parts = [f"{self.passed} pass"]
        parts += [f"{self.failed} fail"] if self.failed else []
        parts += [f"{self.unsure} inconclusive"] if self.unsure else []
        errors = sum(m["status"] == "error" for m in self.measurements)
        parts += [f"{errors} error"] if errors else []
        return f"{n} measurement{'s' if n != 1 else ''} ({', '.join(parts)})"

    def result(self, ended: str | None = None) -> TargetResult:
        """The target's verdict so far (`ended`: why measuring stopped before a verdict)."""
        if not self.results:
            base = result_fields(self.t, self.t.pass_)
            return TargetResult(
                status="inconclusive",
                value=None,
                reason=f"not measured: {ended or 'the run ended'}",
                **base,
            )
        status = self.final or "inconclusive"
        pick = {"fail": "fail", "inconclusive": "inconclusive", "error": "error"}.get(status)
        shown = next((r for r in reversed(self.results) if r.status == pick), self.results[-1])
        if self.final:
            why = f"{self.tally()}: {self.why}"
        else:
            why = f"{self.tally()} of {self.t.count}: {ended or 'still measuring'}"
        out = replace(shown, status=status, reason=f"{shown.reason} [{why}]")
        out.measurements = list(self.measurements)
        return out


def watch_gate_set(
    site: Any,
    name: str = DEFAULT_SET,
    *,
    timeout: float = 600.0,
    record: bool = True,
    on_measurement: OnMeasurement | None = None,
    stop: threading.Event | None = None,
) -> GateRun:
    """Measure a gate set's targets until each has a verdict, a deciding one fails, `stop` is
    set or `timeout` seconds have passed; the run's verdict as run_gate_set's."""
    require_site(site)
    spec = get_set(site, name)
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    t0 = time.perf_counter()
    sampling = site.config.history.sampling
    default = sampling.interval if sampling.sources else DEFAULT_INTERVAL
    watches = [_Watch(t, t.interval or default) for t in spec.enabled]
    stop = stop or threading.Event()
    deadline = time.monotonic() + timeout
    probe_results: list[Any] = []
    change = last_change_if(spec.after_change)
    ended = "the deadline passed"
    while True:
        due = [w for w in watches if w.final is None and w.next_at <= time.monotonic()]
        if due:
            results, probes = measure_targets(site, [w.t for w in due], change=change)
            probe_results.extend(probes)
            for w, r in zip(due, results, strict=True):
                m = w.add(r)
                if on_measurement is not None:
                    on_measurement(w.t.name, m, w.result())
        if any(w.final == "fail" and not w.t.dry_run for w in watches):
            ended = "the run stopped at the first failure"
            break
        waiting = [w.next_at for w in watches if w.final is None]
        if not waiting:
            break
        wake = min(waiting)
        if wake > deadline:
            break
        if stop.wait(max(0.0, wake - time.monotonic())):
            ended = "the run was stopped"
            break
    targets = [w.result(None if w.final else ended) for w in watches]
    run = GateRun(
        set=spec.name,
        verdict=overall(targets),
        targets=targets,
        started_at=started_at,
        duration_ms=round((time.perf_counter() - t0) * 1000, 1),
        title=spec.title,
        probe_results=probe_results,
        watched=True,
        after=change,
    )
    if record:
        from console.incident import recorder

        run.notes.extend(recorder.gate(site, run))
    return run
