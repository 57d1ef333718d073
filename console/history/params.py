"""The parameters of a named query: checked against its defaults, resolved once, shared by all.

Every named query takes the same few parameters (service, metric, window, baseline, bucket,
until, limit). They are resolved here, in one pass that reports every bad one at once with a
suggestion for a misspelt name: durations to seconds within sane bounds, `until` to naive UTC,
and the engineer's own spelling kept (`raw`) so titles and recorded queries say '24h', not
'86400'. `Reads` is all a named query may ask of the History it runs on.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from console.core import Problem, closest
from console.core.durations import compact
from console.history.results import HistoryError, NamedQuery
from console.history.rows import Fetched
from console.history.schema import METRIC_NAME
from console.history.times import parse_time, seconds, utcnow

MIN_WINDOW_S = 10.0
"""The shortest window or baseline: two samples at the fastest sampling people use (5 s)."""


class Reads(Protocol):
    """What a named query may ask of the History it runs on."""

    def read(self) -> AbstractContextManager[Any]:
        """A cursor on the shared read-only connection (cancelled by History.interrupt)."""
        ...

    def run(
        self,
        cur: Any,
        statements: list[tuple[str, list[Any]]],
        sql: str,
        params: list[Any],
        limit: int | None = None,
    ) -> Fetched:
        """Run one statement, note it in `statements`, fetch its rows (History.max_rows)."""
        ...


@dataclass(frozen=True)
class QueryParams:
    """Resolved parameters of a named query."""

    service: str | None
    metric: str | None
    window: float
    bucket: float | None
    baseline: float
    until: datetime
    limit: int
    raw: dict[str, Any]

    @classmethod
    def from_params(cls, p: dict[str, Any]) -> QueryParams:
        return cls(
            p.get("service"),
            p.get("metric"),
            p["window"],
            p.get("bucket"),
            p.get("baseline", 86400.0),
            p["until"],
            int(p.get("limit", 20)),
            p["_raw"],
        )

    def span(self, name: str) -> str:
        """A duration parameter as the engineer wrote it ('24h', not '1d')."""
        raw = self.raw.get(name)
        if isinstance(raw, str) and raw:
            return raw
        value = getattr(self, name)
        return compact(value) if value else "1m"

    @property
    def since(self) -> datetime:
        return self.until - timedelta(seconds=self.window)

    @property
    def baseline_since(self) -> datetime:
        return self.since - timedelta(seconds=self.baseline)

    def service_clause(self, params: list[Any]) -> str:
        """' AND service = ?' (its value appended to `params`) when one service is asked for."""
        if self.service:
            params.append(self.service)
            return " AND service = ?"
        return ""


def resolve_params(spec: NamedQuery, given: Mapping[str, Any]) -> dict[str, Any]:
    """The given parameters over the query's defaults, resolved; every bad one reported at once."""
    problems: list[Problem] = []
    for k in given:
        if k not in spec.params:
            guess = closest(k, spec.params)
            problems.append(
                Problem(
                    None,
                    k,
                    f"unknown parameter for {spec.name}",
                    hint=f"did you mean '{guess}'?"
                    if guess
                    else "valid: " + ", ".join(spec.params),
                )
            )
    if problems:
        raise HistoryError(f"bad parameters for the named query {spec.name}", problems)
    values = {**spec.params, **{k: v for k, v in given.items() if v is not None}}
    out: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    for k, v in values.items():
        if v is None:
            continue
        if k in ("window", "baseline"):
            s = seconds(v, k)
            if not MIN_WINDOW_S <= s <= 400 * 86400:
                problems.append(
                    Problem(None, k, f"'{v}' is out of range", hint="between 10s and 400d")
                )
            out[k] = s
            raw[k] = v if isinstance(v, str) else compact(s)
        elif k == "bucket":
            if isinstance(v, str) and v.strip().lower() in ("none", "all"):
                if spec.name != "latency_percentiles":
                    problems.append(
                        Problem(
                            None,
                            k,
                            f"'{v}' is not a bucket for {spec.name}",
                            hint="use a duration, e.g. 1m or 5m",
                        )
                    )
                    continue
                out[k] = None
                raw[k] = "none"
                continue
            s = seconds(v, k)
            if s < 1:
                problems.append(
                    Problem(None, k, f"'{v}' is too small", hint="at least 1s, e.g. 1m")
                )
            out[k] = s
            raw[k] = v if isinstance(v, str) else compact(s)
        elif k in ("service", "metric"):
            text = str(v).strip()
            if not text or (k == "metric" and not METRIC_NAME.match(text)):
                problems.append(Problem(None, k, f"'{v}' is not a valid {k} name"))
            out[k] = text
            raw[k] = text
        elif k == "until":
            out[k] = parse_time(v, "until")
            raw[k] = out[k].isoformat(timespec="seconds")
        elif k == "limit":
            try:
                out[k] = int(v)
                if out[k] < 1:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(Problem(None, k, f"'{v}' is not a positive whole number"))
            raw[k] = v
    if "until" not in out:
        out["until"] = utcnow().replace(microsecond=0)
    if "window" in out and out.get("bucket"):
        n = out["window"] / out["bucket"]
        if n > 100_000:
            problems.append(
                Problem(
                    None,
                    "bucket",
                    f"{n:.0f} buckets is too many",
                    hint="use a bigger bucket for this window",
                )
            )
    if problems:
        raise HistoryError(f"bad parameters for the named query {spec.name}", problems)
    out["_raw"] = raw
    return out
