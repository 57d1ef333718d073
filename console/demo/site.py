"""The demo's site config (fixmap.toml): its service, one probe under every conventional name,
the pinned lock (equal to the healthy manifest) and, by name only, the admin token's secret,
which the demo keeps in its folder's secrets/ (the config's secrets_dir)."""

from __future__ import annotations

import json
from pathlib import Path

from console.core import atomic_write
from console.core.paths import CONFIG_NAME
from console.demo import corpus
from console.demo.faults import HEALTHY_PINS
from console.demo.levers import BUILDS, FLAGS, GOOD_BUILD, LIVE_ALIAS, STALE_BUILD

SERVICE_NAME = "demo"
ADMIN_SECRET = "demo_admin_token"
SECRETS_DIR = "secrets"
"""The demo folder's one-file-per-secret folder (0700; the token file 0600)."""
LATENCY_BUDGET_MS = 750


def _s(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_s(v) for v in values) + "]"


def demo_actions_toml(base_url: str) -> str:
    """The demo's [actions.*] tables, named after their kinds: each calls the service's /admin
    endpoints with the bearer secret named ADMIN_SECRET; `custom` runs a real local command.
    `base_url` is already the [services] entry; relative urls resolve against it."""
    import sys

    auth = f'headers = {{ Authorization = "Bearer {{secret:{ADMIN_SECRET}}}" }}'
    state = f'state = {{ url = "/admin/state", path = "{{path}}", {auth} }}'

    def admin(
        name: str,
        kind: str,
        description: str,
        endpoint: str,
        *,
        destructive: bool,
        extra: tuple[str, ...] | list[str] = (),
        body: str | None = None,
        state_path: str | None = None,
    ) -> list[str]:
        body_part = f", json = {body}" if body else ""
        lines = [
            f"[actions.{name}]",
            f"kind = {_s(kind)}",
            f"description = {_s(description)}",
            f"service = {_s(SERVICE_NAME)}",
            f"destructive = {'true' if destructive else 'false'}",
            'timeout = "10s"',
            *extra,
            f'http = {{ method = "POST", url = "/admin/{endpoint}", {auth}{body_part} }}',
        ]
        if state_path:
            lines.append(state.replace("{path}", state_path))
        return [*lines, ""]

    marker = (
        "import datetime, sys; "
        "line = datetime.datetime.now(datetime.timezone.utc).isoformat() + ' ' + sys.argv[1]; "
        "open('custom-action.log', 'a').write(line + chr(10)); print('recorded:', line)"
    )
    lines = [
        "# Actions: the sequence is plan -> guards -> confirm -> key -> journal -> run -> verify.",
        "# Try: fixmap act rollback --dry-run, then fixmap act freeze, then fixmap act flag.",
        "",
        *admin(
            "rollback",
            "rollback",
            "point the demo back at its last known-good release "
            "(clears stale-index, latency, duplicates, model-drift)",
            "rollback",
            destructive=True,
            extra=['verify = "index"'],
        ),
        *admin(
            "freeze",
            "freeze",
            "start a change freeze: only rollback, freeze and read-only may run",
            "freeze",
            destructive=False,
            state_path="frozen",
        ),
        *admin(
            "unfreeze",
            "unfreeze",
            "end the change freeze",
            "unfreeze",
            destructive=False,
            state_path="frozen",
        ),
        *admin(
            "read_only",
            "read_only",
            "put the demo in read-only mode (writes refused with 423 + Retry-After)",
            "read-only",
            destructive=True,
            extra=['verify = "read_only"'],
            state_path="mode",
        ),
        *admin(
            "read_write",
            "read_write",
            "end read-only mode",
            "read-write",
            destructive=False,
            state_path="mode",
        ),
        *admin(
            "flag",
            "flag",
            "set a feature flag or kill switch by name and value (ships change: refused "
            "during a freeze)",
            "flag",
            destructive=False,
            extra=[
                f'params.flag = {{ enum = {_list(list(FLAGS))}, description = "the flag" }}',
                'params.value = { regex = "^(on|off|true|false|0|1|0?[.][0-9]{1,3}|1[.]0{1,3})$", '
                'description = "on or off; a share 0..1 for canary" }',
                'target = "{flag}"',
            ],
            body='{ name = "{flag}", value = "{value}" }',
        ),
        *admin(
            "backpressure",
            "flag",
            "admission queue and load shedding: a call the upstream would refuse waits for a "
            "token instead of bouncing back as a 429 (a brake: a freeze does not block it)",
            "flag",
            destructive=False,
            extra=[
                "ships_change = false",
                'verify = "rate_limit"',
                'params.value = { enum = ["on", "off"], default = "on", '
                'description = "on: queue and shed; off: refuse at once" }',
            ],
            body='{ name = "backpressure", value = "{value}" }',
        ),
        *admin(
            "index_alias",
            "index_alias",
            f"point an index alias at a build ({LIVE_ALIAS} -> {GOOD_BUILD}, the manifest's, "
            f"or {STALE_BUILD}, the rebuild from a stale snapshot)",
            "alias",
            destructive=True,
            extra=[
                "# pointing the alias back undoes a change, so a freeze does not block it",
                "ships_change = false",
                'verify = "index"',
                'target = "{alias}"',
                f'params.alias = {{ enum = ["{LIVE_ALIAS}"], default = "{LIVE_ALIAS}", '
                'description = "the index alias readers use" }',
                f"params.to = {{ enum = {_list(list(BUILDS))}, "
                'description = "the build the alias points at" }',
            ],
            body='{ alias = "{alias}", to = "{to}" }',
        ),
        *admin(
            "cache_warm",
            "custom",
            "warm the cache: the popular queries and the gold set, before users ask them",
            "cache/warm",
            destructive=False,
            extra=["ships_change = false", 'verify = "warmup"'],
        ),
        *admin(
            "cache_rotate",
            "cache_rotate",
            "bump the cache namespace: no stale entry is served, and the new one starts cold "
            "(warm it next: cache_warm)",
            "cache/rotate",
            destructive=True,
        ),
        "[actions.custom]",
        'kind = "custom"',
        'description = "a real local command: append a deploy marker to custom-action.log here"',
        "destructive = false",
        "ships_change = true",
        'timeout = "10s"',
        'cwd = "."',
        f"argv = {_list([sys.executable, '-c', marker, '{note}'])}",
        'params.note = { type = "str", default = "deploy marker", regex = "^[A-Za-z0-9 ._:-]{1,80}$", '
        'description = "what the marker says" }',
        "",
    ]
    return "\n".join(lines)


SAMPLING_INTERVAL = "5s"
"""How often the demo's config has the sampler read the service's /metrics."""


def demo_history_toml() -> list[str]:
    """The [history] tables: the file, the service's /metrics as a scrape source (named after
    the history's metrics, so the gates read live numbers) and the sampler's interval."""
    share = '{ path = "~/retrieve|/write" }'
    return [
        "[history]",
        'db = "history.duckdb"',
        "",
        "# The live sampler (the console, `fixmap watch`, `fixmap demo --serve`) reads the",
        "# service's /metrics every interval: these metrics are what the gates judge.",
        "[history.sampling]",
        f"interval = {_s(SAMPLING_INTERVAL)}",
        'sources = ["demo_metrics"]',
        "",
        "[history.sources.demo_metrics]",
        'kind = "scrape"',
        'url = "/metrics"',
        f"service = {_s(SERVICE_NAME)}",
        'families = ["demo_requests", "demo_request_duration_seconds", "demo_fault_active"]',
        "[history.sources.demo_metrics.metrics]",
        'requests = { counter = "demo_requests", match = { path = "/retrieve" }, scale = 60 }',
        'rate_429 = { counter = "demo_requests", match = { path = "/retrieve", status = "429" }, '
        'per = { path = "/retrieve" } }',
        'rate_5xx = { counter = "demo_requests", match = { path = "/retrieve", status = "~5.." }, '
        'per = { path = "/retrieve" } }',
        'error_rate = { counter = "demo_requests", match = { path = "~/retrieve|/write", '
        f'status = "~429|5.." }}, per = {share} }}',
        'latency_ms = { histogram = "demo_request_duration_seconds", match = { path = "/retrieve" }, '
        "quantile = 0.95, scale = 1000 }",
        'cache_hit_ratio = { counter = "demo_cache_lookups", match = { result = "hit" }, per = {} }',
        'delta_s = { gauge = "demo_quality_delta_s" }',
        'coverage = { gauge = "demo_quality_coverage" }',
        'lambda_flip_rate = { gauge = "demo_quality_lambda_flip_rate" }',
        "",
    ]


def site_config_toml(base_url: str, pins: dict[str, str] | None = None) -> str:
    pins = pins or HEALTHY_PINS
    q = corpus.LATENCY_QUERY.replace(" ", "+")
    lines = [
        "# fixmap site config for the embedded demo (written by `fixmap demo`).",
        "# A real site looks the same: its services, its probes (each field a probe reads is a",
        "# JSON path, defaults follow the demo's shapes), its pinned lock and its actions.",
        "",
        f"# secrets by name: keyring, $FIXMAP_SECRET_<NAME>, then a file per secret in {SECRETS_DIR}/",
        f"secrets_dir = {_s(SECRETS_DIR)}",
        "",
        "[site]",
        'name = "fixmap demo"',
        f"service = {_s(SERVICE_NAME)}",
        "",
        f"[services.{SERVICE_NAME}]",
        f"base_url = {_s(base_url)}",
        f"latency_budget_ms = {LATENCY_BUDGET_MS}",
        'timeout = "5s"',
        f"# admin endpoints (/admin/...) take 'Authorization: Bearer <secret {ADMIN_SECRET}>'",
        "",
        *demo_history_toml(),
        "# The pinned lock: what the deployed manifest must say.",
        "[pins]",
        *(f"{k} = {_s(v)}" for k, v in pins.items()),
        "",
        "[probes.health]",
        'kind = "http"',
        'description = "readiness: the service is up and its boot phase is ready"',
        'url = "/readyz"',
        "expect_status = [200]",
        'expect_json = { status = "ready", phase = "ready" }',
        'timeout = "3s"',
        "",
        "[probes.latency]",
        'kind = "latency"',
        f'description = "20 retrieve calls: p95 against the {LATENCY_BUDGET_MS} ms budget"',
        f'url = "/retrieve?q={q}&k=5"',
        "requests = 20",
        "concurrency = 5",
        "warmup_requests = 1",
        "percentile = 95",
        "",
        "[probes.rate_limit]",
        'kind = "rate_limit"',
        'description = "a burst of 15 retrieve calls: share answered 429 against 0.5 %"',
        'url = "/retrieve?q=burst+of+questions&k=3"',
        "requests = 15",
        "concurrency = 5",
        "max_share = 0.005",
        "",
        "[probes.warmup]",
        'kind = "warmup"',
        'description = "first call of each popular query: is the cache warm after the deploy?"',
        'url = "/retrieve?q={query}&k=3"',
        f"queries = {_list(corpus.POPULAR_QUERIES)}",
        'cache_path = "cache"',
        "max_miss_share = 0.25",
        "",
        "[probes.index]",
        'kind = "index"',
        'description = "live index hash and doc/chunk counts against the manifest"',
        'manifest_url = "/manifest"',
        'live_url = "/index/stats"',
        "",
        "[probes.stability]",
        'kind = "stability"',
        'description = "gold question + 3 paraphrases: ΔS, anchor coverage, λ on 2 seeds"',
        'url = "/retrieve?q={query}&k={k}&seed={seed}"',
        f"question = {_s(corpus.GOLD_QUESTION)}",
        f"paraphrases = {_list(corpus.GOLD_PARAPHRASES)}",
        f"expected_anchors = {_list(corpus.anchors_of(corpus.GOLD_SECTION))}",
        "k = 5",
        "seeds = [1, 2]",
        "",
        "[probes.idempotency]",
        'kind = "idempotency"',
        'description = "3 keys × 3 concurrent replays: exactly one side effect per key"',
        'url = "/write"',
        'counter_url = "/effects?key={key}"',
        'counter_path = "effects"',
        "keys = 3",
        "replays = 3",
        "",
        "[probes.pins]",
        'kind = "pins"',
        'description = "deployed model / prompt / embedder / index against the [pins] lock"',
        'url = "/manifest"',
        'pins_path = "pins"',
        "",
        "[probes.read_only]",
        'kind = "read_only"',
        'description = "in read-only mode a write is refused with 423/503 + Retry-After"',
        'mode_url = "/readyz"',
        'mode_path = "mode"',
        'url = "/write"',
        "",
    ]
    text = "\n".join(lines)
    actions = demo_actions_toml(base_url)
    if actions:
        text += "\n" + actions.rstrip() + "\n"
    return text


def write_site_config(folder: Path, base_url: str, pins: dict[str, str] | None = None) -> Path:
    """Write fixmap.toml for the demo into `folder`; returns its path."""
    path = folder / CONFIG_NAME
    atomic_write(path, site_config_toml(base_url, pins))
    return path
