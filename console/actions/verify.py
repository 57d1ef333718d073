"""The verify probe: after a run that was done, the named probe says whether the target is fine.

A probe that cannot run gives a Verify with status 'error' and a reason, never an exception:
the run itself is already recorded.
"""

from __future__ import annotations

from typing import Any

from console.actions.result import Verify
from console.core import redact


def run_verify(site: Any, probe: str) -> Verify:
    """What probe `probe` says about the site now."""
    from console.probes import run_probes_sync

    try:
        (result,) = run_probes_sync(site, [probe])
    except Exception as exc:
        return Verify.of(probe, "error", redact(f"{type(exc).__name__}: {exc}"))
    return Verify.of(probe, result.status, redact(result.reason or ""))
