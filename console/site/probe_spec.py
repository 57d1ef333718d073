"""Site-config models for probes (the `[probes.NAME]` tables). Pydantic only: no httpx here.

Every value a probe reads from a response is located by a JSON path (`results[0].anchor`,
`data.index.hash`, `$` for the whole body) set here, with the demo service's shape as default,
so the same probes work against any site's API.

URLs, headers and JSON bodies are templates in the one template language (console/core/
templates.py): `{name}` is a value the probe kind fills in — which ones, per field, each kind
declares in `FILLS` (`{query}` for warmup; `{query}`, `{seed}`, `{k}` for stability; `{key}`
for idempotency and read_only) — `{secret:NAME}` a secret resolved when the probe runs, `{{`
and `}}` literal braces. A placeholder the kind never fills is a config error here, with the
file, the field and the line, rather than a literal sent to the service.

Every request a probe sends can be a GET of a URL (`manifest_url = "/manifest"`) or a request
table (`manifest_url = { method = "POST", url = "/v1/stats", headers = {...}, body = {...} }`);
the probe's own headers (and bearer_secret) go with every request it sends.
The kinds past plain `http`, and the union a probe table is parsed as (ProbeSpec), are in
console/site/probe_kinds.py. A value can also
come from a Prometheus-text / OpenMetrics endpoint: a metric name and a label selector
(`counter_metric`, or `checks = [{ metric = "...", labels = {...}, max = ... }]`).

`timeout` bounds each request (default: the service's); `deadline` bounds the whole probe.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from console.core.errors import closest
from console.core.jsonpath import parse_json_path
from console.core.templates import TemplateError, check_names, names_in, template_strings
from console.site.fields import Duration, JsonPath

PROBE_KINDS: tuple[str, ...] = (
    "http",
    "latency",
    "rate_limit",
    "warmup",
    "index",
    "stability",
    "idempotency",
    "pins",
    "read_only",
    "command",
)

TEMPLATE_FIELDS: tuple[str, ...] = (
    "url",
    "headers",
    "body",
    "manifest_url",
    "live_url",
    "served",
    "counter_url",
    "counter_labels",
    "mode_url",
)
"""The probe fields that are templates (whichever of them a kind has)."""

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
JsonValue = Any
METRIC_NAME = r"^[A-Za-z_:][A-Za-z0-9_:]*$"

# ------------------------------------------------------------------ shared parts


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Request(_Spec):
    """A request a probe sends, as a table: method, url (under the service's base_url, or a full
    URL), headers and a JSON body. Every part is a template; the probe's own headers go too."""

    url: str = Field(min_length=1)
    method: HttpMethod = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: JsonValue = None
    """JSON body to send (POST/PUT/PATCH)."""

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v


UrlOrRequest = str | Request
"""A URL to GET, or a request table { method, url, headers, body }."""


def selector(metric: str, labels: Mapping[str, str]) -> str:
    """`metric{a="b"}`: a metric and its label selector as values and reasons show them."""
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{metric}{{{inner}}}" if inner else metric


def _off(v: Any) -> Any:
    return None if v == "" else v


class JsonCheck(_Spec):
    """One assertion on a field of the answer: a JSON path, or a metric of a Prometheus-text /
    OpenMetrics answer (`metric` + `labels`, the sum of the matching samples)."""

    path: JsonPath | None = None
    """Where the field is, e.g. 'status' or 'data.ready'."""
    metric: str | None = Field(default=None, pattern=METRIC_NAME)
    """Instead of path: a metric name on an exposition endpoint, e.g. 'queue_depth'."""
    labels: dict[str, str] = Field(default_factory=dict)
    """With metric: the label values the samples must have, e.g. { queue = "ingest" }."""
    name: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    """The measure name the value is reported under (what a gate target's `measure` names);
    default: the path, or the metric selector."""
    equals: JsonValue = None
    """The value it must equal."""
    one_of: list[JsonValue] | None = None
    """Values it may take."""
    min: float | None = None
    """Lowest number allowed."""
    max: float | None = None
    """Highest number allowed."""
    exists: bool | None = None
    """True: the field must be there (any value); False: it must be absent."""

    @model_validator(mode="after")
    def _one_rule(self) -> JsonCheck:
        if (self.path is None) == (self.metric is None):
            raise ValueError("a check needs exactly one of path (JSON) or metric (Prometheus text)")
        if self.labels and self.metric is None:
            raise ValueError("labels go with metric")
        rules = [
            self.equals is not None,
            self.one_of is not None,
            self.min is not None or self.max is not None,
            self.exists is not None,
        ]
        if sum(rules) != 1:
            raise ValueError("a JSON check needs exactly one of equals, one_of, min/max, exists")
        return self

    @property
    def key(self) -> str:
        """Where the value is reported in the probe's values: the path, or the metric selector."""
        if self.name:
            return self.name
        return (self.path or "$") if self.metric is None else selector(self.metric, self.labels)


class ProbeBase(_Spec):
    """What every probe has: its kind, what it is for, which service, how long it may take."""

    kind: str
    description: str = ""
    """One line shown next to the probe in the console."""
    service: str | None = None
    """Service to probe (a key of [services]); default: the site's service."""
    timeout: Duration | None = Field(default=None, gt=0, le=3600)
    """The most each request may take (a command probe: the command); default: the service's
    timeout."""
    deadline: Duration | None = Field(default=None, gt=0, le=3600)
    """The most the whole probe may take, all its requests together; default: 30 s, or the
    timeout when that is longer."""

    FILLS: ClassVar[Mapping[str, frozenset[str]]] = {}
    """The values this kind fills into each template field; a field not named here (headers
    always) fills none and takes only `{secret:NAME}` placeholders."""

    @field_validator(*TEMPLATE_FIELDS, check_fields=False)
    @classmethod
    def _templates(cls, v: Any, info: ValidationInfo) -> Any:
        allowed = cls.FILLS.get(info.field_name or "", frozenset())
        if info.field_name == "headers":
            for name, text in (v or {}).items():
                _check_template(text, allowed, f"header {name}")
        elif isinstance(v, Request):
            for name, text in v.headers.items():
                _check_template(text, frozenset(), f"header {name}")
            for text in template_strings([v.url, v.body]):
                _check_template(text, allowed, repr(text))
        else:
            for text in template_strings(v):
                _check_template(text, allowed, repr(text))
        return v

    @model_validator(mode="after")
    def _deadline_after_timeout(self) -> ProbeBase:
        if self.deadline and self.timeout and self.deadline < self.timeout:
            raise ValueError(
                f"deadline ({self.deadline:g} s, the whole probe) is shorter than timeout "
                f"({self.timeout:g} s, one request): raise deadline or lower timeout"
            )
        return self

    def secret_names(self) -> list[str]:
        """Every secret this probe uses (in its templates, bearer_secret, secret_env), once each."""
        used: list[Any] = [
            _template_parts(getattr(self, f))
            for f in TEMPLATE_FIELDS
            if f in type(self).model_fields
        ]
        names = names_in(used, "secret")
        for extra in (
            getattr(self, "bearer_secret", None),
            *getattr(self, "secret_env", {}).values(),
        ):
            if extra and extra not in names:
                names.append(extra)
        return names


def _template_parts(value: Any) -> Any:
    """A template field's strings, whether it is text, a JSON-like value or a Request table."""
    if isinstance(value, Request):
        return [value.url, list(value.headers.values()), value.body]
    return value


def _check_template(text: str, allowed: frozenset[str], where: str) -> None:
    """TemplateError (a config error) for bad syntax or a value the kind never fills."""
    try:
        check_names(text, allowed, where)
    except TemplateError as exc:
        unknown = [n for n in names_in(text, "param") if n not in allowed]
        guess = closest(unknown[0], allowed) if unknown else None
        if guess:
            hint = f"; did you mean '{{{guess}}}'?"
        elif not allowed:
            hint = "; this field fills no values: use {secret:NAME}, or '{{' and '}}' for literal braces"
        else:
            hint = ""
        raise TemplateError(f"{exc}{hint}") from None


class _Request(_Spec):
    """An HTTP request a probe sends. `url` is a path under the service's base_url or a full URL.

    url, headers and body are templates: `{secret:NAME}` anywhere, and the values the kind
    fills (its FILLS) in url and body.
    """

    url: str = Field(min_length=1)
    method: HttpMethod = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: JsonValue = None
    """JSON body to send (POST/PUT/PATCH); strings may hold placeholders ('{seed}' alone keeps
    the value's type)."""
    bearer_secret: str | None = None
    """Name of the secret sent as 'Authorization: Bearer …' (never the value itself)."""

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v


def _statuses(v: Any) -> Any:
    return [v] if isinstance(v, int) and not isinstance(v, bool) else v


Statuses = Annotated[list[Annotated[int, Field(ge=100, le=599)]], BeforeValidator(_statuses)]


# ------------------------------------------------------------------ kinds


class HttpProbe(ProbeBase, _Request):
    """One request: expected status and JSON-field assertions."""

    kind: Literal["http"]
    expect_status: Statuses = Field(default_factory=lambda: [200])
    expect_json: dict[str, JsonValue] = Field(default_factory=dict)
    """Shorthand checks: JSON path -> the value it must equal."""
    checks: list[JsonCheck] = Field(default_factory=list)
    """Other checks on JSON fields (one_of, min/max, exists)."""

    @field_validator("expect_json")
    @classmethod
    def _paths(cls, v: dict[str, Any]) -> dict[str, Any]:
        for path in v:
            parse_json_path(path)
        return v
