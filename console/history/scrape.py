"""Samples from two scrapes of a Prometheus-text /metrics endpoint.

The text is parsed by prometheus_client's own parser (imported when a scrape is first read);
what the two scrapes mean is decided here, one rule per family type:

- a counter is a rate per second between the two scrapes (a counter that went down was reset:
  its new value is the increase), or, for a metric with `per`, its share of the increase of the
  same family's series matching `per` (429s over all requests);
- a histogram is a quantile of the observations between the two scrapes, interpolated inside
  the bucket it falls in (Prometheus' histogram_quantile); nothing observed, no sample;
- a gauge (or an untyped value) is what the latest scrape says.

Families listed by name or glob are stored as they are, labels kept: counters as
`<name>_total:rate`, histograms as `<name>:p50`, `:p95`, `:p99`, gauges under their own name.
Named metrics sum the series they match into one value. The first scrape only gives gauges:
rates and quantiles need a previous scrape.
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Labels = tuple[tuple[str, str], ...]
QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))


@dataclass
class Family:
    """One metric family of a scrape: its type and its values by sample name and labels."""

    name: str
    type: str
    values: dict[tuple[str, Labels], float] = field(default_factory=dict)


@dataclass
class Scrape:
    """What one read of /metrics said, and when (seconds since the epoch)."""

    at: float
    families: dict[str, Family]

    def family(self, name: str) -> Family | None:
        """The family by its name, a counter's with or without _total."""
        return self.families.get(name) or self.families.get(name.removesuffix("_total"))


def parse_scrape(text: str, at: float) -> Scrape:
    """The exposition text as families (prometheus_client's parser; ValueError on bad text)."""
    from prometheus_client.parser import text_string_to_metric_families

    families: dict[str, Family] = {}
    for fam in text_string_to_metric_families(text):
        out = families.setdefault(fam.name, Family(fam.name, fam.type))
        for s in fam.samples:
            labels = tuple(sorted((str(k), str(v)) for k, v in s.labels.items()))
            out.values[(s.name, labels)] = float(s.value)
    return Scrape(at, families)


def label_match(labels: Labels, match: Mapping[str, str]) -> bool:
    """Whether a series has every label of `match` (a value '~re' is a regex, matched whole)."""
    have = dict(labels)
    for name, want in match.items():
        value = have.get(name, "")
        if want.startswith("~"):
            if not re.fullmatch(want[1:], value):
                return False
        elif value != want:
            return False
    return True


def _increase(now: float, before: float | None) -> float | None:
    if before is None:
        return None
    return now - before if now >= before else now  # a counter that went down was reset


def _counter_series(fam: Family) -> dict[Labels, float]:
    return {labels: v for (name, labels), v in fam.values.items() if name.endswith("_total")} or {
        labels: v for (name, labels), v in fam.values.items() if not name.endswith("_created")
    }


def _counter_increase(cur: Family, prev: Family | None, match: Mapping[str, str]) -> float | None:
    """The summed increase of the matching series (None: no previous scrape to compare with)."""
    if prev is None:
        return None
    before = _counter_series(prev)
    total = 0.0
    for labels, v in _counter_series(cur).items():
        if label_match(labels, match):
            inc = _increase(v, before.get(labels, 0.0))
            total += inc or 0.0
    return total


def _buckets(fam: Family, match: Mapping[str, str] | None) -> dict[Labels, dict[float, float]]:
    """Cumulative bucket counts by series (labels without le) -> {upper bound: count}."""
    out: dict[Labels, dict[float, float]] = {}
    for (name, labels), v in fam.values.items():
        if not name.endswith("_bucket"):
            continue
        le = dict(labels).get("le")
        if le is None:
            continue
        series = tuple(kv for kv in labels if kv[0] != "le")
        if match is not None and not label_match(series, match):
            continue
        out.setdefault(series, {})[float(le)] = v
    return out


def _bucket_deltas(
    cur: dict[float, float], prev: dict[float, float] | None
) -> dict[float, float] | None:
    if prev is None:
        return None
    if any(v < prev.get(le, 0.0) for le, v in cur.items()):
        return dict(cur)  # reset: everything counted now is new
    return {le: v - prev.get(le, 0.0) for le, v in cur.items()}


def bucket_quantile(q: float, cumulative: Mapping[float, float]) -> float | None:
    """Prometheus' histogram_quantile over cumulative bucket counts; None when nothing was observed."""
    bounds = sorted(cumulative)
    if not bounds or not math.isinf(bounds[-1]):
        return None
    total = cumulative[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower, count_below = 0.0, 0.0
    for i, upper in enumerate(bounds):
        count = cumulative[upper]
        if count >= rank:
            if math.isinf(upper):
                return bounds[i - 1] if i > 0 else None
            if i == 0 and upper <= 0:
                return upper
            in_bucket = count - count_below
            if in_bucket <= 0:
                return upper
            return lower + (upper - lower) * (rank - count_below) / in_bucket
        lower, count_below = upper, count
    return None


def _summed_buckets(series: Iterable[dict[float, float]]) -> dict[float, float]:
    out: dict[float, float] = {}
    for buckets in series:
        for le, v in buckets.items():
            out[le] = out.get(le, 0.0) + v
    return out


def _labels_json(labels: Labels) -> str | None:
    return json.dumps(dict(labels), separators=(",", ":")) if labels else None


Row = tuple[str, float, str | None]
"""(metric, value, labels as JSON or None)."""


def named_value(metric: Any, cur: Scrape, prev: Scrape | None) -> float | None:
    """One ScrapeMetric's value from this scrape and the one before (None: nothing to say yet)."""
    fam = cur.family(metric.family)
    if fam is None:
        return None
    pfam = prev.family(metric.family) if prev is not None else None
    value: float | None
    if metric.counter:
        inc = _counter_increase(fam, pfam, metric.match)
        if inc is None:
            return None
        if metric.per is not None:
            of = _counter_increase(fam, pfam, metric.per)
            value = inc / of if of else None
        else:
            dt = cur.at - prev.at if prev is not None else 0.0
            value = inc / dt if dt > 0 else None
    elif metric.histogram:
        if pfam is None:
            return None
        now = _summed_buckets(_buckets(fam, metric.match).values())
        before = _summed_buckets(_buckets(pfam, metric.match).values())
        deltas = _bucket_deltas(now, before) if now else None
        value = bucket_quantile(metric.quantile, deltas) if deltas else None
    else:
        matching = [
            v
            for (name, labels), v in fam.values.items()
            if name == fam.name and label_match(labels, metric.match)
        ]
        value = sum(matching) if matching else None
    if value is None or not math.isfinite(value):
        return None
    return value * metric.scale


def family_rows(patterns: list[str], cur: Scrape, prev: Scrape | None) -> list[Row]:
    """The families matching `patterns`, stored as they are (labels kept)."""
    rows: list[Row] = []
    dt = cur.at - prev.at if prev is not None else 0.0
    for fam in cur.families.values():
        names = (fam.name, fam.name + "_total") if fam.type == "counter" else (fam.name,)
        if not any(fnmatch.fnmatchcase(n, p) for n in names for p in patterns):
            continue
        pfam = prev.family(fam.name) if prev is not None else None
        if fam.type == "counter":
            if pfam is None or dt <= 0:
                continue
            before = _counter_series(pfam)
            for labels, v in _counter_series(fam).items():
                inc = _increase(v, before.get(labels, 0.0))
                if inc is not None:
                    rows.append((f"{fam.name}_total:rate", inc / dt, _labels_json(labels)))
        elif fam.type == "histogram":
            if pfam is None:
                continue
            before_all = _buckets(pfam, None)
            for labels, buckets in _buckets(fam, None).items():
                deltas = _bucket_deltas(buckets, before_all.get(labels, {}))
                for suffix, q in QUANTILES:
                    v = bucket_quantile(q, deltas or {})
                    if v is not None:
                        rows.append((f"{fam.name}:{suffix}", v, _labels_json(labels)))
        elif fam.type in ("gauge", "unknown", "untyped"):
            for (name, labels), v in fam.values.items():
                if name == fam.name and math.isfinite(v):
                    rows.append((fam.name, v, _labels_json(labels)))
    return rows


def scrape_rows(source: Any, cur: Scrape, prev: Scrape | None) -> list[Row]:
    """Every row one scrape source gives for this scrape: its families, then its named metrics."""
    rows = family_rows(list(source.families), cur, prev) if source.families else []
    for name, metric in source.metrics.items():
        value = named_value(metric, cur, prev)
        if value is not None:
            rows.append((name, value, None))
    return rows
