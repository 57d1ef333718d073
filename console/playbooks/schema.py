"""Playbooks: the fix routes, as validated data files (one YAML file per route)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from console.core import PlaybookError, Problem, closest, conditions
from console.core.paths import bundled_dir, playbook_files
from console.core.validation import problems_from

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
STEP_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
StepKind = Literal["read", "probe", "query", "action", "check", "route", "gate"]
STEP_KINDS: tuple[str, ...] = ("read", "probe", "query", "action", "check", "route", "gate")
GATE_SETS: tuple[str, ...] = ("readiness", "canary", "hard_stop", "recovery")

# Which optional fields belong to which step kind; anything else on a step is an error.
_KIND_FIELDS: dict[str, set[str]] = {
    "read": set(),
    "probe": {"probe", "gate"},
    "query": {"query", "sql", "params", "gate"},
    "action": {"action", "params"},
    "check": {"gate"},
    "route": {"to", "when"},
    "gate": {"gate_set"},
}
_OPTIONAL_FIELDS = {"probe", "query", "sql", "params", "gate", "action", "to", "when", "gate_set"}


def _is_playbook_id(text: str) -> bool:
    import re

    return re.match(ID_PATTERN, text) is not None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Gate(_Strict):
    """An acceptance target a step can be judged against."""

    id: str = Field(pattern=ID_PATTERN)
    """Stable id within the playbook; steps refer to it with `gate:`."""
    label: str = Field(min_length=3)
    """What is measured, as an engineer would say it: 'ΔS(question, retrieved) per paraphrase'."""
    measure: str = Field(pattern=ID_PATTERN)
    """Canonical measure name the engine computes (delta_s, coverage, p95_ms, ...)."""
    pass_: str = Field(alias="pass")
    """Condition that passes, e.g. '<= 0.45', or '<= $budget_ms': a threshold the same result
    reports (the latency probe's budget_ms)."""
    fail: str | None = None
    """Condition that fails outright (hard stop); between pass and fail is inconclusive."""
    unit: str = ""
    note: str = ""
    on_fail: str | None = Field(default=None, pattern=STEP_ID_PATTERN)
    """What addresses this gate's failure: a step of this playbook (the mitigation: 'rollback')
    or another playbook's id. After a red verdict the walkthrough offers it as the next step."""

    @field_validator("pass_", "fail")
    @classmethod
    def _condition(cls, v: str | None) -> str | None:
        if v is not None:
            conditions.parse(v)
        return v


class Step(_Strict):
    """One step of a walkthrough."""

    id: str = Field(pattern=STEP_ID_PATTERN)
    """Stable id within the playbook; progress is saved under it."""
    kind: StepKind
    title: str = Field(min_length=3)
    body: str = ""
    """Markdown guidance: what to look at, which number means what, what to do next."""
    probe: str | None = None
    """probe steps: the site probe to run (e.g. 'index', 'latency', 'stability')."""
    query: str | None = None
    """query steps: a named history query (e.g. 'latency_percentiles')."""
    sql: str | None = None
    """query steps: ad-hoc SQL over metric history instead of a named query."""
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """query/action steps: parameters passed to the query or the action."""
    gate: str | None = None
    """probe/query/check steps: id of the playbook gate the result is judged against."""
    action: str | None = None
    """action steps: the site action to run (rollback, freeze, read_only, flag, ...)."""
    to: str | None = None
    """route steps: the playbook to go to."""
    when: str | None = None
    """route steps: when to take this route, in words."""
    gate_set: Literal["readiness", "canary", "hard_stop", "recovery"] | None = None
    """gate steps: the gate set to run (go / no-go on the seed's acceptance targets)."""

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Step:
        allowed = _KIND_FIELDS[self.kind]
        for name in _OPTIONAL_FIELDS - allowed:
            value = getattr(self, name)
            if value not in (None, {}):
                raise ValueError(f"'{name}' does not belong on a {self.kind} step")
        if self.kind == "read" and not self.body.strip():
            raise ValueError("a read step needs a body (the guidance to show)")
        if self.kind == "probe" and not self.probe:
            raise ValueError("a probe step needs 'probe' (the probe to run)")
        if self.kind == "query" and bool(self.query) == bool(self.sql):
            raise ValueError("a query step needs exactly one of 'query' (named) or 'sql'")
        if self.kind == "action" and not self.action:
            raise ValueError("an action step needs 'action' (the site action to run)")
        if self.kind == "route" and not self.to:
            raise ValueError("a route step needs 'to' (the playbook to open)")
        if self.kind == "gate" and not self.gate_set:
            raise ValueError(
                "a gate step needs 'gate_set' (readiness, canary, hard_stop or recovery)"
            )
        return self


EVIDENCE_KINDS: tuple[str, ...] = ("probes", "gates", "metrics")


class Evidence(_Strict):
    """What live evidence this route addresses: a failing probe of a kind, a gate target that
    is no-go, a metric that left its baseline. Each maps to a weight in (0, 1]: how squarely
    this route is the fix for it (1 = the route for it; 0.5 = one of the routes to consider).
    A list is shorthand for weight 1 each."""

    probes: dict[str, float] = Field(default_factory=dict)
    """Probe kinds (index, latency, rate_limit, idempotency, pins, stability, warmup, health,
    read_only, ...) whose failure this route addresses."""
    gates: dict[str, float] = Field(default_factory=dict)
    """Gate target measures (index_mismatches, rate_429, p95_uplift, ...) that this route fixes
    when they are no-go."""
    metrics: dict[str, float] = Field(default_factory=dict)
    """History metrics (latency_ms, rate_429, error_rate, cache_hit_ratio, ...) whose change
    this route addresses."""

    @field_validator("probes", "gates", "metrics", mode="before")
    @classmethod
    def _list_is_weight_one(cls, v: Any) -> Any:
        if isinstance(v, list):
            return dict.fromkeys(v, 1.0)
        return v

    @field_validator("probes", "gates", "metrics")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        for name, w in v.items():
            if not 0 < w <= 1:
                raise ValueError(f"weight of '{name}' is {w}; give a weight in (0, 1]")
        return v

    def weight(self, kind: str, name: str) -> float:
        """This route's weight for one piece of evidence ("probes", "index"); 0 when none."""
        return float(getattr(self, kind, {}).get(name, 0.0))


class Playbook(_Strict):
    """A fix route: what it answers, how to tell, what to do."""

    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=3, max_length=80)
    summary: str = Field(min_length=10, max_length=200)
    """One line: what this route fixes."""
    symptoms: list[str] = Field(min_length=3)
    """Phrases an engineer would type when this route is the answer."""
    keywords: list[str] = Field(default_factory=list)
    """Extra terms and abbreviations that point here (429, p95, alias, ...)."""
    alerts: list[str] = Field(default_factory=list)
    """Alert names and pasted error strings that lead here, as they appear: an Alertmanager
    or Kubernetes alert (KubePodCrashLooping), an SDK exception (openai.RateLimitError), a proxy
    or tool message ("upstream connect error or disconnect/reset before headers")."""
    evidence: Evidence = Field(default_factory=Evidence)
    """The live evidence (probe kinds, gate targets, metrics) this route addresses."""
    related: list[str] = Field(default_factory=list)
    gates: list[Gate] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1)
    source: str = ""
    """Where the facts come from (the seed page)."""

    @model_validator(mode="after")
    def _references(self) -> Playbook:
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"step id '{step.id}' is used twice")
            seen.add(step.id)
        gate_ids = {g.id for g in self.gates}
        if len(gate_ids) != len(self.gates):
            raise ValueError("gate ids must be unique")
        for step in self.steps:
            if step.gate and step.gate not in gate_ids:
                guess = closest(step.gate, gate_ids)
                hint = f" (did you mean '{guess}'?)" if guess else ""
                raise ValueError(f"step '{step.id}' refers to unknown gate '{step.gate}'{hint}")
        for gate in self.gates:
            if gate.on_fail and gate.on_fail not in seen and not _is_playbook_id(gate.on_fail):
                guess = closest(gate.on_fail, seen)
                hint = f" (did you mean '{guess}'?)" if guess else ""
                raise ValueError(
                    f"gate '{gate.id}': on_fail '{gate.on_fail}' is neither a step of this "
                    f"playbook nor a playbook id{hint}"
                )
        return self

    def on_fail_step(self, gate: Gate) -> Step | None:
        """The step of this playbook that addresses the gate's failure (None: none, or another
        playbook's id: see on_fail_route)."""
        return next((s for s in self.steps if s.id == gate.on_fail), None)

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def gate(self, gate_id: str) -> Gate:
        for g in self.gates:
            if g.id == gate_id:
                return g
        raise KeyError(gate_id)


# ---------------------------------------------------------------- loading


def _yaml_loader() -> type:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _line_lookup(root: Any):
    """A function from a field path to the 1-based line of that node in the YAML file."""
    import yaml

    def line_of(loc: tuple[Any, ...]) -> int | None:
        node = root
        line = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if key.value == str(part):
                        line = key.start_mark.line + 1
                        node = value
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    return line
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    return line_of


def parse_playbook(text: str, file: str) -> Playbook:
    """Parse and validate one playbook's YAML text; raise PlaybookError naming file, field, line."""
    import yaml

    try:
        loader = _yaml_loader()(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = str(getattr(exc, "problem", None) or exc)
        raise PlaybookError(
            f"{file} is not valid YAML",
            [Problem(file, None, reason, line, "fix the syntax at that line")],
        ) from None
    if not isinstance(data, dict):
        raise PlaybookError(
            f"{file} is not a playbook",
            [Problem(file, None, "expected a mapping with id, title, summary, symptoms, steps", 1)],
        )
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        problems = problems_from(exc, file, Playbook, _line_lookup(root))
        raise PlaybookError(f"{file} is not a valid playbook", problems) from None


MAX_PLAYBOOK_BYTES = 1 << 20
"""A playbook file may be at most 1 MiB (the bundled ones are under 10 KB): a bigger one would
take seconds and hundreds of MB to load, at every start."""


def load_playbook_file(path: Path) -> Playbook:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_PLAYBOOK_BYTES + 1)  # bounded, even for a FIFO or /dev/zero
        if len(data) > MAX_PLAYBOOK_BYTES:
            raise PlaybookError(
                f"{path} is too big to be a playbook",
                [
                    Problem(
                        str(path),
                        None,
                        f"more than {MAX_PLAYBOOK_BYTES // (1 << 20)} MiB "
                        f"({_size_text(path)}); playbooks are read at every start",
                        None,
                        "split it into several playbooks, or link long guidance instead of "
                        "pasting it",
                    )
                ],
            )
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError(f"cannot read {path}", [Problem(str(path), None, str(exc))]) from None
    playbook = parse_playbook(text, str(path))
    if playbook.id != path.stem:
        raise PlaybookError(
            f"{path} is not a valid playbook",
            [
                Problem(
                    str(path),
                    "id",
                    f"id '{playbook.id}' does not match the file name",
                    1,
                    f"rename the file to {playbook.id}.yaml or set id: {path.stem}",
                )
            ],
        )
    return playbook


def _size_text(path: Path) -> str:
    try:
        return f"{path.stat().st_size / (1 << 20):.1f} MiB"
    except OSError:
        return "size unknown"


@dataclass
class Catalog:
    """Every playbook that site, and the problems of those that did not."""

    playbooks: dict[str, Playbook] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    origin: dict[str, Path] = field(default_factory=dict)

    def __contains__(self, pid: str) -> bool:
        return pid in self.playbooks

    def __getitem__(self, pid: str) -> Playbook:
        return self.playbooks[pid]

    def __iter__(self):
        return iter(self.playbooks.values())

    def __len__(self) -> int:
        return len(self.playbooks)

    def get(self, pid: str) -> Playbook | None:
        return self.playbooks.get(pid)

    def require(self, pid: str) -> Playbook:
        if pid in self.playbooks:
            return self.playbooks[pid]
        guess = closest(pid, self.playbooks) or next(
            (known for known in self.playbooks if pid and pid.lower() in known), None
        )
        hint = f"did you mean '{guess}'?" if guess else "run 'fixmap playbooks list'"
        raise PlaybookError(f"no playbook with id '{pid}' ({hint})")


def load_catalog(extra_dirs: Iterable[Path] = (), include_bundled: bool = True) -> Catalog:
    """Load the bundled playbooks, then each team folder; a broken file never stops the rest."""
    catalog = Catalog()
    folders = ([bundled_dir()] if include_bundled else []) + [Path(d) for d in extra_dirs]
    for folder in folders:
        if not folder.is_dir():
            catalog.problems.append(
                Problem(
                    str(folder),
                    None,
                    "playbook folder does not exist",
                    None,
                    "fix 'playbook_dirs' in the site config",
                )
            )
            continue
        for path in playbook_files(folder):
            try:
                pb = load_playbook_file(path)
            except PlaybookError as exc:
                catalog.problems.extend(exc.problems or [Problem(str(path), None, exc.message)])
                continue
            if pb.id in catalog.playbooks:
                catalog.problems.append(
                    Problem(
                        str(path),
                        "id",
                        f"'{pb.id}' is already defined by {catalog.origin[pb.id]}",
                        1,
                        "a team playbook overrides a bundled one only by a new id",
                    )
                )
                continue
            catalog.playbooks[pb.id] = pb
            catalog.origin[pb.id] = path
    _check_links(catalog)
    return catalog


def _check_links(catalog: Catalog) -> None:
    ids = set(catalog.playbooks)
    for pb in list(catalog):
        catalog.problems.extend(link_problems(pb, str(catalog.origin[pb.id]), ids))


def link_problems(pb: Playbook, path: str, ids: set[str]) -> list[Problem]:
    """Related ids, route targets and on_fail playbooks must name playbooks in `ids`."""
    step_ids = {s.id for s in pb.steps}
    refs = [(f"related[{i}]", rid) for i, rid in enumerate(pb.related)]
    refs += [(f"steps[{i}].to", s.to or "") for i, s in enumerate(pb.steps) if s.kind == "route"]
    refs += [
        (f"gates[{i}].on_fail", g.on_fail)
        for i, g in enumerate(pb.gates)
        if g.on_fail and g.on_fail not in step_ids
    ]
    out = []
    for where, target in refs:
        if target in ids:
            continue
        guess = closest(target, ids)
        out.append(
            Problem(
                path,
                where,
                f"unknown playbook '{target}'",
                None,
                f"did you mean '{guess}'?" if guess else "see 'fixmap playbooks list'",
            )
        )
    return out


def validate_paths(
    paths: Iterable[Path], known: Iterable[str] = ()
) -> tuple[list[Path], list[Problem], list[tuple[Playbook, Path]]]:
    """Validate files (or folders of files): each against the schema, then their links (related,
    route targets, on_fail playbooks) against the playbooks validated here and `known` ids.
    Returns the files checked, every problem found, and the playbooks that loaded."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(playbook_files(p))
        else:
            files.append(p)
    problems: list[Problem] = []
    loaded: list[tuple[Playbook, Path]] = []
    for f in files:
        if not f.exists():
            problems.append(Problem(str(f), None, "no such file"))
            continue
        try:
            loaded.append((load_playbook_file(f), f))
        except PlaybookError as exc:
            problems.extend(exc.problems or [Problem(str(f), None, exc.message)])
    ids = {pb.id for pb, _f in loaded} | set(known)
    for pb, f in loaded:
        problems.extend(link_problems(pb, str(f), ids))
    return files, problems, loaded
