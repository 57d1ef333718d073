"""The rules everything else is built on, each in one place: errors and exit codes, where data
lives, durable writes, redaction, secrets, durations, the template language, JSON paths,
conditions and their judge, bounded HTTP, which argv words are code, who is acting.

Standard library only; every other package of console/ may import it.
"""

from console.core.lazy import lazy_names
from console.core.redact import public_url, redact, redact_json, redact_obj, register_secret

# Every other name (and submodule) loads on first use: `from console.core import X` works for
# each X below, and a process that needs two rules does not pay for all of them. The redact
# names stay eager: `redact` is both a function here and a submodule, and a submodule imported
# later would otherwise shadow the function.
_SUBMODULES = (
    "argv",
    "conditions",
    "durable",
    "durations",
    "errors",
    "http",
    "identity",
    "jsonpath",
    "numbers",
    "paths",
    "secrets",
    "templates",
    "validation",
)

__getattr__ = lazy_names(
    __name__,
    {
        **{name: name for name in _SUBMODULES},
        "Condition": "conditions",
        "append_record": "durable",
        "atomic_write": "durable",
        "duration_text": "durations",
        "parse_duration": "durations",
        "EXIT_BAD_INPUT": "errors",
        "EXIT_CHECK_FAILED": "errors",
        "EXIT_OK": "errors",
        "EXIT_REFUSED": "errors",
        "ConfigError": "errors",
        "FixmapError": "errors",
        "PlaybookError": "errors",
        "Problem": "errors",
        "closest": "errors",
        "host": "identity",
        "now_iso": "identity",
        "parse_ts": "identity",
        "who": "identity",
        "JsonPathError": "jsonpath",
        "lookup": "jsonpath",
        "condition_text": "numbers",
        "metric_unit": "numbers",
        "number_text": "numbers",
        "data_dir": "paths",
        "SecretError": "secrets",
        "env_var": "secrets",
        "resolve": "secrets",
    },
    submodules=_SUBMODULES,
)

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
