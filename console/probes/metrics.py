"""Values out of a Prometheus-text or OpenMetrics answer: a metric name and a label selector.

Parsed with prometheus_client's parsers (the OpenMetrics one when the answer says
`application/openmetrics-text`), never by hand; imported only when a probe reads a metric.
A selector matches the samples named `metric` whose labels include every `labels` pair; the
value is their sum (one series, or a counter split by labels). A counter can be named with or
without its `_total` suffix. Nothing matching is an error that names what the answer does have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from console.core import closest


class MetricError(ValueError):
    """An answer that is not exposition text, or a selector that matches no sample."""


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float


def parse_exposition(text: str, content_type: str = "") -> list[Sample]:
    """Every sample of a Prometheus text-format (0.0.4) or OpenMetrics answer."""
    if "openmetrics" in content_type.lower():
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
    else:
        from prometheus_client.parser import text_string_to_metric_families
    try:
        return [
            Sample(s.name, dict(s.labels), float(s.value))
            for family in text_string_to_metric_families(text)
            for s in family.samples
        ]
    except (ValueError, TypeError, IndexError) as exc:
        first = text.strip().splitlines()[0][:60] if text.strip() else "an empty body"
        raise MetricError(
            f"not Prometheus text / OpenMetrics ({exc}; starts {first!r}): point the url at the "
            "metrics endpoint"
        ) from None


def select(samples: list[Sample], metric: str, labels: Mapping[str, str]) -> float:
    """The sum of the samples named `metric` (or `metric_total`) carrying every label given."""
    names = {metric, f"{metric}_total"}
    named = [s for s in samples if s.name in names]
    if not named:
        have = sorted({s.name for s in samples})
        guess = closest(metric, have)
        hint = f"did you mean '{guess}'?" if guess else f"it has {len(have)} others"
        raise MetricError(f"no metric '{metric}' in the answer ({hint})")
    matching = [s for s in named if all(s.labels.get(k) == v for k, v in labels.items())]
    if not matching:
        seen = sorted({",".join(f"{k}={v}" for k, v in sorted(s.labels.items())) for s in named})
        shown = "; ".join(seen[:5]) or "no labels"
        raise MetricError(f"no '{metric}' sample has labels {dict(labels)} (it has: {shown})")
    return sum(s.value for s in matching)
