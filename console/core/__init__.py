"""The rules everything else is built on, each in one place: errors and exit codes, where data
lives, durable writes, redaction, secrets, durations, the template language, JSON paths,
conditions and their judge, bounded HTTP, which argv words are code, who is acting.

Standard library only; every other package of console/ may import it.
"""

from console.core import (
    argv,
    conditions,
    durable,
    durations,
    errors,
    http,
    identity,
    jsonpath,
    numbers,
    paths,
    secrets,
    templates,
    validation,
)
from console.core.conditions import Condition
from console.core.durable import append_record, atomic_write
from console.core.durations import duration_text, parse_duration
from console.core.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
    ConfigError,
    FixmapError,
    PlaybookError,
    Problem,
    closest,
)
from console.core.identity import host, now_iso, parse_ts, who
from console.core.jsonpath import JsonPathError, lookup
from console.core.numbers import condition_text, metric_unit, number_text
from console.core.paths import data_dir
from console.core.redact import public_url, redact, redact_json, redact_obj, register_secret
from console.core.secrets import SecretError, env_var, resolve

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CHECK_FAILED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "Condition",
    "ConfigError",
    "FixmapError",
    "JsonPathError",
    "PlaybookError",
    "Problem",
    "SecretError",
    "append_record",
    "argv",
    "atomic_write",
    "closest",
    "condition_text",
    "conditions",
    "data_dir",
    "durable",
    "duration_text",
    "durations",
    "env_var",
    "errors",
    "host",
    "http",
    "identity",
    "jsonpath",
    "lookup",
    "metric_unit",
    "now_iso",
    "number_text",
    "numbers",
    "parse_duration",
    "parse_ts",
    "paths",
    "public_url",
    "redact",
    "redact_json",
    "redact_obj",
    "register_secret",
    "resolve",
    "secrets",
    "templates",
    "validation",
    "who",
]
