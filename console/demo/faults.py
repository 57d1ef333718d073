"""The demo's faults: which there are, what each one breaks, and which probe it turns red.

Faults (FAULTS; switchable at start and at run time through /admin/fault):
  stale-index  the live index is the previous build: its hash and counts disagree with the
               manifest and answers cite old snippets
  latency      every 3rd call of the same query answers 0.9-1.2 s late (p95 far over the
               750 ms budget, p50 unchanged)
  rate-limit   a share of 429s with Retry-After: the 2nd, 5th, 8th... call of the same query
Per-query counters keep these shares exact whatever else runs at the same time, and the first
call of a query is never hit, so polite clients (and probes meant for other faults) get through.
  duplicates   replayed writes with the same key cause another side effect each time
  model-drift  the deployed model/prompt differ from the lock, and ranking ties break by seed
  cold-cache   the release skipped the cache warm-up, the only thing that fills this cache:
               it stays empty and every miss is slow until the cache is warmed
Rollback clears the faults a bad release brings: stale-index, latency, duplicates, model-drift.

What a fault does to one call is decided here from the call's number for its query, whether
the cache had it, and the seed, never from a clock or a random draw: a test that switches a fault
on knows exactly what it will see.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection

FAULTS: tuple[str, ...] = (
    "stale-index",
    "latency",
    "rate-limit",
    "duplicates",
    "model-drift",
    "cold-cache",
)
ROLLBACK_CLEARS: frozenset[str] = frozenset({"stale-index", "latency", "duplicates", "model-drift"})
FAULT_PROBES: dict[str, frozenset[str]] = {
    "stale-index": frozenset({"index"}),
    "latency": frozenset({"latency"}),
    "rate-limit": frozenset({"rate_limit"}),
    "duplicates": frozenset({"idempotency"}),
    "model-drift": frozenset({"pins", "stability"}),
    "cold-cache": frozenset({"warmup"}),
}
"""Which of the demo config's probes each fault turns red (and no others)."""

HEALTHY_PINS = {
    "model": "gpt-4o-mini-2024-07-18",
    "prompt": "answer-with-citations-v12",
    "embedder": "fixmap-hash-char3-5-v1",
    "index": "build-2024-11-02",
}
DRIFTED_PINS = {
    **HEALTHY_PINS,
    "model": "gpt-4o-mini-2024-12-17",
    "prompt": "answer-with-citations-v13",
}
RELEASES = ("2024.11.1", "2024.11.2")  # known-good, current
COLD_MISS_S = 0.4
SLOW_EXTRA_S = (0.9, 1.2)
RETRY_AFTER_429 = "1"


class DemoError(ValueError):
    """A bad request to the demo (unknown fault, bad flag...)."""


def check_fault(name: str) -> str:
    """The name, if it is a fault; else a DemoError listing the faults."""
    if name not in FAULTS:
        raise DemoError(f"unknown fault {name!r}; faults: {', '.join(FAULTS)}")
    return name


def rate_limited(faults: Collection[str], n: int) -> bool:
    """Whether the n-th call of a query gets a 429 (the 2nd, 5th, 8th...)."""
    return "rate-limit" in faults and n % 3 == 2


def delay_s(faults: Collection[str], n: int, hit: bool) -> float:
    """How late the n-th call of a query answers: a cold miss, and every 3rd call when slow."""
    delay = 0.0
    if not hit and "cold-cache" in faults:
        delay += COLD_MISS_S
    if "latency" in faults and n % 3 == 0:
        lo, hi = SLOW_EXTRA_S
        delay += lo + (zlib.crc32(str(n).encode()) % 1000) / 1000 * (hi - lo)
    return delay


QUALITY_BASE = {"delta_s": 0.31, "coverage": 0.82, "lambda_flip_rate": 0.03}
"""What the service's (simulated) online evaluator reports when nothing is wrong: the seeded
week's levels (console/history/seed.py), so live samples continue it."""
QUALITY_SPREAD = {"delta_s": 0.015, "coverage": 0.015, "lambda_flip_rate": 0.008}
QUALITY_SHIFT = {
    "model-drift": {"delta_s": 0.25, "coverage": -0.27, "lambda_flip_rate": 0.37},
    "stale-index": {"delta_s": 0.12, "coverage": -0.24},
}
"""How far each fault moves the evaluator's numbers (past the hard-stop lines)."""


def quality(faults: Collection[str], n: int) -> dict[str, float]:
    """The evaluator's ΔS, coverage and λ flip rate after the n-th answer: the base, a
    deterministic wobble (no clock, no random draw) and the shift of each fault that is on."""
    out = {}
    for i, (name, base) in enumerate(QUALITY_BASE.items()):
        wobble = (zlib.crc32(f"{name}:{n}:{i}".encode()) % 1001 / 1000 - 0.5) * 3.4
        value = base + wobble * QUALITY_SPREAD[name]
        value += sum(QUALITY_SHIFT.get(f, {}).get(name, 0.0) for f in faults)
        out[name] = round(min(max(value, 0.0), 1.0), 4)
    return out


def drift_noise(seed: str, snippet_ids: list[str]) -> list[float]:
    """Under model-drift, what each snippet's score moves by for this seed (0 to 0.2)."""
    return [zlib.crc32(f"{seed}:{i}".encode()) % 1000 / 1000 * 0.2 for i in snippet_ids]
