"""What one run of an action came to, in the one shape the whole package shares.

A `RunResult` is what a runner returns (runner.py), what an `Outcome` carries (outcome.py), what
the journal's outcome line holds and gives back when it is read (journal.py), so a run that
finished a minute ago and one that finished last week read the same. `to_record()` and
`from_record()` are the outcome line's fields; reading is forgiving, because journals written by
older versions (or cut off by a crash) must still read.

A `Verify` is what the re-check said afterwards (verify.py): the action's own verify probe and
the probes and gate targets that were failing when it was planned. It is a dict on purpose: the
timeline, the metric history and the exports store it as the JSON object it has always been
({"probe", "status", "reason"}, now with "checks", "failing", "still_failing", "cleared",
"pending", "unmeasured" and "checked_at"); the engine reads it through its properties.
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
    """The re-check after a run: {"probe": P, "status": S, "reason": R, ...}.

    status: pass (the own probe and every symptom pass), fail (something fails now), error
    (something could not be measured again), skipped.
    """

    KEYS = (
        "probe",
        "status",
        "reason",
        "checks",
        "failing",
        "still_failing",
        "cleared",
        "pending",
        "unmeasured",
        "checked_at",
    )

    @classmethod
    def of(cls, probe: str | None, status: str, reason: str = "", **more: Any) -> Verify:
        return cls(probe=probe, status=status, reason=reason, **more)

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Verify:
        """The verify line's fields (as written; an old line has only probe, status, reason)."""
        return cls({k: rec.get(k) for k in cls.KEYS if k in rec or k in cls.KEYS[:3]})

    @property
    def probe(self) -> str:
        return str(self.get("probe"))

    @property
    def status(self) -> str | None:
        return self.get("status")

    @property
    def reason(self) -> str:
        return str(self.get("reason") or "")

    def labels(self, what: str) -> list[str]:
        """The labels of one group: failing, still_failing, cleared, pending, unmeasured."""
        return [str(x) for x in self.get(what) or []]

    @property
    def ok(self) -> bool | None:
        """True passed, False failed or errored, None when it did not judge (skipped)."""
        if self.status in (None, "skipped"):
            return None
        return str(self.status).lower() in PASSING

    def line(self) -> str:
        """'verify PROBE: STATUS REASON', then what the action was for: still failing, now
        passing, not re-judged yet; as the journal listing, the CLI and the walkthrough show it."""
        checks = self.get("checks")
        if checks is None:  # a record from before the re-check
            return f"verify {self.get('probe')}: {self.status} {self.reason}".rstrip()
        own = next((c for c in checks if c.get("own")), None)
        if own is not None:
            head = f"verify {own['name']}: {own['status']} {own.get('reason') or ''}".rstrip()
        else:
            head = f"verify: {self.status}"
        parts = [head]
        for what, words in (
            ("still_failing", "still failing"),
            ("cleared", "now passing"),
            ("pending", "not re-judged yet (history window spans the action)"),
            ("unmeasured", "could not re-check"),
        ):
            if self.labels(what):
                parts.append(f"{words}: {', '.join(self.labels(what))}")
        return "; ".join(parts)
