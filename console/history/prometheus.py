"""Metric series from a Prometheus-compatible API (Prometheus, Thanos, VictoriaMetrics, Mimir).

A range query is asked in chunks of at most 10,000 steps (under Prometheus's 11,000-point
limit) and comes back as numpy arrays per series. Each series is stored under the query's
name, else the given metric, else its __name__; its service is the given one, else its
`service` label, else its `job` label; its other labels are kept. A series that cannot be
placed (no name, no service) fails the whole ingest with the label set at fault, before
anything is written. A bearer token is read from a named secret, never from the command line
or the config itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from console.core import Problem, public_url, redact, redact_obj, resolve
from console.history.results import HistoryError, IngestReport, SourceReport
from console.history.schema import METRIC_NAME
from console.history.times import parse_time, seconds, utcnow

Queries = str | Sequence[str] | Mapping[str, str]
"""One PromQL string, a list of them, or {metric name: PromQL}."""


def auth_headers(headers: Mapping[str, str] | None, token_secret: str | None) -> dict[str, str]:
    """The request headers: `{secret:NAME}` in a value resolved (an unset secret is an error
    naming it), and 'Authorization: Bearer …' from `token_secret` if one is given."""
    from console.core.templates import names_in, render_text

    out = dict(headers or {})
    wanted = names_in(list(out.values()), "secret")
    if wanted:
        values = {name: resolve(name) for name in wanted}
        out = {k: render_text(v, {}, values) for k, v in out.items()}
    if token_secret:
        out["Authorization"] = f"Bearer {resolve(token_secret)}"
    return out


def source_verify(site: Any, src: Any) -> Any:
    """How to verify a source's TLS: the system's CAs, plus its `ca_file` (a private CA)."""
    ca = getattr(src, "ca_file", None)
    if not ca:
        return True
    from console.core.http import ssl_context

    return ssl_context((str(site.resolve(ca) if site is not None else ca),))


def time_range(since: Any, step: Any, until: Any) -> tuple[datetime, datetime, float]:
    """(start, end, step in seconds) of a range query ending at `until` (default now)."""
    since_s = seconds(since, "since")
    step_s = seconds(step, "step")
    if step_s <= 0:
        raise HistoryError("step must be more than 0s", [Problem(None, "step", "must be > 0")])
    end = parse_time(until, "until") if until is not None else utcnow()
    return end - timedelta(seconds=since_s), end, step_s


def promql_queries(queries: Queries, metric: str | None) -> list[tuple[str | None, str]]:
    """(metric name or None, PromQL) per query; a name that could not be stored is refused."""
    if isinstance(queries, str):
        named_qs: list[tuple[str | None, str]] = [(metric, queries)]
    elif isinstance(queries, Mapping):
        named_qs = [(str(k), str(v)) for k, v in queries.items()]
    else:
        qs = [str(q) for q in queries]
        if metric and len(qs) > 1:
            raise HistoryError(
                "--metric names one query's series; with several queries give each a name",
                [
                    Problem(
                        None,
                        "metric",
                        "ambiguous with several queries",
                        hint="run one ingest per query, or name them in the site config",
                    )
                ],
            )
        named_qs = [(metric, q) for q in qs]
    if not named_qs:
        raise HistoryError("no PromQL query given", [Problem(None, "query", "missing")])
    for name, _ in named_qs:
        if name is not None and not METRIC_NAME.match(name):
            raise HistoryError(
                f"'{name}' is not a usable metric name",
                [Problem(None, "metric", "use letters, digits, _ : . -")],
            )
    return named_qs


def fetch_samples(
    url: str,
    named_qs: Sequence[tuple[str | None, str]],
    start: datetime,
    end: datetime,
    step_s: float,
    *,
    service: str | None,
    headers: Mapping[str, str],
    timeout: float,
    verify: Any = True,
) -> tuple[IngestReport, dict[str, Any] | None]:
    """Every query's series as one batch of sample columns (None when there are no points),
    and the report of what each query brought. `timeout` bounds the whole fetch, every query
    and chunk of it together: a server that trickles its answer costs the timeout, no more."""
    columns: dict[str, list[Any]] = {
        "ts": [],
        "service": [],
        "metric": [],
        "value": [],
        "labels": [],
    }
    report = IngestReport(rows=0, elapsed_s=0.0)
    shown = public_url(url)
    deadline = time.monotonic() + timeout
    for name, promql in named_qs:
        series = fetch_prometheus(
            url,
            promql,
            start,
            end,
            step_s,
            headers=headers,
            timeout=timeout,
            deadline=deadline,
            verify=verify,
        )
        src = SourceReport(redact(f"{shown} {promql}"), "prometheus")
        report.sources.append(src)
        for labels, ts, values in series:
            labels = redact_obj(dict(labels))  # a label value can carry anything the target saw
            metric_name = name or labels.get("__name__")
            if not metric_name:
                raise HistoryError(
                    f"the result of '{promql}' has no metric name",
                    [
                        Problem(
                            None,
                            "metric",
                            "the series has no __name__ label",
                            hint="name it with --metric NAME (or a name in the site config)",
                        )
                    ],
                )
            labels.pop("__name__", None)
            svc = service
            if svc is None:
                svc = labels.pop("service", None) or labels.pop("job", None)
            if not svc:
                raise HistoryError(
                    f"a series of '{promql}' has no service or job label",
                    [
                        Problem(
                            None,
                            "service",
                            f"labels: {labels}",
                            hint="name it with --service NAME",
                        )
                    ],
                )
            n = len(ts)
            columns["ts"].append(ts)
            columns["value"].append(values)
            columns["service"].append([svc] * n)
            columns["metric"].append([metric_name] * n)
            columns["labels"].append([_labels_json(labels)] * n)
            src.rows += n
            src.series += 1
    report.rows = sum(s.rows for s in report.sources)
    if not report.rows:
        return report, None
    import numpy as np

    def texts(key: str) -> Any:
        return np.array([x for part in columns[key] for x in part], dtype=object)

    batch = {
        "ts": np.concatenate(columns["ts"]),
        "service": texts("service"),
        "metric": texts("metric"),
        "value": np.concatenate(columns["value"]),
        "labels": texts("labels"),
    }
    return report, batch


def _labels_json(labels: Mapping[str, Any] | None) -> str | None:
    if not labels:
        return None
    return json.dumps({str(k): str(v) for k, v in sorted(labels.items())}, separators=(",", ":"))


def fetch_prometheus(
    url: str,
    promql: str,
    start: datetime,
    end: datetime,
    step_s: float,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    deadline: float | None = None,
    verify: Any = True,
) -> list[tuple[dict[str, str], Any, Any]]:
    """query_range over [start, end] in chunks of at most 10,000 steps, all of them within
    `timeout` seconds (or by the monotonic `deadline` when one is given).

    Returns (labels, timestamps as datetime64[us], values as float64) per series.
    """
    import httpx

    from console.core import http

    shown = public_url(url)
    if deadline is None:
        deadline = time.monotonic() + timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise _too_slow(shown, promql, timeout)
    try:
        parts = http.bounded_http(
            lambda client: _query_range(client, url, promql, start, end, step_s, headers),
            timeout=left,
            verify=verify,
        )
    except (http.RequestAbandoned, httpx.HTTPError) as exc:
        raise _request_failed(shown, promql, timeout, exc) from None
    import numpy as np

    out = []
    for labels, ts_parts, v_parts in parts.values():
        ts = np.concatenate(ts_parts)
        vals = np.concatenate(v_parts)
        keep = np.isfinite(vals)
        out.append((labels, ts[keep], vals[keep]))
    return out


def _too_slow(shown: str, promql: str, timeout: float, *, ingest: bool = True) -> HistoryError:
    if not ingest:
        return HistoryError(
            f"Prometheus at {shown} did not answer '{promql}' within {timeout:g} s",
            [Problem(shown, "timeout", f"{timeout:g} s", hint="raise the target's timeout")],
        )
    return HistoryError(
        f"Prometheus at {shown} did not answer '{promql}' within {timeout:g} s; nothing was ingested",
        [
            Problem(
                shown,
                "timeout",
                f"{timeout:g} s for the whole ingest",
                hint="ask for a shorter range or a coarser --step, or raise the source's timeout",
            )
        ],
    )


def _request_failed(
    shown: str, promql: str, timeout: float, exc: Exception, *, ingest: bool = True
) -> HistoryError:
    """A request that failed: too slow (fixmap's deadline or one of httpx's own timeouts; a busy
    machine may starve a read for the whole budget), or the server could not be reached."""
    import httpx

    from console.core import http

    if isinstance(exc, (http.RequestAbandoned, httpx.TimeoutException)):
        return _too_slow(shown, promql, timeout, ingest=ingest)
    return HistoryError(
        f"cannot reach Prometheus at {shown}: {exc}",
        [Problem(shown, None, type(exc).__name__, hint="check the URL and that the server is up")],
    )


def _query_range(
    client: Any,
    url: str,
    promql: str,
    start: datetime,
    end: datetime,
    step_s: float,
    headers: Mapping[str, str] | None,
) -> dict[str, tuple[dict[str, str], list[Any], list[Any]]]:
    """The chunks of one range query, per series (labels, [timestamps], [values])."""
    import numpy as np

    endpoint = url.rstrip("/") + "/api/v1/query_range"
    chunk = timedelta(seconds=step_s * 10_000)
    parts: dict[str, tuple[dict[str, str], list[Any], list[Any]]] = {}
    lo = start
    while lo < end:
        hi = min(lo + chunk, end)
        resp = client.post(
            endpoint,
            data={
                "query": promql,
                "start": f"{lo.replace(tzinfo=UTC).timestamp():.3f}",
                "end": f"{hi.replace(tzinfo=UTC).timestamp():.3f}",
                "step": f"{step_s:g}",
            },
            headers=dict(headers or {}),
        )
        body = _body(resp, url, promql)
        data = body.get("data") or {}
        if data.get("resultType") != "matrix":
            raise HistoryError(
                f"Prometheus answered '{promql}' with a {data.get('resultType')}, not a range",
                [Problem(public_url(url), "query", "query_range must return a matrix")],
            )
        for item in data.get("result") or []:
            labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
            key = json.dumps(labels, sort_keys=True)
            values = item.get("values") or []
            if not values:
                continue
            arr = np.asarray(values, dtype=object)
            ts = (arr[:, 0].astype(np.float64) * 1e6).astype(np.int64).astype("datetime64[us]")
            vals = arr[:, 1].astype(np.float64)
            entry = parts.setdefault(key, (labels, [], []))
            entry[1].append(ts)
            entry[2].append(vals)
        lo = hi + timedelta(seconds=step_s)
    return parts


def _body(resp: Any, url: str, promql: str) -> dict[str, Any]:
    shown = public_url(url)
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise HistoryError(
            f"{shown} did not answer like a Prometheus API (HTTP {resp.status_code})",
            [
                Problem(
                    shown,
                    None,
                    redact(resp.text[:4096]).strip()[:200] or "empty body",
                    hint="check the token and its secret"
                    if resp.status_code in (401, 403)
                    else "give the server's base URL, e.g. http://127.0.0.1:9090",
                )
            ],
        )
    if body.get("status") != "success":
        raise HistoryError(
            redact(f"Prometheus rejected '{promql}': {body.get('error') or resp.status_code}"),
            [
                Problem(
                    shown,
                    "query",
                    redact(str(body.get("error") or body)),
                    hint=redact(str(body.get("errorType") or "")) or None,
                )
            ],
        )
    return body


def query_instant(
    url: str,
    promql: str,
    *,
    headers: Mapping[str, str] | None = None,
    token_secret: str | None = None,
    timeout: float = 10.0,
    verify: Any = True,
) -> list[tuple[dict[str, str], float, float]]:
    """An instant query now: (labels, timestamp in epoch seconds, value) per series of a vector,
    or one unlabelled point for a scalar. NaN values are kept (the judge calls them empty)."""
    import httpx

    headers = auth_headers(headers, token_secret)
    endpoint = url.rstrip("/") + "/api/v1/query"
    try:
        with httpx.Client(timeout=timeout, headers=dict(headers or {}), verify=verify) as client:
            resp = client.post(endpoint, data={"query": promql})
    except httpx.HTTPError as exc:
        raise _request_failed(public_url(url), promql, timeout, exc, ingest=False) from None
    data = _body(resp, url, promql).get("data") or {}
    kind = data.get("resultType")
    result = data.get("result")
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return [({}, float(result[0]), _float(result[1]))]
    if kind != "vector":
        raise HistoryError(
            f"Prometheus answered '{promql}' with a {kind}, not an instant vector",
            [Problem(url, "promql", "a gate judges an instant vector or a scalar")],
        )
    out = []
    for item in result or []:
        labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
        ts, value = item.get("value") or (None, None)
        if ts is not None:
            out.append((labels, float(ts), _float(value)))
    return out


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
