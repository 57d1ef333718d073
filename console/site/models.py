"""The site config's pydantic models (imported lazily: start-up does not pay for pydantic)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from console.site.action_spec import ActionSpec
from console.site.fields import Duration
from console.site.gate_spec import GatesSpec
from console.site.history_spec import HistorySpec
from console.site.probe_kinds import ProbeSpec


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteInfo(_Model):
    """Who the site is."""

    name: str = "site"
    """How this site is called on screen and in exports."""
    service: str | None = None
    """The default service (a key of [services]) for probes, queries and actions."""
    freeze_unknown: Literal["allow", "refuse"] = "allow"
    """When the freeze state cannot be read live and nothing is recorded here: 'refuse' treats
    it as a freeze for actions that ship change (break glass still works)."""
    key_ttl: Annotated[Duration, Field(gt=0, le=30 * 86400)] = 1800.0
    """How long a derived idempotency key covers a completed action (default 30m): later, the
    same action gets a new key. Also how far back a plan looks for the failing probes and gate
    targets it is meant to fix."""


class Service(_Model):
    """One service the console watches."""

    base_url: str = Field(pattern=r"^https?://")
    """Root URL of the service, e.g. http://127.0.0.1:8080."""
    latency_budget_ms: float = Field(default=1200.0, gt=0)
    """The P95 latency budget."""
    timeout: Annotated[Duration, Field(gt=0, le=3600)] = 5.0
    """Default timeout for one probe request to this service (more than 0, at most an hour)."""
    max_in_flight: int = Field(default=4, ge=1, le=1000)
    """How many probe requests fixmap has open to this service at once, all probes of a run
    together. Conservative: a small server's accept backlog (Python's default is 5) overflows
    under a burst, and a dropped connection costs a 1 s SYN retry, which reads as latency.
    Raise it for a service behind a load balancer."""
    ca_file: Path | None = None
    """PEM file of the CA that signed the service's TLS certificate (a private CA), trusted on
    top of the system's; relative to the config file."""


class EmbeddingsSpec(_Model):
    """An OpenAI-compatible embeddings endpoint for ΔS (optional; default: built-in embedder)."""

    url: str = Field(pattern=r"^https?://")
    """The endpoint, e.g. https://api.openai.com/v1/embeddings."""
    model: str
    """The embedding model to ask for."""
    api_key_secret: str | None = None
    """Name of the secret holding the API key (never the key itself)."""
    timeout: Duration = 10.0
    """The most one embeddings request may take."""


class SiteConfig(_Model):
    """A whole fixmap.toml."""

    site: SiteInfo = Field(default_factory=SiteInfo)
    """[site]: its name and default service."""
    services: dict[str, Service] = Field(default_factory=dict)
    """[services.NAME]: the services probes and actions talk to."""
    playbook_dirs: list[Path] = Field(default_factory=list)
    """Folders of the team's own playbooks (same schema as the bundled ones)."""
    data_dir: Path | None = None
    """Where fixmap keeps history, journal and incidents; FIXMAP_HOME wins over this."""
    history: HistorySpec = Field(default_factory=HistorySpec)
    """[history]: the metric-history file and its sources."""
    embeddings: EmbeddingsSpec | None = None
    """[embeddings]: an embeddings endpoint for ΔS (default: the built-in embedder)."""
    probes: dict[str, ProbeSpec] = Field(default_factory=dict)
    """[probes.NAME]: live probes, each of one kind (see Probe kinds)."""
    actions: dict[str, ActionSpec] = Field(default_factory=dict)
    """[actions.NAME]: state changes, each an argv template or an HTTP request."""
    pins: dict[str, str] = Field(default_factory=dict)
    """The pinned lock: version name -> expected value (model, prompt, embedder, index...)."""
    max_in_flight: int = Field(default=50, ge=1, le=1000)
    """How many probe requests may be in flight at once over all services (each service also
    has its own max_in_flight)."""
    secrets_dir: Path | None = None
    """A folder of one file per secret, named after the secret (the Kubernetes / Docker /
    systemd-credentials convention), read after the keyring and $FIXMAP_SECRET_<NAME>;
    relative to the config file. $CREDENTIALS_DIRECTORY is read after it. Files readable by
    everyone are refused."""
    gates: GatesSpec = Field(default_factory=dict)
    """[gates.SET.TARGET]: site thresholds for the gate sets' targets, and the site's own targets."""

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
