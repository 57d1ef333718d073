"""What a probe ends with: its verdict, the values it measured, and the ways a probe stops early.

A verdict is `pass`, `fail` (the target answered outside the threshold), `inconclusive` (not
enough data to judge) or `error` (the probe could not measure: its reads were refused,
throttled, reset or timed out, a response is not JSON, a JSON path leads nowhere, a secret is
missing...). Error is never a fail: only kinds whose property *is* the answering (http status,
latency, rate_limit) turn "no answer" into a fail. Inside a probe, `fail(...)` and
`broken(...)` build a `Verdict` to raise when there is nothing more to measure; `NoAnswer` is the
error of a request that got no HTTP answer at all; a probe that gets to the end returns an
`Outcome`. The run turns either into a
`ProbeResult`, the one shape the CLI, the console, the gates and probe_runs.jsonl all read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from console.core import FixmapError

STATUSES = ("pass", "fail", "inconclusive", "error")


@dataclass
class ProbeResult:
    """One probe's verdict and what it measured."""

    name: str
    kind: str
    status: str
    """pass | fail | inconclusive | error"""
    value: float | int | str | None
    """The headline measure (p95 ms, ΔS, share, mismatch count...)."""
    threshold: str | None
    """What the value is judged against, e.g. '<= 300 ms'."""
    reason: str
    """One line an on-call engineer can act on."""
    duration_ms: float
    started_at: str
    """ISO 8601, UTC."""
    values: dict[str, Any] = field(default_factory=dict)
    """Every measured value, by measure name (p95_ms, delta_s, coverage, pin_mismatches...)."""
    embedder: str | None = None
    """For ΔS results: the embedder that produced them."""
    unit: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> ProbeResult | None:
        """A result back from its dict (a probe_runs.jsonl line); None when the row is not one."""
        fields = {k: row[k] for k in cls.__dataclass_fields__ if k in row}
        try:
            return cls(**fields)
        except TypeError:
            return None

    def value_text(self) -> str:
        from console.core.numbers import number_text

        return number_text(self.value, self.unit)

    def lines(self) -> list[str]:
        """What the probe measured, as short lines (walkthrough results, the probes screen)."""
        lines = [f"{self.name} ({self.kind}): {self.status} — {self.reason}"]
        extra = {k: v for k, v in (self.values or {}).items() if not isinstance(v, dict | list)}
        if extra:
            lines.append("  " + "  ".join(f"{k}={_short(v)}" for k, v in list(extra.items())[:12]))
        if self.embedder:
            note = (
                "lexical fallback: ΔS bands calibrated for it"
                if "hash" in self.embedder.lower()
                else ""
            )
            lines.append(f"  embedder: {self.embedder}" + (f" ({note})" if note else ""))
        lines.append(f"  took {self.duration_ms:.0f} ms at {self.started_at}")
        return lines


def _short(v: Any) -> str:
    if isinstance(v, float):
        from console.core.numbers import number_text

        return number_text(v)
    text = str(v)
    return text if len(text) <= 24 else text[:23] + "…"


class UnknownProbe(FixmapError):
    """A probe name that is not in the site config."""


class Verdict(Exception):
    """Raised inside a probe to end it with a verdict (fail or error) and a reason."""

    def __init__(self, status: str, reason: str, values: dict[str, Any] | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.values = values or {}


class NoAnswer(Verdict):
    """A request that got no HTTP answer: timed out, refused, reset (an error unless the kind
    measures exactly that)."""

    def __init__(self, reason: str, what: str):
        super().__init__("error", reason)
        self.what = what
        """timeout | refused | reset | not sent"""


def fail(reason: str, **values: Any) -> Verdict:
    """The target answered wrongly or not at all."""
    return Verdict("fail", reason, values)


def broken(reason: str, **values: Any) -> Verdict:
    """The probe could not measure (its config, a path, a secret, an answer it cannot read)."""
    return Verdict("error", reason, values)


@dataclass
class Outcome:
    """What a probe returns when it measured to the end: the verdict before timing and redaction."""

    status: str
    value: Any
    threshold: str | None
    reason: str
    values: dict[str, Any] = field(default_factory=dict)
    unit: str = ""
    embedder: str | None = None
