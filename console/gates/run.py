"""A gate run: one gate set judged against the live site and its metric history.

Every target says when its newest data point was taken and how old it was; a history or
Prometheus target whose newest point is older than its max_age is inconclusive (never a pass,
nor a fail): a verdict is about the service now.

The probes the set's targets read run once, together (a slow target costs its timeout, not the
run's); each named history query runs once per parameters; then every enabled target is
judged. A target never takes the run down: a source that breaks, or a target that crashes, is
that target's `error`, and the other targets are still judged. Every reason is redacted before
it leaves: a probe's or a query's error may echo a secret it was sent.

Sync on purpose: the console calls it from a thread worker, `fixmap gate` directly. With
`record`, the probe results and the verdict go to the history (best effort: a busy history file
is a note on the run, never a failure) and onto the current incident's timeline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from console.core import FixmapError, redact
from console.gates.judge import empty_result, judge_target, result_fields
from console.gates.results import GateRun, TargetResult, age_text, overall
from console.gates.sources import (
    Broken,
    Empty,
    FailedBeforeMeasuring,
    HistoryReader,
    from_history,
    from_probe,
    from_prometheus,
    resolve_probe,
)
from console.gates.spec import DEFAULT_SET, TargetSpec, get_set, require_site


def run_gate_set(
    site: Any,
    name: str = DEFAULT_SET,
    *,
    record: bool = True,
    on_probe: Callable[[Any], Any] | None = None,
    on_target: Callable[[TargetResult, int, int], Any] | None = None,
) -> GateRun:
    """Run one gate set: its probes once, together, then its history queries; judge each target.

    `record`: store the probe results and the verdict in the history (best effort) and on the
    current incident's timeline. `on_probe(result)` is called as each probe finishes,
    `on_target(result, judged, total)` as each target is judged (the console's "2/7 targets").
    Raises GateError / ConfigError (exit 2) for an unknown set or no site config.
    """
    require_site(site)
    spec = get_set(site, name)
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    t0 = time.perf_counter()
    change = last_change_if(spec.after_change)
    judged, results = measure_targets(
        site, spec.enabled, on_probe, change=change, on_target=on_target
    )
    run = GateRun(
        set=spec.name,
        verdict=overall(judged),
        targets=judged,
        started_at=started_at,
        duration_ms=round((time.perf_counter() - t0) * 1000, 1),
        title=spec.title,
        probe_results=results,
        after=change,
    )
    if record:
        from console.incident import recorder

        run.notes.extend(recorder.gate(site, run))
    return run


def last_change_if(after_change: bool) -> Any:
    """The last change fixmap made, for a set that judges its windows since it."""
    from console.gates.after import last_change

    return last_change() if after_change else None


def measure_targets(
    site: Any,
    targets: list[TargetSpec],
    on_probe: Callable[[Any], Any] | None = None,
    *,
    change: Any = None,
    on_target: Callable[[TargetResult, int, int], Any] | None = None,
) -> tuple[list[TargetResult], list[Any]]:
    """One measurement of each target: the probes they read once, together, then the history
    and Prometheus queries. Returns the targets' results and the probe results. `change`
    (gates.after.Change): history windows are judged since it."""
    probe_names: dict[str, str | Exception] = {}
    for t in targets:
        if t.probe:
            try:
                probe_names[t.name] = resolve_probe(site, t)
            except Broken as exc:
                probe_names[t.name] = exc
    wanted = [n for n in site.config.probes if n in set(probe_names.values())]
    probe_results: dict[str, Any] = {}
    results: list[Any] = []
    if wanted:
        from console.probes import run_probes_sync

        try:
            results = run_probes_sync(site, wanted, on_probe)
            probe_results = {r.name: r for r in results}
        except FixmapError as exc:
            for tname, pname in probe_names.items():
                if isinstance(pname, str):
                    probe_names[tname] = Broken(exc.render().replace("\n", " "))
    reader = HistoryReader(site, change)
    max_age = site.config.history.default_max_age()
    judged: list[TargetResult] = []
    for t in targets:
        judged.append(_run_target(site, t, probe_names, probe_results, reader, max_age))
        if on_target is not None:
            on_target(judged[-1], len(judged), len(targets))
    return judged, results


def _run_target(
    site: Any,
    t: TargetSpec,
    probe_names: dict[str, str | Exception],
    probe_results: dict[str, Any],
    reader: HistoryReader,
    default_max_age: float,
) -> TargetResult:
    """One target from its source to its verdict; whatever goes wrong is this target's error."""
    base = result_fields(t, t.pass_)
    newest = now = None
    try:
        if t.probe:
            resolved = probe_names[t.name]
            if isinstance(resolved, Exception):
                raise resolved
            result = probe_results.get(resolved)
            if result is None:
                raise Broken(f"probe {resolved} did not run")
            base["source"] = f"probe {resolved}"
            src = from_probe(t, result)
        elif t.promql:
            src = from_prometheus(t, site)
        else:
            src = from_history(t, reader)
        newest, now = src.newest, src.now
        out = judge_target(t, src)
        if t.probe:
            out.source = base["source"]
    except FailedBeforeMeasuring as exc:
        out = TargetResult(status="fail", value=None, reason=str(exc), **base)
    except Empty as exc:
        newest, now = exc.newest, exc.now
        out = empty_result(t, str(exc), base)
    except Broken as exc:
        out = TargetResult(status="error", value=None, reason=str(exc), **base)
    except FixmapError as exc:
        out = TargetResult(
            status="error", value=None, reason=exc.render().replace("\n", " "), **base
        )
    except Exception as exc:  # a target must never take the run down
        out = TargetResult(
            status="error",
            value=None,
            reason=f"the target crashed: {type(exc).__name__}: {exc}",
            **base,
        )
    clip = reader.clips.get(t.name)
    if clip is not None and out.status != "error":
        from console.gates.after import after_change

        after_change(out, clip)
    if newest is not None:
        _stamp(out, newest, now, None if t.probe else (t.max_age or default_max_age))
    out.reason = redact(out.reason)
    return out


def _stamp(
    out: TargetResult, newest: datetime, now: datetime | None, max_age: float | None
) -> None:
    """Say how old the newest data point is; older than max_age is no verdict, never a pass."""
    from console.history import utcnow

    out.newest = newest
    out.age_s = max(0.0, ((now or utcnow()) - newest).total_seconds())
    if max_age is None or out.age_s <= max_age or out.status == "error":
        return
    was = f"{out.status}: {out.reason}" if out.status != "inconclusive" else out.reason
    out.status = "inconclusive"
    out.reason = (
        f"newest sample {age_text(out.age_s)} old (max_age {age_text(max_age)}): no verdict on "
        f"stale data ({was})"
    )
    out.detail["stale"] = True
