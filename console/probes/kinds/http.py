"""The `http` probe: one request, its expected status and assertions on JSON fields.

Besides the status code and latency it reports the value found at every JSON path it checked
(`expect_json` keys and `checks[].path`), under that path.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from console.core import JsonPathError, lookup
from console.probes.client import Answer, Run
from console.probes.result import Outcome

if TYPE_CHECKING:
    from console.site import HttpProbe, JsonCheck


async def probe_http(run: Run, spec: HttpProbe, timeout: float) -> Outcome:
    answer = await run.request(spec, timeout=timeout, headers=await run.headers(spec))
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
    if spec.expect_json or spec.checks:
        data = answer.json()
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
            problem = _check(answer, data, check, values)
            if problem:
                return Outcome("fail", answer.status, f"status {expected}", problem, values)
            if check.exists is not False:
                seen.append(f"{check.path}={values.get(check.path)!s}")
    tail = ("; " + ", ".join(seen)) if seen else ""
    return Outcome(
        "pass",
        answer.status,
        f"status {expected}",
        f"{answer.status} in {answer.elapsed_ms:.0f} ms{tail}",
        values,
    )


def _check(answer: Answer, data: Any, check: JsonCheck, values: dict[str, Any]) -> str | None:
    """Why the field fails the check (None: it passes); the value found goes into `values`."""
    if check.exists is not None:
        try:
            values[check.path] = lookup(data, check.path)
            present = True
        except JsonPathError:
            present = False
        if present != check.exists:
            return f"{check.path} is {'missing' if check.exists else 'present'}"
        return None
    got = answer.at(data, check.path, "checks")
    values[check.path] = got
    if check.equals is not None and got != check.equals:
        return f"{check.path} is {got!r}, expected {check.equals!r}"
    if check.one_of is not None and got not in check.one_of:
        return f"{check.path} is {got!r}, expected one of {check.one_of!r}"
    if check.min is not None or check.max is not None:
        if not isinstance(got, int | float) or isinstance(got, bool):
            return f"{check.path} is {got!r}, not a number"
        if check.min is not None and got < check.min:
            return f"{check.path} is {got}, below {check.min}"
        if check.max is not None and got > check.max:
            return f"{check.path} is {got}, above {check.max}"
    return None
