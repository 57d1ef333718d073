"""Running probes: pick the site's `[probes.*]`, run them concurrently, judge each one.

All probes of a run share one client and a cap on requests in flight (console/probes/client.py);
each request has its timeout (the probe's `timeout`, else its service's) and the whole probe its
`deadline` (default DEFAULT_DEADLINE_S, or the timeout when longer), so a hung or resetting
target costs its deadline at most and nothing else. Whatever a probe does, it ends as a
ProbeResult: a verdict it reached, a Verdict it raised, its deadline passed (an error: could not
measure — a fail only for the kinds whose property is answering in time), or a crash (error);
one probe never takes the run down. Reasons and values are redacted before anyone sees them, and every result is
appended to probe_runs.jsonl (console/probes/records.py).

httpx and numpy are imported inside the functions that need them: importing this module is cheap.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.core import ConfigError, Problem, closest
from console.probes.client import Run, open_run, why
from console.probes.kinds import kind_of
from console.probes.records import append_run
from console.probes.result import Outcome, ProbeResult, UnknownProbe, Verdict

if TYPE_CHECKING:
    from console.site import ProbeBase, Site

OnResult = Callable[[ProbeResult], Awaitable[None] | None]
OnStart = Callable[[str], Awaitable[None] | None]

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_DEADLINE_S = 30.0


def select(site: Site, names: list[str] | None) -> list[tuple[str, ProbeBase]]:
    """The probes to run, in config order; unknown names raise UnknownProbe (exit 2)."""
    probes = site.config.probes
    if not names:
        if not probes:
            from console.site import NO_CONFIG_HINT

            where = str(site.path) if site.path else "no config"
            raise ConfigError(
                f"no probes to run ({where})",
                [
                    Problem(
                        str(site.path) if site.path else None,
                        "probes",
                        "no [probes.*] tables",
                        None,
                        NO_CONFIG_HINT
                        if not site.path
                        else "add [probes.NAME] tables, or run 'fixmap demo'",
                    )
                ],
            )
        return list(probes.items())
    out: list[tuple[str, ProbeBase]] = []
    for name in names:
        if name not in probes:
            guess = closest(name, probes)
            known = ", ".join(probes) or "none"
            hint = f"did you mean '{guess}'?" if guess else f"known probes: {known}"
            raise UnknownProbe(f"no probe named '{name}' in the site config ({hint})")
        out.append((name, probes[name]))
    return out


def check_probes(site: Site, names: list[str] | None = None) -> list[Problem]:
    """Config problems a run would hit (probes naming a service that does not exist)."""
    cfg = site.config
    file = str(site.path) if site.path else None
    problems = []
    for name, spec in select(site, names):
        if spec.kind == "command" and not spec.service:
            continue
        svc = spec.service or cfg.default_service()
        if svc is None:
            problems.append(
                Problem(
                    file,
                    f"probes.{name}",
                    "no service to probe: the config has no [services]",
                    None,
                    "add [services.NAME] with base_url",
                )
            )
        elif svc not in cfg.services:
            guess = closest(svc, cfg.services)
            problems.append(
                Problem(
                    file,
                    f"probes.{name}.service",
                    f"'{svc}' is not in [services]",
                    None,
                    f"did you mean '{guess}'?"
                    if guess
                    else "known: " + (", ".join(cfg.services) or "none"),
                )
            )
    return problems


# ------------------------------------------------------------------ one probe


def timeouts(site: Site, spec: ProbeBase) -> tuple[float, float]:
    """(one request's timeout, the whole probe's deadline) for this probe on this site."""
    timeout = DEFAULT_TIMEOUT_S
    if spec.timeout:
        timeout = float(spec.timeout)
    else:
        svc = site.config.services.get(spec.service or site.config.default_service() or "")
        if svc is not None:
            timeout = float(svc.timeout)
    deadline = float(spec.deadline) if spec.deadline else max(DEFAULT_DEADLINE_S, timeout)
    return timeout, deadline


async def _run_one(run: Run, name: str, spec: ProbeBase) -> ProbeResult:
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    t0 = time.perf_counter()
    kind = kind_of(spec)
    timeout, deadline = timeouts(run.site, spec)
    try:
        async with asyncio.timeout(deadline):
            out = await kind.run(run, spec, timeout)
    except Verdict as v:
        out = Outcome(v.status, None, None, v.reason, v.values)
    except TimeoutError:
        out = Outcome(
            "fail" if kind.no_answer_fails else "error",
            None,
            None,
            f"no verdict within the probe's deadline of {deadline:g} s "
            f"(each request may take {timeout:g} s): the target is hanging or too slow",
        )
    except Exception as exc:  # a probe must never take the run down
        out = Outcome("error", None, None, f"probe crashed: {type(exc).__name__}: {why(exc)}")
    from console.core import redact

    return ProbeResult(
        name=name,
        kind=spec.kind,
        status=out.status,
        value=redact(out.value) if isinstance(out.value, str) else out.value,
        threshold=out.threshold,
        reason=redact(out.reason),
        duration_ms=round((time.perf_counter() - t0) * 1000, 1),
        started_at=started_at,
        values=_redacted_values(out.values),
        embedder=out.embedder,
        unit=out.unit,
    )


def _redacted_values(values: dict[str, Any]) -> dict[str, Any]:
    """Measured values with secrets masked, value by value (never as JSON text: a secret
    valued 'null' or 'pass' must not change what the values say)."""
    from console.core import redact_obj

    return redact_obj(values) if values else {}


# ------------------------------------------------------------------ a run


async def run_probes(
    site: Site,
    names: list[str] | None = None,
    on_result: OnResult | None = None,
    *,
    on_start: OnStart | None = None,
    record: bool = True,
) -> list[ProbeResult]:
    """Run the named probes (all when None) concurrently; results in the order asked.

    `on_start(name)` and `on_result(result)` are called as each probe starts and finishes
    (plain functions or coroutines). Raises UnknownProbe / ConfigError before anything runs.
    """
    from console.site import StabilityProbe

    chosen = select(site, names)
    if any(isinstance(spec, StabilityProbe) for _n, spec in chosen):
        # numpy's import takes ~0.2 s of CPU: done before any request is timed, off the loop
        await asyncio.to_thread(__import__, "console.probes.embed")
        await asyncio.to_thread(__import__, "numpy")
    secret_names = sorted({n for _n, spec in chosen for n in spec.secret_names()})
    if secret_names:
        from console.core.secrets import prefetch

        # one keyring look-up for the whole run, not one per secret as probes first need them
        await asyncio.to_thread(prefetch, secret_names)
    async with open_run(site) as run:

        async def one(name: str, spec: ProbeBase) -> ProbeResult:
            if on_start is not None:
                await _maybe_await(on_start(name))
            result = await _run_one(run, name, spec)
            if record:
                append_run(run.run_id, site, result)
            if on_result is not None:
                await _maybe_await(on_result(result))
            return result

        return list(await asyncio.gather(*(one(n, s) for n, s in chosen)))


def run_probes_sync(
    site: Site,
    names: list[str] | None = None,
    on_result: OnResult | None = None,
    **kwargs: Any,
) -> list[ProbeResult]:
    """run_probes for callers without an event loop (the CLI, thread workers)."""
    return asyncio.run(run_probes(site, names, on_result, **kwargs))


async def _maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value
