"""Text and evidence as one ranking of the fix routes, each with its reasons.

Which route addresses which evidence is data, in each playbook's `evidence` field (probe kinds
or names, gate targets, metrics, each with a weight): `evidence_map` reads it from the
catalogue. A route's evidence score is the noisy-or of (finding strength x route weight) over
the findings that point at it; its score is the text router's score plus EVIDENCE_WEIGHT times
that, so a probe failing now outranks a vague sentence, and words still order what evidence
leaves tied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from console.routing import Ranking, rank_text, suggestions

if TYPE_CHECKING:  # the ranking needs no sweep (the console's first one imports none)
    from console.triage.evidence import Evidence, Finding

EVIDENCE_WEIGHT = 0.6
"""What a route's evidence score (0..1) adds to its text score (0..1)."""
_SOURCE_FIELD = {"probe": "probes", "change": "metrics", "gate": "gates"}


@dataclass(frozen=True)
class TriageRoute:
    """One ranked route: its scores and the reasons, evidence first."""

    id: str
    title: str
    score: float
    text_score: float
    evidence_score: float
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "score": round(self.score, 4),
            "text_score": round(self.text_score, 4),
            "evidence_score": round(self.evidence_score, 4),
            "reasons": self.reasons,
        }


@dataclass
class Triage:
    """The answer to "what is wrong?": the evidence, the ranked routes, or what to try."""

    query: str
    evidence: Evidence | None
    routes: list[TriageRoute] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    """When nothing matched: symptoms to try."""
    pointers: dict[str, list[str]] = field(default_factory=dict)
    """Finding text -> the short titles of the routes that address it, best first."""

    @property
    def matched(self) -> bool:
        return bool(self.routes)

    @property
    def evidence_routes(self) -> list[TriageRoute]:
        """The routes the evidence alone points at, strongest first."""
        return sorted(
            (r for r in self.routes if r.evidence_score > 0), key=lambda r: -r.evidence_score
        )

    def nothing_text(self) -> str:
        tries = ", ".join(f'"{s}"' for s in self.suggestions[:3])
        return "no route matches" + (f" \u2014 try {tries}" if tries else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "matched": self.matched,
            "evidence": None if self.evidence is None else self.evidence.to_json(),
            "pointers": self.pointers,
            "routes": [r.to_json() for r in self.routes],
            "suggestions": self.suggestions,
        }


def evidence_map(catalog: Any) -> dict[tuple[str, str], list[tuple[str, float]]]:
    """(field, name) -> [(playbook id, weight)], heaviest first, from every playbook's `evidence`."""
    out: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for pb in catalog:
        ev = pb.evidence
        for fld in ("probes", "gates", "metrics"):
            for name, w in getattr(ev, fld).items():
                out.setdefault((fld, name), []).append((pb.id, float(w)))
    for routes in out.values():
        routes.sort(key=lambda x: (-x[1], x[0]))
    return out


def routes_for(finding: Finding, emap: dict[tuple[str, str], list[tuple[str, float]]]):
    """The routes addressing one finding, heaviest first: by the probe's name, else its kind."""
    fld = _SOURCE_FIELD[finding.source]
    weights: dict[str, float] = {}
    for name in dict.fromkeys((finding.name, finding.kind)):
        for pid, w in emap.get((fld, name), ()):
            weights[pid] = max(weights.get(pid, 0.0), w)
    return sorted(weights.items(), key=lambda x: (-x[1], x[0]))


def short_title(title: str) -> str:
    """'Vector index build and swap: build off-path, …' -> 'Vector index build and swap'."""
    for sep in (":", " \u2014 ", " - "):
        if sep in title:
            return title.split(sep, 1)[0].strip()
    return title


def triage(
    router: Any,
    catalog: Any,
    query: str = "",
    evidence: Evidence | None = None,
    top: int = 8,
) -> Triage:
    """Rank the routes for what was typed and what the evidence shows. Before the catalogue is
    parsed (None) the words rank alone, titled by the router; evidence needs the catalogue."""
    text: Ranking = rank_text(router, query, top=len(router.ids)) if query.strip() else Ranking("")
    if catalog is None:
        titles = dict(zip(router.ids, router.titles, strict=True))
        emap: dict[tuple[str, str], list[tuple[str, float]]] = {}
    else:
        titles = {pb.id: pb.title for pb in catalog}
        emap = evidence_map(catalog)
    findings = [f for f in (evidence.findings if evidence else []) if f.strength > 0]
    keep_off: dict[str, float] = {}
    reasons: dict[str, list[str]] = {}
    pointers: dict[str, list[str]] = {}
    for f in findings:
        routes = routes_for(f, emap)
        pointers[f.text] = [short_title(titles.get(pid, pid)) for pid, _ in routes[:3]]
        for pid, w in routes:
            keep_off[pid] = keep_off.get(pid, 1.0) * (1.0 - f.strength * w)
            reasons.setdefault(pid, []).append(f.text)
    ev_score = {pid: 1.0 - left for pid, left in keep_off.items()}
    text_score = {r.id: r.score for r in text.results}
    text_why = {r.id: r.why for r in text.results}
    ranked = []
    for pid in dict.fromkeys([*text_score, *ev_score]):
        if pid not in titles:
            continue
        t, e = text_score.get(pid, 0.0), ev_score.get(pid, 0.0)
        why = list(reasons.get(pid, []))
        if pid in text_why:
            why.append(text_why[pid])
        ranked.append(TriageRoute(pid, titles[pid], t + EVIDENCE_WEIGHT * e, t, e, why))
    ranked.sort(key=lambda r: (-r.score, -r.evidence_score, r.id))
    if query.strip() and not text.matched:
        # words that match nothing are an answer of their own: nothing is ranked for them (the
        # evidence keeps its own pointers), and the closest symptoms are offered instead
        return Triage(query, evidence, [], text.suggestions, pointers)
    out = Triage(query, evidence, ranked[:top], pointers=pointers)
    if not out.routes:
        out.suggestions = suggestions(router, query) if query.strip() else []
    return out
