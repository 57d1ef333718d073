"""The verify probe: after a run that was done, the named probe says whether the target is fine.

A probe that cannot run (the probes engine absent from this build, a crash) gives a Verify with
status 'skipped' or 'error' and a reason, never an exception: the run itself is already recorded.
"""

from __future__ import annotations

from typing import Any

from console.actions.result import Verify
from console.core import redact


def run_verify(site: Any, probe: str) -> Verify:
    """What probe `probe` says about the site now."""
    try:
        from console.probes import run_probes_sync  # type: ignore[attr-defined]
    except ModuleNotFoundError as exc:
        if exc.name not in ("console.probes.run",):
            raise
        return Verify.of(probe, "skipped", "the probes engine is not in this build")
    except ImportError:
        return Verify.of(probe, "skipped", "the probes engine has no run_probes_sync")
    try:
        results = run_probes_sync(site, [probe])
    except Exception as exc:
        return Verify.of(probe, "error", redact(f"{type(exc).__name__}: {exc}"))
    if isinstance(results, dict):
        result = results.get(probe) or next(iter(results.values()), None)
    elif isinstance(results, list | tuple):
        result = results[0] if results else None
    else:
        result = results
    if result is None:
        return Verify.of(probe, "error", "the probe returned no result")
    status = getattr(result, "status", None)
    status = getattr(status, "value", status)
    return Verify.of(probe, str(status), redact(str(getattr(result, "reason", "") or "")))
