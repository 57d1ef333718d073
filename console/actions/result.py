"""What one run of an action came to, in the one shape the whole package shares.

A `RunResult` is what a runner returns (runner.py), what an `Outcome` carries (outcome.py), what
the journal's outcome line holds and gives back when it is read (journal.py), so a run that
finished a minute ago and one that finished last week read the same. `to_record()` and
`from_record()` are the outcome line's fields; reading is forgiving, because journals written by
older versions (or cut off by a crash) must still read.

A `Verify` is what the verify probe said afterwards. It is a dict on purpose: the timeline, the
metric history and the exports store it as the JSON object ({"probe", "status", "reason"}) it
has always been; the engine reads it through its properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASSING = ("pass", "passed", "ok", "go")
"""Verify statuses that mean the target is fine."""
EVIDENCE = ("exit_code", "http_status", "duration_s", "timed_out", "cancelled", "output_tail")
"""A result's fields between its status and its reason, in their order on disk."""


@dataclass
class RunResult:
    """How a command or request ended: done (ok) or failed, and the evidence."""

    ok: bool
    exit_code: int | None = None
    """The command's exit code (argv actions); None for HTTP or when it never started."""
    http_status: int | None = None
    duration_s: float | None = None
    """Seconds, to the millisecond; None only in records that never said."""
    timed_out: bool = False
    cancelled: bool = False
    output_tail: list[str] = field(default_factory=list)
    """The last lines of output, cleaned and redacted."""
    reason: str = ""
    """Why it failed ('' when it did not)."""

    def __post_init__(self) -> None:
        if isinstance(self.duration_s, int | float) and not isinstance(self.duration_s, bool):
            self.duration_s = round(self.duration_s, 3)

    @property
    def status(self) -> str:
        return "done" if self.ok else "failed"

    def to_record(self) -> dict[str, Any]:
        """The fields of the journal's outcome line, in their order on disk."""
        return {
            "status": self.status,
            **{name: getattr(self, name) for name in EVIDENCE},
            "reason": self.reason,
        }

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> RunResult:
        """An outcome line read back; missing fields read as 'not said'."""
        return cls(
            ok=rec.get("status") == "done",
            exit_code=rec.get("exit_code"),
            http_status=rec.get("http_status"),
            duration_s=rec.get("duration_s"),
            timed_out=bool(rec.get("timed_out")),
            cancelled=bool(rec.get("cancelled")),
            output_tail=list(rec.get("output_tail") or []),
            reason=str(rec.get("reason") or ""),
        )


class ResultFields:
    """A RunResult's fields read through `self.result`, as what never ran reads: no exit code,
    no HTTP status, no duration, not timed out, not cancelled, no output."""

    result: RunResult | None

    @property
    def exit_code(self) -> int | None:
        """The command's exit code (argv actions); None for HTTP or when it never ran."""
        return self.result.exit_code if self.result else None

    @property
    def http_status(self) -> int | None:
        return self.result.http_status if self.result else None

    @property
    def duration_s(self) -> float | None:
        return self.result.duration_s if self.result else None

    @property
    def timed_out(self) -> bool:
        return bool(self.result and self.result.timed_out)

    @property
    def cancelled(self) -> bool:
        return bool(self.result and self.result.cancelled)

    @property
    def output_tail(self) -> list[str]:
        return self.result.output_tail if self.result else []

    def evidence(self) -> dict[str, Any]:
        """The result's fields by name, in their order on disk (what never ran, if nothing did)."""
        return {name: getattr(self, name) for name in EVIDENCE}


class Verify(dict[str, Any]):
    """The verify probe's verdict after a run: {"probe": P, "status": S, "reason": R}."""

    @classmethod
    def of(cls, probe: str, status: str, reason: str = "") -> Verify:
        return cls(probe=probe, status=status, reason=reason)

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Verify:
        """The verify line's fields (as written; an old line may lack some)."""
        return cls({k: rec.get(k) for k in ("probe", "status", "reason")})

    @property
    def probe(self) -> str:
        return str(self.get("probe"))

    @property
    def status(self) -> str | None:
        return self.get("status")

    @property
    def reason(self) -> str:
        return str(self.get("reason") or "")

    @property
    def ok(self) -> bool | None:
        """True passed, False failed or errored, None when it did not judge (skipped)."""
        if self.status in (None, "skipped"):
            return None
        return str(self.status).lower() in PASSING

    def line(self) -> str:
        """'verify PROBE: STATUS REASON', as the journal listing and the CLI show it."""
        return f"verify {self.get('probe')}: {self.status} {self.reason}".rstrip()
