"""One rule for numbers on screen: by unit, never scientific notation, no digits of noise."""

from __future__ import annotations

import pytest

from console.core.numbers import axis_text, condition_text, metric_unit, number_text


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.0007424, "ratio", "0.07%"),  # an error rate, as a person reads it
        (-0.0497939, "ratio", "-4.98%"),  # a relative change
        (0.999, "%", "99.9%"),
        (0.99995, "%", "99.99%"),  # short of 100 % never reads as 100 %
        (1.0, "ratio", "100%"),
        (0.00003, "ratio", "0.003%"),  # small, but not zero
        (0.0, "ratio", "0%"),
        (1840.2, "ms", "1840 ms"),
        (4.23, "ms", "4.2 ms"),
        (12345, "ms", "12.3 s"),
        (250, "s", "4 min 10 s"),
        (12345, "count", "12,345"),
        (3, "", "3"),
        (2.013, "x", "2.01×"),
        (0.305, "", "0.305"),
        (7e-4, "", "0.0007"),
        (0.0007424, "", "0.000742"),
        (123456.7, "", "123,457"),
        (None, "", "-"),
        (True, "bool", "yes"),
        (float("nan"), "", "NaN"),
    ],
)
def test_number_text_by_unit(value, unit, shown):
    assert number_text(value, unit) == shown


def test_axis_labels_are_short_and_never_scientific():
    assert [axis_text(v) for v in (7e-4, 0.5, 12.3, 1234, 2.5e6)] == [
        "0.0007",
        "0.5",
        "12",
        "1.2k",
        "2.5M",
    ]
    assert axis_text(0.0007, "ratio") == "0.07%"


def test_thresholds_of_shares_read_as_percentages():
    assert condition_text("<= 0.005", "ratio") == "≤ 0.5%"
    assert condition_text(">= 0.999", "ratio") == "≥ 99.9%"
    assert condition_text("< 750 ms", "ms") == "< 750 ms"
    assert condition_text(">= 99.9%", "%") == "≥ 99.9%"  # already a percentage: left alone


def test_metric_names_imply_units():
    assert metric_unit("latency_ms") == "ms"
    assert metric_unit("latency_ms_p95") == "ms"
    assert metric_unit("error_rate") == "ratio"
    assert metric_unit("coverage") == "ratio"
    assert metric_unit("rate_429") == "ratio"
    assert metric_unit("delta_s") == ""  # ΔS, not seconds
    assert metric_unit("requests") == ""
