"""The site config (fixmap.toml): services, probes, actions, history, playbook folders.

Validated by pydantic. A bad file is reported with the file, the field path, the line where it
can be found, the reason and the closest valid name for a typo; nothing starts half-configured.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from console.action_spec import ActionSpec
from console.errors import ConfigError, Problem
from console.history_spec import HistorySpec
from console.paths import find_config
from console.probe_spec import ProbeSpec
from console.validation import problems_from

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """'250ms', '30s', '5m', '24h', '7d' or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '30s' or '5m'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    raise ValueError(f"'{value}' is not a duration (use e.g. '250ms', '30s', '5m', '24h')")


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds; written in the config as '250ms', '30s', '5m', '24h' or a plain number of seconds."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteInfo(_Model):
    name: str = "site"
    """How this site is called on screen and in exports."""
    service: str | None = None
    """The default service (a key of [services]) for probes, queries and actions."""


class Service(_Model):
    """One service the console watches."""

    base_url: str = Field(pattern=r"^https?://")
    """Root URL of the service, e.g. http://127.0.0.1:8080."""
    latency_budget_ms: float = Field(default=1200.0, gt=0)
    """The P95 latency budget."""
    timeout: Duration = 5.0
    """Default timeout for a request to this service."""


class EmbeddingsSpec(_Model):
    """An OpenAI-compatible embeddings endpoint for ΔS (optional; default: built-in embedder)."""

    url: str = Field(pattern=r"^https?://")
    model: str
    api_key_secret: str | None = None
    """Name of the secret holding the API key (never the key itself)."""
    timeout: Duration = 10.0


class SiteConfig(_Model):
    """A whole fixmap.toml."""

    site: SiteInfo = Field(default_factory=SiteInfo)
    services: dict[str, Service] = Field(default_factory=dict)
    playbook_dirs: list[Path] = Field(default_factory=list)
    """Folders of the team's own playbooks (same schema as the bundled ones)."""
    data_dir: Path | None = None
    """Where fixmap keeps history, journal and incidents; FIXMAP_HOME wins over this."""
    history: HistorySpec = Field(default_factory=HistorySpec)
    embeddings: EmbeddingsSpec | None = None
    probes: dict[str, ProbeSpec] = Field(default_factory=dict)
    actions: dict[str, ActionSpec] = Field(default_factory=dict)
    pins: dict[str, str] = Field(default_factory=dict)
    """The pinned lock: version name -> expected value (model, prompt, embedder, index...)."""
    max_in_flight: int = Field(default=50, ge=1, le=1000)
    """How many probe requests may be in flight at once."""

    @model_validator(mode="after")
    def _default_service(self) -> SiteConfig:
        if self.site.service and self.site.service not in self.services:
            known = ", ".join(self.services) or "none defined"
            raise ValueError(f"site.service '{self.site.service}' is not in [services] ({known})")
        return self

    def default_service(self) -> str | None:
        if self.site.service:
            return self.site.service
        return next(iter(self.services), None)


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and where it came from (path None: no config, offline playbooks only)."""

    config: SiteConfig
    path: Path | None
    found_by: str

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, p: Path) -> Path:
        p = p.expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def playbook_dirs(self) -> list[Path]:
        return [self.resolve(p) for p in self.config.playbook_dirs]


def _toml_line_lookup(text: str):
    """Best-effort line of a field path in a TOML file (tomllib keeps no positions)."""
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    keyline = re.compile(r"^\s*([A-Za-z0-9_.\"'-]+)\s*=")
    entries: list[tuple[tuple[str, ...], int]] = []
    table: tuple[str, ...] = ()
    for n, raw in enumerate(lines, start=1):
        m = header.match(raw)
        if m:
            table = tuple(part.strip().strip("\"'") for part in m.group(1).split("."))
            entries.append((table, n))
            continue
        k = keyline.match(raw)
        if k:
            key = tuple(part.strip().strip("\"'") for part in k.group(1).split("."))
            entries.append((table + key, n))

    def line_of(loc: tuple[Any, ...]) -> int | None:
        want = tuple(str(p) for p in loc if not isinstance(p, int))
        best, best_len = None, -1
        for path, n in entries:
            if len(path) > best_len and want[: len(path)] == path:
                best, best_len = n, len(path)
        return best

    return line_of


def parse_config(text: str, file: str) -> SiteConfig:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            f"{file} is not valid TOML",
            [
                Problem(
                    file,
                    None,
                    str(exc),
                    int(m.group(1)) if m else None,
                    "fix the syntax at that line",
                )
            ],
        ) from None
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        problems = problems_from(exc, file, SiteConfig, _toml_line_lookup(text))
        raise ConfigError(f"{file} is not a valid fixmap config", problems) from None


def load_config(explicit: str | Path | None = None) -> LoadedConfig:
    """Find and validate the site config; with none anywhere, an empty (offline) config."""
    path, found_by = find_config(explicit)
    if path is None:
        return LoadedConfig(SiteConfig(), None, found_by)
    if not path.is_file():
        raise ConfigError(
            f"config file not found: {path} (from {found_by})",
            [
                Problem(
                    str(path),
                    None,
                    "no such file",
                    None,
                    "check the path, or run 'fixmap demo' to try fixmap on a simulated service",
                )
            ],
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read config {path}", [Problem(str(path), None, str(exc))]
        ) from None
    return LoadedConfig(parse_config(text, str(path)), path.resolve(), found_by)


NO_CONFIG_HINT = (
    "No site config: playbooks work offline. Give one with --config PATH (or $FIXMAP_CONFIG, "
    "./fixmap.toml), or try it all on a simulated service: fixmap demo"
)
