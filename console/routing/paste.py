"""Pasted text as words: what an alert, an exception or a log line says once its noise is gone.

People paste what paged them: `[FIRING:1] KubePodCrashLooping namespace=rag pod=rag-api-6d9f8b7c5-x2kqz`,
`openai.RateLimitError: Error code: 429 - {...}`, a proxy's error line with a timestamp and an IP.
`clean` turns that into the words that say what is wrong, before the router tokenises it:

- CamelCase and acronym runs are split (`KubePodCrashLooping` -> Kube Pod Crash Looping,
  `HTTPSConnectionPool` -> HTTPS Connection Pool); snake_case splits at tokenising anyway;
- `key=value` labels (and JSON `"key": "value"` fields) are read: identity labels (pod, instance, namespace, request_id, ...) go
  with their value, name labels (alertname, reason, code) keep their value, any other keeps both
  (`queue=embed-jobs` -> queue embed-jobs);
- ids, hashes, UUIDs, timestamps, IP addresses, long numbers and URLs' hosts and query strings
  are dropped: they say which thing, never what is wrong with it.

Both sides of a match (playbook text at build time, the query per keystroke) go through this,
so an alert name in a playbook's `alerts` meets the same alert pasted with its labels.
"""

from __future__ import annotations

import re

# fmt: off
IDENTITY_KEYS = frozenset(["pod", "pod_name", "instance", "namespace", "job", "container", "node", "host", "hostname", "ip", "addr", "address", "uid", "id", "request_id", "req_id", "requestid", "trace_id", "traceid", "span_id", "spanid", "correlation_id", "x_request_id", "cluster", "endpoint", "prometheus", "service", "service_name", "app", "team", "owner", "env", "environment", "region", "zone", "az", "datacenter", "dc", "fingerprint", "generatorurl", "generator_url", "runbook_url", "runbook", "dashboard", "dashboard_url", "panel_url", "silence_url", "source", "monitor", "monitor_id", "org", "org_id", "project", "project_id", "user", "user_id", "client", "server", "severity", "priority", "urgency", "customer", "tenant_id", "account", "account_id", "deployment_id", "revision_id", "build", "image", "image_id", "container_id", "replicaset", "statefulset", "daemonset", "controller_revision_hash", "pod_template_hash", "uri", "url", "path", "host_ip", "pod_ip"])
"""Labels that say which thing (where, who, which copy): dropped with their value."""

NAME_KEYS = frozenset(["alertname", "alert", "alert_name", "event", "event_type", "reason", "code", "error_code", "error_type", "type", "status", "state", "name", "check", "check_name", "rule", "rule_name"])
"""Labels whose value is the news (the alert's name, the reason): the value is kept, the key not."""
# fmt: on

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/'\"<>]*([^\s?#'\"<>]*)(?:[?#][^\s'\"<>]*)?", re.I)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_STAMP = re.compile(
    r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?)?\b|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"
)
_IP = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")
_HEX = re.compile(
    r"\b0x[0-9a-f]+\b|(?<![a-z0-9])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}(?![a-z0-9])", re.I
)
_MIXED_ID = re.compile(
    r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{10,}(?![A-Za-z0-9])"
)
_ID_FIELD = re.compile(
    r"\b(?:request|trace|span|correlation|event|message|job|run)[ _-]?id\s*[:=]\s*[^\s,;)}\]]+",
    re.I,
)
_LONG_NUMBER = re.compile(r"(?<![\w.])\d{5,}(?![\w])")
_LABEL = re.compile(r"""(?<![\w.-])([A-Za-z_][\w.-]*)\s*=\s*("[^"]*"|'[^']*'|[^\s,;)}\]"']+)""")
_JSON_PAIR = re.compile(r""""([A-Za-z_][\w.-]*)"\s*:\s*("[^"]*")""")
"""A JSON string field ("severity": "page"), as an Alertmanager or PagerDuty payload carries
its labels: read like a key=value label."""
_CAMEL = re.compile(
    r"(?<=[a-z]{2})(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2})|(?<=[a-z])(?=[A-Z][a-z]{2})"
)
# what sends a text through `clean` at all; plain typed words (most keystrokes) skip it. Case
# matters in the first two (CamelCase), so they are spelt with both cases.
_NEEDS = re.compile(
    r"[a-z][A-Z]|[A-Z]{2}[a-z]|=|://|\d{4}|[0-9a-fA-F]{6}|\w\.\w|\d:\d\d|[iI][dD]\s*:|\"\s*:\s*\""
)


def _label(m: re.Match[str]) -> str:
    key = m.group(1)
    value = m.group(2).strip("\"'")
    k = key.lower().replace("-", "_").replace(".", "_")
    if k in IDENTITY_KEYS or k.endswith(("_id", "_url", "_uid", "_ip")):
        return " "
    if k in NAME_KEYS:
        return f" {value} "
    return f" {key} {value} "


def _camel(m: re.Match[str]) -> str:
    word = m.group(0)
    parts = _CAMEL.sub(" ", word).split()
    # an exception class says its news before "Error": RateLimitError -> Rate Limit (every pasted
    # trace says "error"; it would pull every exception towards the error-rate routes)
    suffix = _CLASS_SUFFIX.search(word)
    if suffix and parts[-2:-1] != ["Server"] and len(parts) >= (3 if suffix[1] == "Error" else 2):
        parts = parts[:-1]
    return " ".join(parts)


def _dotted(m: re.Match[str]) -> str:
    return " ".join(p for p in m.group(0).split(".") if p.lower() not in MODULE_NOISE)


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_DOTTED = re.compile(r"\b[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)+\b")
MODULE_NOISE = frozenset(
    [
        "exceptions",
        "exception",
        "errors",
        "error",
        "exc",
        "util",
        "utils",
        "core",
        "client",
        "http",
        "api",
        "lib",
        "_core",
        "_pydantic_core",
        "_channel",
        "com",
        "org",
        "io",
        "www",
    ]
)
"""Segments of a dotted module path that say nothing (urllib3.exceptions.MaxRetryError)."""
_CLASS_SUFFIX = re.compile(r"(?<=[a-z0-9])(Error|Exception|Exc)$")


def clean(text: str) -> str:
    """The text with labels read, CamelCase split and ids, hashes, stamps and hosts dropped."""
    if not _NEEDS.search(text):
        return text
    t = _URL.sub(lambda m: " " + m.group(1).replace("/", " ") + " ", text)
    t = _UUID.sub(" ", t)
    t = _STAMP.sub(" ", t)
    t = _IP.sub(" ", t)
    t = _ID_FIELD.sub(" ", t)
    if "=" in t:
        t = _LABEL.sub(_label, t)
    if '":' in t or '" :' in t:
        t = _JSON_PAIR.sub(_label, t)
    t = _HEX.sub(" ", t)
    t = _MIXED_ID.sub(" ", t)
    t = _LONG_NUMBER.sub(" ", t)
    if "." in t:
        t = _DOTTED.sub(_dotted, t)
    return _WORD.sub(_camel, t)


_PASTED = re.compile(
    r"[a-z][A-Z][a-z]|[A-Z]{2,}[a-z]{2}|\w=\S|\b[a-z_]+\.[a-z_]+\.?[A-Z]|[A-Za-z]\w*(Error|Exception)\b"
    r"|\[(FIRING|RESOLVED)|HTTP/\d|\b[1-5]\d\d\b|[{}]|\w+_\w+|^\s*\w+:\s"
)


def looks_pasted(text: str) -> bool:
    """Whether the text reads as pasted (an alert, an exception, a log or status line) rather
    than typed: CamelCase or snake_case names, key=value, dotted.module.Class, a status code,
    JSON braces, a "Word:" prefix, or more than 25 words."""
    return bool(_PASTED.search(text)) or len(text.split()) > 25
