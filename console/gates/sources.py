"""Where a target's values come from: a probe's result, a named history query, or SQL rows.

Each source hands the judge a `Source`: the values it reported (a `$name` threshold is looked up
there), the samples to judge (one value, or one per query, row or bucket with `samples =
"each"`), how many measurements they stand on, and the words the reason needs (' over 15m vs
the 24h before', ' (20 requests)').

Three outcomes stop a target before judging, each an exception the run turns into a verdict:

- `Broken`: the source broke (a probe that could not run, a bad query, a locked history file):
  an error, which says nothing about the service;
- `Empty`: no data (no samples in the window, a measure not reported): judged by `on_empty`;
- `FailedBeforeMeasuring`: the probe failed (target down, timed out) before it measured: a fail.

A gate run reads each named query once per parameters (`HistoryReader`); the window's sample
count comes from the history, not the query, so 'only 3 samples' means 3 in the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from console.core import closest, conditions
from console.core.conditions import is_number
from console.gates.spec import TargetSpec
from console.site import names

_QUERY_METRICS = {
    "error_rates": ("error_rate", "rate_5xx", "rate_429"),
    "quality_trend": ("delta_s", "coverage", "lambda_flip_rate"),
    "cache_hit_ratio": ("cache_hit_ratio",),
}
_BASELINE_QUERIES = ("window_vs_baseline",)


class Broken(Exception):
    """The source broke: the target is an error."""


class Empty(Exception):
    """No data: the target is judged by on_empty (unless what there is is too old)."""

    def __init__(self, why: str, newest: datetime | None = None, now: datetime | None = None):
        super().__init__(why)
        self.newest, self.now = newest, now


class FailedBeforeMeasuring(Exception):
    """The probe failed (target down, timed out) before it measured anything: a failure."""


@dataclass
class Source:
    """What a source gave a target: its values, samples and context for the reason."""

    values: dict[str, Any]
    samples: list[tuple[str | None, Any]]
    count: int | None = None
    """Samples the measure stands on when the source says (requests answered, rows)."""
    noun: str = "samples"
    context: str = ""
    """' over 15m (vs the 24h before)', ' (20 requests)'."""
    extra: str = ""
    """A line from the source worth adding to the reason (the probe's own reason)."""
    detail: dict[str, Any] = field(default_factory=dict)
    newest: datetime | None = None
    """When the newest data point was taken (naive UTC), when the source knows."""
    now: datetime | None = None
    """What 'now' was for the source (a query's until), to say how old `newest` is."""


# ------------------------------------------------------------------ probes


def resolve_probe(site: Any, t: TargetSpec) -> str:
    """The site's probe a target reads: the one of that name, else the only one of its kind."""
    probes = site.config.probes
    if t.probe in probes:
        return t.probe
    kind = names.PROBE_KIND.get(t.probe or "")
    same_kind = [n for n, spec in probes.items() if kind and spec.kind == kind]
    if len(same_kind) == 1:
        return same_kind[0]
    guess = closest(t.probe or "", probes)
    hint = f"did you mean '{guess}'?" if guess else "known: " + (", ".join(probes) or "none")
    extra = (
        f"; {len(same_kind)} probes of kind {kind}: name one with probe = ..."
        if len(same_kind) > 1
        else ""
    )
    raise Broken(
        f"no probe '{t.probe}' in the site config ({hint}){extra}; add it, or turn the target "
        f"off with enabled = false in [gates.<set>.{t.name}]"
    )


def from_probe(t: TargetSpec, result: Any) -> Source:
    """The target's measure from a probe's result; 'verdict' is the probe's own pass as 1."""
    name = result.name
    if result.status == "error":
        raise Broken(f"probe {name} could not run: {result.reason}")
    values = dict(result.values or {})
    if t.measure == "verdict":
        if result.status not in ("pass", "fail"):
            raise Empty(f"probe {name} has no verdict ({result.status}: {result.reason})")
        mapped = 1 if result.status == "pass" else 0
        when = _probe_time(result)
        return Source(
            values,
            [(None, mapped)],
            extra=result.reason,
            detail={"probe": name},
            newest=when,
            now=when,
        )
    raw = values.get(t.measure, result.value if t.measure == "value" else None)
    if raw is None:
        if result.status == "fail":
            raise FailedBeforeMeasuring(f"probe {name} failed before measuring: {result.reason}")
        raise Empty(f"probe {name} reported no {t.measure} ({result.status}: {result.reason})")
    samples = _items(raw, t.samples)
    count = None
    if t.count_measure:
        c = values.get(t.count_measure)
        count = int(c) if is_number(c) else None
    noun = "queries" if result.kind == "stability" else "samples"
    newest = _probe_time(result)
    context = ""
    if count is not None and t.count_measure == "answered":
        context = f" ({count} requests)"
    elif count is not None and t.count_measure == "keys":
        replays = values.get("replays")
        context = f" ({count} keys × {replays} replays)" if replays else f" ({count} keys)"
    return Source(
        values, samples, count, noun, context, result.reason, {"probe": name}, newest, newest
    )


def _probe_time(result: Any) -> datetime | None:
    """When the probe measured (its start plus its duration), naive UTC."""
    try:
        started = datetime.fromisoformat(str(result.started_at))
    except (TypeError, ValueError):
        return None
    if started.tzinfo is not None:
        started = started.astimezone(UTC).replace(tzinfo=None)
    return started + timedelta(milliseconds=float(result.duration_ms or 0))


def _items(raw: Any, samples: str) -> list[tuple[str | None, Any]]:
    """A probe's measure as samples: one value, or each item of a dict or list."""
    if samples == "each":
        if isinstance(raw, dict):
            return [(str(k), v) for k, v in raw.items()]
        if isinstance(raw, list | tuple):
            return [(str(i), v) for i, v in enumerate(raw)]
    if isinstance(raw, dict | list | tuple):
        raise Broken("the measure is a collection; set samples = 'each' to judge every item")
    return [(None, raw)]


# ------------------------------------------------------------------ history


class HistoryReader:
    """Named queries run once per (query, params) within a gate run."""

    def __init__(self, site: Any, change: Any = None) -> None:
        self.site = site
        self.change = change
        """console.gates.after.Change: windows are judged since it (an after_change set)."""
        self.clips: dict[str, Any] = {}
        """Each target's window cut to the time since the change (after.Clip), by name."""
        self._history: Any = None
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}

    @property
    def history(self) -> Any:
        if self._history is None:
            from console.history import history_for

            self._history = history_for(self.site)
        return self._history

    def params(self, t: TargetSpec) -> dict[str, Any]:
        params = dict(t.params)
        if "service" not in params and t.query != "what_changed":
            service = self.site.config.default_service()
            if service:
                params["service"] = service
        if self.change is not None:
            from console.gates.after import clip_window
            from console.history import utcnow

            params, clip = clip_window(params, self.change, utcnow())
            if clip is not None:
                self.clips[t.name] = clip
        return params

    def named(self, query: str, params: dict[str, Any]) -> Any:
        key = (query, tuple(sorted((k, str(v)) for k, v in params.items())))
        if key not in self._cache:
            self._cache[key] = self.history.named(query, **params)
        return self._cache[key]

    def newest(
        self, metrics: list[str], service: str | None, until: datetime | None
    ) -> datetime | None:
        """The newest sample of these metrics up to `until` (any age)."""
        if not metrics:
            return None
        sql = "SELECT max(ts) FROM samples WHERE metric IN (SELECT unnest(?))"
        params: list[Any] = [list(metrics)]
        if until is not None:
            sql += " AND ts <= ?"
            params.append(until)
        if service:
            sql += " AND service = ?"
            params.append(service)
        with self.history.read() as cur:
            row = cur.execute(sql, params).fetchone()
        return row[0] if row and row[0] is not None else None

    def count(self, result: Any, metrics: list[str], service: str | None) -> int | None:
        """Samples of these metrics in the query's window (not its baseline)."""
        from console.history import seconds

        window = result.params.get("window")
        if not window or result.until is None or not metrics:
            return None
        until = result.until
        since = until - timedelta(seconds=seconds(window, "window"))

        def q(text: str) -> str:
            return "'" + str(text).replace("'", "''") + "'"

        sql = (
            "SELECT count(value) FROM samples WHERE NOT isnan(value) AND metric IN ("
            + ", ".join(q(m) for m in metrics)
            + f") AND ts >= TIMESTAMP {q(since.isoformat(sep=' '))}"
            + f" AND ts < TIMESTAMP {q(until.isoformat(sep=' '))}"
            + (f" AND service = {q(service)}" if service else "")
        )
        rows = self.history.sql(sql).rows
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def from_history(t: TargetSpec, reader: HistoryReader) -> Source:
    """The target's measure from its named query (or its SQL), with the window's sample count."""
    from console.history import HistoryBusy, HistoryError

    try:
        if t.sql:
            result = reader.history.sql(t.sql)
            return _from_rows(t, result, "rows", "")
        params = reader.params(t)
        result = reader.named(t.query or "", params)
    except HistoryBusy as exc:
        raise Broken(str(exc)) from None
    except HistoryError as exc:
        if str(exc.message).startswith("no samples of"):
            raise Empty(_history_text(exc)) from None
        raise Broken(_history_text(exc)) from None
    clip = reader.clips.get(t.name)
    context = clip.context() if clip is not None else _window_text(params, t.query or "")
    metrics = _metrics_for(t, params)
    now = result.until
    try:
        newest = reader.newest(metrics, params.get("service"), now)
    except (HistoryBusy, HistoryError):
        newest = None
    try:
        source = _history_source(t, reader, result, params, context, metrics)
    except Empty as exc:
        exc.newest, exc.now = newest, now
        raise
    source.newest, source.now = newest, now
    return source


def _history_source(
    t: TargetSpec,
    reader: HistoryReader,
    result: Any,
    params: dict[str, Any],
    context: str,
    metrics: list[str],
) -> Source:
    """The Source of a named query's result (Empty when it has no value for the measure)."""
    if t.samples == "each":
        source = _from_rows(t, result, "buckets" if result.time_column else "rows", context)
    else:
        raw: Any = result.measures.get(t.measure)
        detail: dict[str, Any] = {}
        if raw is None:
            derived = _derived(result).get(t.measure)
            if derived:
                raw = _hardest(derived, t)
        if raw is None and t.measure in result.columns and result.rows:
            ci = result.columns.index(t.measure)
            col = [r[ci] for r in result.rows if is_number(r[ci])]
            if col:
                raw = _hardest(col, t)
        if raw is None:
            why = result.note or f"{t.query} reported no {t.measure}"
            if result.rows and not result.note:
                n = reader.count(result, metrics, params.get("service"))
                if n == 0:
                    why = (
                        f"the samples of {'/'.join(metrics)}{context.split(' vs')[0]} are all "
                        "NaN or missing"
                    )
                else:
                    why += " (no baseline window to compare with?)"
            raise Empty(why)
        if result.note:
            detail["note"] = result.note
        source = Source(dict(result.measures), [(None, raw)], None, "samples", context, "", detail)
    source.count = reader.count(result, metrics, params.get("service"))
    source.detail.update({"query": t.query, "params": params, "metrics": metrics})
    source.noun = f"samples of {'/'.join(metrics)}" if metrics else "samples"
    return source


def _from_rows(t: TargetSpec, result: Any, noun: str, context: str) -> Source:
    """The measure's column as samples keyed by another column: every row with samples = 'each',
    else the first."""
    if t.measure not in result.columns:
        cols = ", ".join(result.columns) or "none"
        raise Broken(f"the result has no column '{t.measure}' (columns: {cols})")
    ci = result.columns.index(t.measure)
    key_col = next((i for i, c in enumerate(result.columns) if i != ci), None)
    rows = result.rows if t.samples == "each" else result.rows[:1]
    samples = [
        (str(r[key_col]) if key_col is not None else str(i), _number(r[ci]))
        for i, r in enumerate(rows)
    ]
    if not samples:
        raise Empty(result.note or "the query returned no rows")
    return Source({}, samples, len(result.rows), noun, context, "", {"rows": len(result.rows)})


def _hardest(values: list[Any], t: TargetSpec) -> Any:
    """Of one value per service or row, the one the pass condition is hardest on."""
    high_is_good = conditions.parse(t.pass_).op in (">", ">=")
    return min(values) if high_is_good else max(values)


def _derived(result: Any) -> dict[str, list[float]]:
    """window_vs_baseline rows as measures: p50_delta, p95_ratio, mean_delta... (one per service)."""
    cols = list(result.columns)
    if "stat" not in cols:
        return {}
    si = cols.index("stat")
    out: dict[str, list[float]] = {}
    for row in result.rows:
        for col in ("window", "baseline", "delta", "ratio"):
            if col in cols:
                v = row[cols.index(col)]
                if v is not None:
                    out.setdefault(f"{row[si]}_{col}", []).append(float(v))
    return out


def _window_text(params: dict[str, Any], query: str) -> str:
    """' over 15m vs the 24h before': the window a reason stands on."""
    window = params.get("window")
    if not window:
        return ""
    text = f" over {window}"
    if query in _BASELINE_QUERIES:
        text += f" vs the {params.get('baseline', '24h')} before"
    return text


def _metrics_for(t: TargetSpec, params: dict[str, Any]) -> list[str]:
    """The metrics the target's query reads, whose samples in the window are counted."""
    if t.query in ("window_vs_baseline", "latency_percentiles"):
        return [str(params.get("metric") or "latency_ms")]
    if params.get("metric"):
        return [str(params["metric"])]
    known = _QUERY_METRICS.get(t.query or "", ())
    for m in sorted(known, key=len, reverse=True):
        if t.measure.startswith(m):
            return [m]
    return list(known)


def _history_text(exc: Any) -> str:
    """A HistoryError in one line: its message and the first problem's hint."""
    text = str(exc.message)
    for p in getattr(exc, "problems", [])[:1]:
        if p.hint and not p.hint.startswith("did you mean"):
            text += f" ({p.hint})"
        elif p.reason and p.reason not in text:
            text += f": {p.reason}"
    return text


def _number(v: Any) -> Any:
    """DuckDB DECIMALs as floats; anything else as it is."""
    if isinstance(v, Decimal):
        return float(v)
    return v


# ------------------------------------------------------------------ prometheus


def _prometheus_source(site: Any, t: TargetSpec) -> Any:
    """The [history.sources.NAME] of kind prometheus a promql target asks."""
    sources = {
        n: s
        for n, s in site.config.history.sources.items()
        if getattr(s, "kind", "") == "prometheus"
    }
    if t.prometheus:
        if t.prometheus in sources:
            return sources[t.prometheus]
        guess = closest(t.prometheus, sources)
        hint = f"did you mean '{guess}'?" if guess else "known: " + (", ".join(sources) or "none")
        raise Broken(f"no prometheus source '{t.prometheus}' in [history.sources] ({hint})")
    if len(sources) == 1:
        return next(iter(sources.values()))
    raise Broken(
        "a promql target needs the site's Prometheus: "
        + (
            f"{len(sources)} prometheus sources, name one with prometheus = ..."
            if sources
            else "add [history.sources.NAME] with kind = 'prometheus' and its url"
        )
    )


def from_prometheus(t: TargetSpec, site: Any) -> Source:
    """The target's value from an instant query at decision time; one sample per series."""
    from console.history import HistoryError, query_instant, source_verify, utcnow

    src = _prometheus_source(site, t)
    now = utcnow()
    try:
        points = query_instant(
            src.url,
            t.promql or "",
            headers=dict(src.headers),
            token_secret=src.token_secret,
            timeout=min(float(src.timeout), 30.0),
            verify=source_verify(site, src),
        )
    except HistoryError as exc:
        raise Broken(_history_text(exc)) from None
    if not points:
        raise Empty(f"{t.promql} returned no series (nothing scraped lately?)", None, now)
    newest = datetime.fromtimestamp(max(ts for _l, ts, _v in points), UTC).replace(tzinfo=None)
    keyed = [
        (",".join(f"{k}={v}" for k, v in sorted(labels.items())) or None, value)
        for labels, _ts, value in points
    ]
    if t.samples != "each" and len(keyed) > 1:
        numbers = [v for _k, v in keyed if is_number(v) and v == v]
        keyed = [(None, _hardest(numbers, t) if numbers else float("nan"))]
    noun = "series" if len(points) > 1 else "samples"
    detail = {"promql": t.promql, "url": src.url, "series": len(points)}
    return Source({}, keyed, len(points), noun, "", "", detail, newest, now)
