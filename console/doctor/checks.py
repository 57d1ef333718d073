"""`fixmap doctor`: a site config against the live site and the playbooks.

Checks, in order: every service answers; every probe runs (an error is a finding: it could not
measure) and reports the measures the gate sets and playbook gates read; every action's program
is on PATH or its endpoint answers a dry check (OPTIONS, no credentials, nothing changed), its
secrets resolve and its state endpoint answers; every playbook step's probe, query, action (with
its parameters and their values) and gate set is configured; the history holds the metrics the
history gates read. Each finding says what to add, as TOML to paste where it can.

A probe that runs and *fails* is the site's problem, not the config's: it is noted, not a finding.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.doctor import stubs
from console.doctor.needs import (
    ALWAYS_THERE,
    action_uses,
    measure_uses,
    target_metrics,
)

if TYPE_CHECKING:
    from console.site import Site


@dataclass
class Finding:
    """Something the site config lacks or gets wrong, and what to do."""

    area: str
    """services | probes | actions | secrets | playbooks | gates | history"""
    subject: str
    problem: str
    toml: str = ""
    """TOML to paste into the config ('' when the fix is not a table to add)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "subject": self.subject,
            "problem": self.problem,
            "toml": self.toml,
        }


@dataclass
class Report:
    """What doctor checked and found."""

    config: str
    checked: list[tuple[str, str, str]] = field(default_factory=list)
    """(area, subject, what was seen) for each check that held."""
    notes: list[tuple[str, str, str]] = field(default_factory=list)
    """(area, subject, text): worth knowing, not a config problem (a probe that fails)."""
    findings: list[Finding] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.findings

    def ok(self, area: str, subject: str, text: str) -> None:
        self.checked.append((area, subject, text))

    def add(self, finding: Finding) -> None:
        if all(
            (f.area, f.subject, f.problem) != (finding.area, finding.subject, finding.problem)
            for f in self.findings
        ):
            self.findings.append(finding)

    def toml(self) -> str:
        """Every suggested table once, in the order found."""
        blocks: list[str] = []
        for f in self.findings:
            if f.toml and f.toml not in blocks:
                blocks.append(f.toml)
        return "\n\n".join(blocks)

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "healthy": self.healthy,
            "findings": [f.to_json() for f in self.findings],
            "checked": [{"area": a, "subject": s, "seen": t} for a, s, t in self.checked],
            "notes": [{"area": a, "subject": s, "note": t} for a, s, t in self.notes],
            "toml": self.toml(),
        }


def diagnose(site: Site, *, live: bool = True) -> Report:
    """Check the site config against the live site (when `live`) and the playbooks."""
    from console.gates import gate_sets
    from console.playbooks import load_catalog

    report = Report(str(site.path) if site.path else "<no config>")
    catalog = load_catalog(site.playbook_dirs)
    for problem in catalog.problems:
        report.add(Finding("playbooks", problem.file or "playbooks", problem.render()))
    sets = gate_sets(site)
    results = {}
    if live:
        _services(site, report)
        results = _probes(site, report)
        _actions(site, report)
    _measures(site, report, catalog, sets, results, live)
    _steps(site, report, catalog)
    _history(site, report, sets)
    return report


# ------------------------------------------------------------------ services


def _services(site: Site, report: Report) -> None:
    from console.core.http import RequestAbandoned, bounded_http, ssl_context

    for name, svc in site.config.services.items():
        try:
            verify = ssl_context((str(site.resolve(svc.ca_file)),) if svc.ca_file else ())
            resp = bounded_http(
                lambda c, url=svc.base_url: c.get(url), timeout=svc.timeout, verify=verify
            )
        except RequestAbandoned as exc:
            report.add(Finding("services", name, f"{svc.base_url} did not answer: {exc}"))
            continue
        except Exception as exc:  # httpx's connection errors, DNS, TLS
            report.add(
                Finding(
                    "services",
                    name,
                    f"{svc.base_url} is not reachable ({type(exc).__name__}: {_first(exc)}): "
                    "check base_url, and that fixmap runs where the service can be reached",
                )
            )
            continue
        report.ok("services", name, f"{svc.base_url} answered HTTP {resp.status_code}")


def _first(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]


# ------------------------------------------------------------------ probes


def _probes(site: Site, report: Report) -> dict[str, Any]:
    from console.probes import run_probes_sync

    if not site.config.probes:
        return {}
    results = {r.name: r for r in run_probes_sync(site, record=False)}
    for name, r in results.items():
        if r.status == "error":
            report.add(Finding("probes", name, f"could not measure: {r.reason}"))
        elif r.status == "pass":
            report.ok("probes", name, f"{r.kind}: pass — {r.reason}")
        else:
            report.ok("probes", name, f"{r.kind}: runs and measures")
            report.notes.append(("probes", name, f"{r.status}: {r.reason}"))
    return results


def _measures(
    site: Site, report: Report, catalog: Any, sets: dict[str, Any], results: dict, live: bool
) -> None:
    """Every measure a gate reads is reported by the probe it reads it from."""
    from console.gates import resolve_probe
    from console.probes import measures

    probes = site.config.probes
    for use in measure_uses(catalog, sets):
        name = use.probe if use.probe in probes else None
        if name is None:
            try:
                name = resolve_probe(site, _Named(use.probe))
            except Exception:
                report.add(
                    Finding(
                        "probes",
                        use.probe,
                        f"not configured; {use.by} reads its {use.measure}",
                        stubs.probe_toml(use.probe),
                    )
                )
                continue
        if use.measure in ALWAYS_THERE:
            continue
        kind = probes[name].kind
        declared = measures(kind)
        r = results.get(name)
        if use.measure not in declared and kind != "http":
            if use.playbook:
                continue  # a finding of playbook_findings (the step can never pass here)
            problem = f"a {kind} probe never reports {use.measure}, which {use.by} reads"
        elif live and r is not None and r.status != "error" and use.measure not in r.values:
            problem = f"reported no {use.measure} this run ({r.status}), which {use.by} reads"
        else:
            continue
        if use.playbook:
            # it is declared but did not come this run (a fail that stopped early, say):
            # worth knowing, not a config problem; such a step is inconclusive, never a pass
            report.notes.append(("playbooks", name, f"{problem}: that step cannot pass this way"))
        else:
            report.add(
                Finding(
                    "gates",
                    name,
                    f"{problem} (it reports: {', '.join(declared)}): set measure, or probe = "
                    "another probe, or enabled = false in that [gates.SET.TARGET]",
                )
            )


@dataclass(frozen=True)
class _Named:
    """The one field resolve_probe reads of a gate target."""

    probe: str
    name: str = "doctor"


# ------------------------------------------------------------------ actions


def _actions(site: Site, report: Report) -> None:
    from console.core import SecretError
    from console.core.secrets import resolve

    for name, spec in site.config.actions.items():
        for secret in spec.secret_names() + _state_secrets(spec):
            try:
                resolve(secret)
            except SecretError as exc:
                report.add(Finding("secrets", f"actions.{name}", str(exc)))
        if spec.argv:
            _program(site, report, name, spec.argv[0])
        elif spec.http:
            _dry_check(site, report, name, spec)
        if spec.state is not None:
            _state(site, report, name, spec)


def _state_secrets(spec: Any) -> list[str]:
    from console.core.templates import names_in

    if spec.state is None:
        return []
    return names_in([spec.state.url, *spec.state.headers.values()], "secret")


def _program(site: Site, report: Report, name: str, program: str) -> None:
    if os.sep in program:
        path = site.resolve(Path(program))
        found = str(path) if path.is_file() and os.access(path, os.X_OK) else None
    else:
        found = shutil.which(program)
    if found:
        report.ok("actions", name, f"{program} is {found}")
    else:
        report.add(
            Finding(
                "actions",
                name,
                f"program {program!r} is not on PATH here ({os.environ.get('PATH', '')[:80]}…): "
                "install it, or give its full path in argv[0]",
            )
        )


def _base_url(site: Site, spec: Any) -> str:
    svc = site.config.services.get(spec.service or site.config.default_service() or "")
    return svc.base_url if svc is not None else ""


def _fill(spec: Any, text: str) -> str:
    """A URL template with each parameter at its default (or first enum value), secrets left out."""
    from console.core.templates import render_text, url_quote

    values = {}
    for p, ps in spec.params.items():
        values[p] = ps.default if ps.default is not None else (ps.enum or ["x"])[0]
    return render_text(text, values, {n: "" for n in spec.secret_names()}, encode=url_quote)


def _dry_check(site: Site, report: Report, name: str, spec: Any) -> None:
    from console.core.http import bounded_http

    url = _fill(spec, spec.http.url)
    if not url.startswith(("http://", "https://")):
        base = _base_url(site, spec)
        if not base:
            report.add(Finding("actions", name, f"relative url {spec.http.url!r} but no service"))
            return
        url = base.rstrip("/") + "/" + url.lstrip("/")
    try:
        resp = bounded_http(lambda c: c.request("OPTIONS", url), timeout=min(spec.timeout, 5.0))
    except Exception as exc:
        report.add(Finding("actions", name, f"{url} does not answer a dry check: {_first(exc)}"))
        return
    if resp.status_code == 404:
        report.add(Finding("actions", name, f"{url} answered 404 to a dry check: check the url"))
        return
    report.ok("actions", name, f"{spec.http.method} {url}: answers (OPTIONS → {resp.status_code})")


def _state(site: Site, report: Report, name: str, spec: Any) -> None:
    from console.core import lookup
    from console.core.http import bounded_http
    from console.core.secrets import resolve
    from console.core.templates import render_text

    st = spec.state
    try:
        secrets = {n: resolve(n) for n in _state_secrets(spec)}
        url = render_text(st.url, {}, secrets)
        if not url.startswith(("http://", "https://")):
            url = _base_url(site, spec).rstrip("/") + "/" + url.lstrip("/")
        headers = {k: render_text(v, {}, secrets) for k, v in st.headers.items()}
        resp = bounded_http(lambda c: c.get(url, headers=headers), timeout=st.timeout)
        if resp.status_code // 100 != 2:
            raise ValueError(f"answered {resp.status_code}")
        value = lookup(resp.json(), st.path)
    except Exception as exc:
        report.add(
            Finding("actions", f"{name}.state", f"the state endpoint cannot be read: {_first(exc)}")
        )
        return
    report.ok("actions", f"{name}.state", f"{st.path} = {value!r}")


# ------------------------------------------------------------------ playbooks


def _steps(site: Site, report: Report, catalog: Any) -> None:
    for finding in playbook_findings(site, [(pb, None) for pb in catalog], action_uses(catalog)):
        report.add(finding)


def playbook_findings(
    site: Site, playbooks: Any, uses: dict[str, Any] | None = None
) -> list[Finding]:
    """What each step of these playbooks (pairs of a playbook and its file, or None) needs that
    the site lacks: its probe, query, action, the action's parameters and the values the step
    passes, its gate set (console.walkthrough.missing: the rule the walkthrough applies), and a
    probe step's gate reading a measure that site's probe never reports. Each with the TOML to
    add where there is a table to add. `uses`: the parameters every playbook passes to each
    action, so a suggested action table takes them all (default: these playbooks')."""
    from console.walkthrough import missing

    pairs = list(playbooks)
    uses = uses if uses is not None else action_uses(pb for pb, _file in pairs)
    out: list[Finding] = []
    for pb, _file in pairs:
        for step in pb.steps:
            where = f"{pb.id}/{step.id}"
            need = missing(site, step)
            if need is not None:
                subject = f"{need.what}s.{need.name}" if need.name else need.what
                out.append(
                    Finding(
                        "playbooks",
                        subject,
                        f"{where}: {need.text}",
                        missing_toml(site, need, uses),
                    )
                )
                continue
            unread = _unreported_measure(site, pb, step)
            if unread:
                out.append(Finding("playbooks", f"probes.{step.probe}", f"{where}: {unread}"))
    return out


def missing_toml(site: Site, need: Any, uses: dict[str, Any] | None = None) -> str:
    """The TOML that gives the site what a step needs (console.walkthrough.Missing); '' when
    the fix is not a table to add (an unknown query, a value the action refuses)."""
    use = (uses or {}).get(need.name) or _no_use()
    if need.what == "probe":
        return stubs.probe_toml(need.name)
    wanted = {**{p: [] for p in need.params}, **use.params}
    if need.what == "action":
        return stubs.action_toml(need.name, wanted)
    if need.what == "param":
        known = site.config.actions[need.name].params
        return stubs.params_toml(need.name, {p: v for p, v in wanted.items() if p not in known})
    return ""


def _unreported_measure(site: Site, pb: Any, step: Any) -> str | None:
    """Why a probe step's gate cannot be judged on this site's probe (None: it can)."""
    from console.core import conditions
    from console.probes import measures

    if step.kind != "probe" or not step.gate:
        return None
    spec = site.config.probes.get(step.probe or "")
    if spec is None or spec.kind == "http":  # an http probe reports what its checks read
        return None
    gate = pb.gate(step.gate)
    declared = measures(spec.kind)
    wanted = [gate.measure]
    for text in (gate.pass_, gate.fail):
        ref = conditions.parse(text).ref if text else None
        if ref:
            wanted.append(ref)
    unknown = [m for m in wanted if m not in declared and m not in ALWAYS_THERE]
    if not unknown:
        return None
    return (
        f"gate {gate.id} reads {', '.join(unknown)}, which probe '{step.probe}' (kind "
        f"{spec.kind}) never reports (it reports: {', '.join(declared)}, verdict, value): the "
        "step can never pass here"
    )


def _no_use() -> Any:
    from console.doctor.needs import ActionUse

    return ActionUse()


# ------------------------------------------------------------------ history


def _history(site: Site, report: Report, sets: dict[str, Any]) -> None:
    """The history holds every metric the history gates read."""
    wanted: dict[str, list[str]] = {}
    for gs in sets.values():
        for t in gs.enabled:
            for metric in target_metrics(t):
                wanted.setdefault(metric, []).append(f"{gs.name}.{t.name}")
    if not wanted:
        return
    have = _metrics_in_history(site, report)
    if have is None:
        return
    for metric, by in wanted.items():
        if metric in have:
            report.ok("history", metric, f"{have[metric]} samples (read by {', '.join(by)})")
        else:
            report.add(
                Finding(
                    "history",
                    metric,
                    f"no samples of {metric} in the history, which {', '.join(by)} read: "
                    "ingest it (fixmap history ingest, [history.sources]) under that name",
                )
            )


def _metrics_in_history(site: Site, report: Report) -> dict[str, int] | None:
    from console.history import HistoryError, default_db_path, history_for

    path = default_db_path(site)
    if not path.exists():
        report.add(
            Finding(
                "history",
                str(path),
                "no metric history yet: the canary, hard_stop and recovery gates have nothing to "
                "judge; add [history.sources] and run fixmap history ingest",
            )
        )
        return None
    try:
        result = history_for(site).sql("SELECT metric, count(*) AS n FROM samples GROUP BY metric")
    except HistoryError as exc:
        report.add(Finding("history", str(path), f"cannot be read: {exc.render()}"))
        return None
    return {str(row[0]): int(row[1]) for row in result.rows}
