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
            "set a feature flag or kill switch (ships change: refused during a freeze)",
            "flag",
            destructive=False,
            extra=[
                'params.name = { type = "str", enum = ["rerank", "answer_cache", "canary", '
                '"shadow_mirror"], default = "canary", description = "the flag" }',
                'params.value = { type = "bool", default = true, '
                'description = "on (true) or off (false)" }',
                "# the parameters the bundled playbooks pass: the flag by another name, the",
                "# canary's traffic split (the demo records them; a real flag service uses them)",
                'params.flag = { type = "str", default = "", regex = "^[a-z_]{0,40}$", '
                'description = "the flag, as the shadow-mirroring playbook names it" }',
                'params.canary_weight = { type = "str", default = "", '
                'regex = "^$|^(0|1)([.][0-9]{1,3})?$", description = "share of traffic on the canary" }',
                'params.baseline_weight = { type = "str", default = "", '
                'regex = "^$|^(0|1)([.][0-9]{1,3})?$", description = "share on the baseline" }',
            ],
            body='{ name = "{name}", flag = "{flag}", value = "{value}", '
            'canary_weight = "{canary_weight}", baseline_weight = "{baseline_weight}" }',
        ),
        *admin(
            "index_alias",
            "index_alias",
            "point the live index alias back at the manifest's build "
            "(clears the demo's stale-index)",
            "fault",
            destructive=True,
            extra=[
                "# pointing the alias back undoes a change, so a freeze does not block it",
                "ships_change = false",
                'verify = "index"',
                'params.alias = { type = "str", default = "docs_live", regex = "^[a-z0-9_]{1,40}$", '
                'description = "the index alias" }',
                'params.to = { type = "str", default = "manifest", regex = "^[a-zA-Z0-9_]{1,40}$", '
                'description = "the build the alias points at" }',
            ],
            body='{ name = "stale-index", on = false, alias = "{alias}", to = "{to}" }',
        ),
        *admin(
            "cache_rotate",
            "cache_rotate",
            "bump the cache namespace: no stale entry is served, and the cache starts cold",
            "fault",
            destructive=True,
            body='{ name = "cold-cache", on = true }',
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
        "[history]",
        'db = "history.duckdb"',
        "",
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
