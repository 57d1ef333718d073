"""The site: one validated fixmap.toml and what it describes — services, probes, actions,
metric-history sources, gate thresholds, pins and secrets by name.

`load_config()` finds and reads the file (light: no pydantic until a field is validated);
the `Site` it returns is what every other package is handed. The pydantic models of each
table (`*_spec`, `models`) load on first use.
"""

from console.core.lazy import lazy_names
from console.site import names
from console.site.config import NO_CONFIG_HINT, Site, load_config, parse_config, use_data_dir_of

__getattr__ = lazy_names(
    __name__,
    {
        # the whole file
        "SiteConfig": "models",
        "SiteInfo": "models",
        "Service": "models",
        "EmbeddingsSpec": "models",
        # [actions.NAME]
        "ActionSpec": "action_spec",
        "ParamSpec": "action_spec",
        "HttpSpec": "action_spec",
        "StateSpec": "action_spec",
        "ACTION_KINDS": "action_spec",
        "NEVER_BLOCKED_BY_FREEZE": "action_spec",
        "SHIPS_CHANGE_BY_DEFAULT": "action_spec",
        "FREEZE_KINDS": "action_spec",
        "READ_ONLY_KINDS": "action_spec",
        "SAFE_VALUE": "action_spec",
        # [probes.NAME]
        "PROBE_KINDS": "probe_spec",
        "AnyProbe": "probe_kinds",
        "ProbeBase": "probe_spec",
        "JsonCheck": "probe_spec",
        "Request": "probe_spec",
        "selector": "probe_spec",
        "HttpProbe": "probe_spec",
        "LatencyProbe": "probe_kinds",
        "RateLimitProbe": "probe_kinds",
        "WarmupProbe": "probe_kinds",
        "IndexProbe": "probe_kinds",
        "StabilityProbe": "probe_kinds",
        "IdempotencyProbe": "probe_kinds",
        "PinsProbe": "probe_kinds",
        "ReadOnlyProbe": "probe_kinds",
        "CommandProbe": "probe_kinds",
        # [history]
        "HistorySpec": "history_spec",
        "PrometheusSource": "history_spec",
        "FileSource": "history_spec",
        "ScrapeSource": "history_spec",
        "ScrapeMetric": "history_spec",
        "SamplingSpec": "history_spec",
        # [gates.SET.TARGET]
        "GateTarget": "gate_spec",
        # the built-in gate sets (plain data: no pydantic)
        "BUILTIN_SETS": "gate_sets",
        "TARGET_DEFAULTS": "gate_sets",
        "builtin_target": "gate_sets",
    },
)

__all__ = ["NO_CONFIG_HINT", "Site", "load_config", "names", "parse_config", "use_data_dir_of"]
