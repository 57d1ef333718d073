"""The `http` probe: one request, its expected status and assertions on JSON fields.

Besides the status code and latency it reports the value found at every JSON path it checked
(`expect_json` keys and `checks[].path`), under that path, and every metric a check reads from a
Prometheus-text answer (`checks[].metric` + `labels`), under its selector. No answer at all is a
fail here: whether the service answers is what this kind measures.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from console.core import JsonPathError, lookup
from console.probes.client import Answer, Run
from console.probes.result import NoAnswer, Outcome, broken, fail

if TYPE_CHECKING:
    from console.site import HttpProbe, JsonCheck


async def probe_http(run: Run, spec: HttpProbe, timeout: float) -> Outcome:
    try:
        answer = await run.request(spec, timeout=timeout, headers=await run.headers(spec))
    except NoAnswer as v:
        raise fail(v.reason) from None
    values: dict[str, Any] = {
        "status_code": answer.status,
        "latency_ms": round(answer.elapsed_ms, 1),
    }
    expected = "/".join(str(s) for s in spec.expect_status)
    if answer.status not in spec.expect_status:
        detail = ""
        if spec.expect_json or spec.checks:
            try:
                data = json.loads(answer.body)
                if isinstance(data, dict):
                    detail = " (" + ", ".join(f"{k}={data[k]}" for k in list(data)[:3]) + ")"
            except ValueError:
                pass
        return Outcome(
            "fail",
            answer.status,
            f"status {expected}",
            f"answered {answer.status}, expected {expected}{detail}",
            values,
        )
    seen: list[str] = []
    if spec.expect_json or any(c.path is not None for c in spec.checks):
        data = answer.json()
    else:
        data = None
    samples = _samples(answer) if any(c.metric for c in spec.checks) else []
    if spec.expect_json or spec.checks:
        for path, want in spec.expect_json.items():
            got = answer.at(data, path, "expect_json")
            values[path] = got
            if got != want:
                return Outcome(
                    "fail",
                    answer.status,
                    f"status {expected}",
                    f"{path} is {got!r}, expected {want!r}",
                    values,
                )
            seen.append(f"{path}={got}")
        for check in spec.checks:
            problem = _check(answer, data, samples, check, values)
            if problem:
                return Outcome("fail", answer.status, f"status {expected}", problem, values)
            if check.exists is not False:
                seen.append(f"{check.key}={values.get(check.key)!s}")
    tail = ("; " + ", ".join(seen)) if seen else ""
    return Outcome(
        "pass",
        answer.status,
        f"status {expected}",
        f"{answer.status} in {answer.elapsed_ms:.0f} ms{tail}",
        values,
    )


def _samples(answer: Answer) -> list[Any]:
    from console.probes.metrics import MetricError, parse_exposition

    try:
        return parse_exposition(answer.text(), answer.headers.get("content-type", ""))
    except MetricError as exc:
        raise broken(f"{answer.url}: {exc}") from None


def _found(answer: Answer, data: Any, samples: list[Any], check: JsonCheck) -> tuple[bool, Any]:
    """(whether the field or metric is there, its value)."""
    if check.metric is not None:
        from console.probes.metrics import MetricError, select

        try:
            return True, select(samples, check.metric, check.labels)
        except MetricError as exc:
            if check.exists is None:
                raise broken(f"checks: {exc}") from None
            return False, None
    if check.exists is not None:
        try:
            return True, lookup(data, check.path or "$")
        except JsonPathError:
            return False, None
    return True, answer.at(data, check.path or "$", "checks")


def _check(
    answer: Answer, data: Any, samples: list[Any], check: JsonCheck, values: dict[str, Any]
) -> str | None:
    """Why the field fails the check (None: it passes); the value found goes into `values`."""
    where = check.key
    present, got = _found(answer, data, samples, check)
    if present:
        values[where] = got
    if check.exists is not None:
        if present != check.exists:
            return f"{where} is {'missing' if check.exists else 'present'}"
        return None
    if check.equals is not None and got != check.equals:
        return f"{where} is {got!r}, expected {check.equals!r}"
    if check.one_of is not None and got not in check.one_of:
        return f"{where} is {got!r}, expected one of {check.one_of!r}"
    if check.min is not None or check.max is not None:
        if not isinstance(got, int | float) or isinstance(got, bool):
            return f"{where} is {got!r}, not a number"
        if check.min is not None and got < check.min:
            return f"{where} is {got:g}, below {check.min:g}"
        if check.max is not None and got > check.max:
            return f"{where} is {got:g}, above {check.max:g}"
    return None
