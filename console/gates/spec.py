"""Gate sets as a run sees them: the built-in sets with the site's overrides, then its own sets.

A built-in target (console/site/gate_sets.py) is its defaults, then the set's own fields, then
the fields a site's `[gates.SET.TARGET]` table gives; a table naming no built-in target is a new
target, and a table of a set that is not built in makes a new set. Two rules keep an override
meaning what the engineer wrote:

- a target that changes its source (probe, query or sql) keeps nothing of the old one;
- a ΔS target the site gives its own numbers is judged by them, whatever embedder measured ΔS
  (the built-in embedder's own bands apply only to the shipped numbers).

`TargetSpec.overridden` lists the fields the site set, so `fixmap gate --list` can show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from console.core import ConfigError, FixmapError, Problem, closest
from console.site import BUILTIN_SETS, NO_CONFIG_HINT, TARGET_DEFAULTS

if TYPE_CHECKING:
    from console.site import GateTarget

DEFAULT_SET = "readiness"
"""The set `fixmap gate` and the console's gate screen run when none is named."""

_SOURCES = ("probe", "query", "sql", "promql")


class GateError(FixmapError):
    """A gate set that does not exist, or a site with nothing to gate."""


@dataclass(frozen=True)
class TargetSpec:
    """One target of a gate set, with the site's overrides applied."""

    name: str
    label: str
    what: str
    """The short noun used in reasons ('p95', 'ΔS', 'error rate')."""
    measure: str
    pass_: str
    fail: str | None
    probe: str | None = None
    query: str | None = None
    sql: str | None = None
    promql: str | None = None
    prometheus: str | None = None
    """The site's Prometheus source a promql target asks (None: the only one)."""
    params: dict[str, Any] = field(default_factory=dict)
    unit: str = ""
    samples: str = "one"
    count_measure: str | None = None
    min_samples: int = 1
    on_empty: str = "inconclusive"
    failure_limit: int = 0
    inconclusive_limit: int = 0
    error_limit: int = 0
    interval: float | None = None
    """Watched runs: seconds between measurements (None: the sampling interval, else 30 s)."""
    count: int = 1
    consecutive_error_limit: int = 4
    max_age: float | None = None
    """Seconds the newest data point may be old (None: the site's default)."""
    bands: str = "fixed"
    enabled: bool = True
    dry_run: bool = False
    note: str = ""
    overridden: tuple[str, ...] = ()
    """The fields the site config set (empty for a built-in target left as shipped)."""
    builtin: bool = True

    @property
    def source_kind(self) -> str:
        if self.promql:
            return "promql"
        return "probe" if self.probe else "query" if self.query else "sql"

    @property
    def source(self) -> str:
        """Where the value comes from, in words: 'probe latency', 'history error_rates(window=10m)'."""
        if self.probe:
            return f"probe {self.probe}"
        if self.promql:
            return f"prometheus{' ' + self.prometheus if self.prometheus else ''} {self.promql}"
        if self.query:
            shown = ", ".join(f"{k}={v}" for k, v in self.params.items())
            return f"history {self.query}({shown})"
        return "history SQL"

    @property
    def threshold(self) -> str:
        text = self.pass_
        if self.fail:
            text += f"; fail {self.fail}"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "source": self.source,
            "measure": self.measure,
            "pass": self.pass_,
            "fail": self.fail,
            "unit": self.unit,
            "samples": self.samples,
            "min_samples": self.min_samples,
            "on_empty": self.on_empty,
            "failure_limit": self.failure_limit,
            "inconclusive_limit": self.inconclusive_limit,
            "error_limit": self.error_limit,
            "interval": self.interval,
            "count": self.count,
            "consecutive_error_limit": self.consecutive_error_limit,
            "max_age": self.max_age,
            "bands": self.bands,
            "enabled": self.enabled,
            "dry_run": self.dry_run,
            "overridden": list(self.overridden),
            "note": self.note,
        }


@dataclass(frozen=True)
class GateSetSpec:
    """A gate set: its targets in the order they are shown."""

    name: str
    title: str
    description: str
    targets: tuple[TargetSpec, ...]
    builtin: bool = True
    after_change: bool = False
    """Judge history windows since the last change fixmap made (console.gates.after)."""

    def target(self, name: str) -> TargetSpec:
        for t in self.targets:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def enabled(self) -> list[TargetSpec]:
        return [t for t in self.targets if t.enabled]

    @property
    def probes(self) -> list[str]:
        """The probe names the enabled targets read (before resolving them in a site config)."""
        out: list[str] = []
        for t in self.enabled:
            if t.probe and t.probe not in out:
                out.append(t.probe)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "builtin": self.builtin,
            "after_change": self.after_change,
            "targets": [t.to_json() for t in self.targets],
        }


def _target(name: str, base: dict[str, Any], override: GateTarget | None) -> TargetSpec:
    """A target from its built-in fields (empty for a new one) and the site's table."""
    data = {**TARGET_DEFAULTS, **base}
    overridden: tuple[str, ...] = ()
    if override is not None:
        given = override.given()
        overridden = tuple(given)
        params = {**(data.get("params") or {}), **(given.pop("params", None) or {})}
        if data.get("bands") == "embedder" and ("pass" in given or "fail" in given):
            # a number the site wrote down is meant as written, whatever embedder measured ΔS
            given.setdefault("bands", "fixed")
        data.update(given)
        data["params"] = params
        # a target that changes its source keeps nothing of the old one
        for src in _SOURCES:
            if src in given:
                for other in _SOURCES:
                    if other != src and other not in given:
                        data.pop(other, None)
                if src != "query" and "params" not in overridden:
                    data["params"] = {}
    return TargetSpec(
        name=name,
        label=data.get("label") or name.replace("_", " "),
        what=data.get("what") or name.replace("_", " "),
        measure=data.get("measure") or ("value" if data.get("promql") else ""),
        pass_=data["pass"],
        fail=data.get("fail"),
        probe=data.get("probe"),
        query=data.get("query"),
        sql=data.get("sql"),
        promql=data.get("promql"),
        prometheus=data.get("prometheus"),
        params=dict(data.get("params") or {}),
        unit=data.get("unit") or "",
        samples=data.get("samples") or "one",
        count_measure=data.get("count_measure"),
        min_samples=int(data.get("min_samples", 1)),
        on_empty=data.get("on_empty") or "inconclusive",
        failure_limit=int(data.get("failure_limit", 0)),
        inconclusive_limit=int(data.get("inconclusive_limit", 0)),
        error_limit=int(data.get("error_limit", 0)),
        interval=data.get("interval"),
        count=int(data.get("count") or 1),
        consecutive_error_limit=int(data.get("consecutive_error_limit", 4)),
        max_age=data.get("max_age"),
        bands=data.get("bands") or "fixed",
        enabled=bool(data.get("enabled", True)),
        dry_run=bool(data.get("dry_run", False)),
        note=data.get("note") or "",
        overridden=overridden,
        builtin=bool(base),
    )


def _site_gates(site: Any) -> dict[str, dict[str, GateTarget]]:
    if site is None or site.path is None:
        return {}
    return dict(site.config.gates)


def gate_sets(site: Any = None) -> dict[str, GateSetSpec]:
    """The built-in gate sets with the site's overrides, then the site's own sets."""
    site_gates = _site_gates(site)
    out: dict[str, GateSetSpec] = {}
    for set_name, spec in BUILTIN_SETS.items():
        overrides = site_gates.get(set_name, {})
        targets = [
            _target(name, base, overrides.get(name)) for name, base in spec["targets"].items()
        ]
        targets += [
            _target(name, {}, target)
            for name, target in overrides.items()
            if name not in spec["targets"]
        ]
        out[set_name] = GateSetSpec(
            set_name,
            spec["title"],
            spec["description"],
            tuple(targets),
            after_change=spec.get("after_change", False),
        )
    for set_name, targets in site_gates.items():
        if set_name in BUILTIN_SETS:
            continue
        out[set_name] = GateSetSpec(
            set_name,
            f"{set_name.replace('_', ' ')} (site gate set)",
            f"The site's own gate set '{set_name}' from {site.path}",
            tuple(_target(name, {}, t) for name, t in targets.items()),
            builtin=False,
        )
    return out


def require_site(site: Any) -> None:
    """ConfigError (exit 2) when there is no site config to take probes and history from."""
    if site is None or site.path is None:
        raise ConfigError(
            "no site config: a gate needs the site's probes and metric history",
            [Problem(None, None, "no fixmap.toml found", None, NO_CONFIG_HINT)],
        )


def get_set(site: Any, name: str) -> GateSetSpec:
    """The set named `name`; GateError with the closest name when there is none."""
    sets = gate_sets(site)
    spec = sets.get(name)
    if spec is None:
        guess = closest(name, sets)
        hint = f"did you mean '{guess}'?" if guess else "sets: " + ", ".join(sets)
        raise GateError(f"no gate set named '{name}' ({hint})")
    return spec
