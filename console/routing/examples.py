"""The example bank: what on-call really pastes for each route, and the route centroid it makes.

Each playbook folder may hold ``examples/<playbook_id>.yaml``, a YAML list of texts that should
open that playbook: alerts with their labels, exceptions, proxy lines, tool output, tickets, chat
(the bundled bank is playbooks/examples/). A team adds its own next to its playbooks, in the
same form, and the router learns them on its next build.

The bank is read as one more feature space beside the playbooks' own: every example (and every
unit of the playbook: title, summary, symptoms, keywords, alerts) is analysed like a query —
words, lexicon concepts and, here, adjacent word pairs ("red black", "two invoices") —, weighted
by an IDF over all the examples, L2-normalised, and summed per playbook. A query's cosine with
each playbook's centroid is what the bank says; the router mixes it with its lexical score
(router.py, W_BANK). A centroid learns the words a route is *said* with, vendor names and
error classes included, that no hand-written lexicon lists.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.core.paths import example_files
from console.routing.features import Analysed, analyse
from console.routing.tfidf import Columns, floats, plain, sublinear_tf

PAIR_WEIGHT = 0.5
"""An adjacent word pair's weight relative to a word (before IDF)."""
MIN_PAIR_DF = 2
"""A word pair counts only when at least this many texts of the bank say it."""
MAX_EXAMPLE_CHARS = 4000
"""A longer example is cut: the bank is phrasing, not documents."""


@dataclass(frozen=True)
class ExampleProblem:
    """A bank file that could not be read (the rest of the bank still is)."""

    file: str
    message: str

    def text(self) -> str:
        return f"{self.file}: {self.message}"


def load_examples(
    folders: Iterable[Path],
) -> tuple[dict[str, list[str]], list[ExampleProblem]]:
    """Every folder's bank, by playbook id (a file's stem), and the files that could not be read."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    bank: dict[str, list[str]] = {}
    problems: list[ExampleProblem] = []
    for folder in folders:
        for path in example_files(folder):
            try:
                data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                where = getattr(exc, "problem_mark", None)
                line = f" at line {where.line + 1}" if where is not None else ""
                why = getattr(exc, "problem", None) or str(exc).splitlines()[0]
                problems.append(
                    ExampleProblem(
                        str(path), f"not readable YAML{line}: {why}; fix it (the rest still loads)"
                    )
                )
                continue
            if data is None:
                continue
            if not isinstance(data, list):
                problems.append(
                    ExampleProblem(str(path), 'must be a YAML list of texts (- "…"), one per line')
                )
                continue
            texts = bank.setdefault(path.stem, [])
            for k, item in enumerate(data, 1):
                if isinstance(item, str) and item.strip():
                    texts.append(item[:MAX_EXAMPLE_CHARS])
                else:
                    problems.append(ExampleProblem(str(path), f"item {k} is not a text; skipped"))
    return bank, problems


def bank_features(a: Analysed) -> dict[str, float]:
    """A text's features in the bank's space: its router features plus adjacent word pairs."""
    feats = dict(a.feats)
    for x, y in zip(a.words, a.words[1:], strict=False):
        if x != y:
            f = f"p:{x}_{y}"
            feats[f] = feats.get(f, 0.0) + PAIR_WEIGHT
    return feats


W_NEAREST = 0.25
"""How much of the bank's similarity is the nearest single example's (the rest is the centroid's):
the centroid generalises over many texts, the nearest example lets a few team examples of one
vendor's alert decide even in a large bank."""


class Bank:
    """The playbooks' centroids over their examples, and a query's cosine with each."""

    __slots__ = ("ex_mat", "ex_pb", "features", "fidx", "idf", "mat")

    def __init__(
        self, features: list[str], idf: list[float], mat: Columns, ex_mat: Columns, ex_pb: Any
    ) -> None:
        self.features = features
        self.fidx = {f: j for j, f in enumerate(features)}
        self.idf = idf if isinstance(idf, array) else array("f", plain(idf))
        self.mat = mat
        self.ex_mat = ex_mat
        self.ex_pb = ex_pb

    @classmethod
    def build(cls, texts_by_pb: list[list[str]]) -> Bank:
        """The centroids of these texts, one list per playbook (in the router's order)."""
        items: list[tuple[int, dict[str, float]]] = []
        for i, texts in enumerate(texts_by_pb):
            for text in texts:
                feats = bank_features(analyse(text, track=False))
                if feats:
                    items.append((i, feats))
        df: dict[str, int] = {}
        for _, feats in items:
            for f in feats:
                df[f] = df.get(f, 0) + 1
        n = len(items)
        # a word pair said once in the whole bank is noise, not phrasing: dropped (3/4 of the
        # features, a quarter of the state to read on the first route); words are all kept
        features = sorted(f for f, k in df.items() if k >= MIN_PAIR_DF or not f.startswith("p:"))
        fidx = {f: j for j, f in enumerate(features)}
        idf = floats([math.log((1 + n) / (1 + df[f])) + 1.0 for f in features])
        sums: list[dict[int, float]] = [{} for _ in texts_by_pb]
        vectors: list[dict[int, float]] = []
        for i, feats in items:
            vec = _unit_vector(feats, fidx, idf)
            vectors.append(vec)
            row = sums[i]
            for j, w in vec.items():
                row[j] = row.get(j, 0.0) + w
        for row in sums:
            norm = math.sqrt(sum(w * w for w in row.values())) or 1.0
            for j in row:
                row[j] /= norm
        mat = Columns.from_rows(len(features), sums)
        ex_mat = Columns.from_rows(len(features), vectors)
        return cls(features, idf, mat, ex_mat, array("i", [i for i, _ in items]))

    def similarity(self, a: Analysed) -> tuple[list[float], dict[int, float]]:
        """Per playbook, the query's similarity with its bank (centroid and nearest example);
        and the query's vector."""
        n = self.mat.shape[0]
        q = _unit_vector(bank_features(a), self.fidx, self.idf)
        if not q:
            return [0.0] * n, q
        nearest = [0.0] * n
        for k, sim in enumerate(self.ex_mat.dot(q)):
            i = self.ex_pb[k]
            if sim > nearest[i]:
                nearest[i] = sim
        centroid = self.mat.dot(q)
        return [
            (1 - W_NEAREST) * c + W_NEAREST * e for c, e in zip(centroid, nearest, strict=True)
        ], q

    def contributions(self, pb: int, q: dict[int, float]) -> list[tuple[str, float]]:
        """The query features that drew it to this playbook, most first (for `why`)."""
        out = [(self.features[j], self.mat.get(pb, j) * w) for j, w in q.items()]
        return sorted(((f, v) for f, v in out if v > 0), key=lambda x: (-x[1], x[0]))

    def to_state(self) -> dict[str, Any]:
        return {
            "bank_features": list(self.features),
            "bank_idf": array("f", self.idf),
            **self.mat.coords("bank_mat"),
            **self.ex_mat.coords("bank_ex"),
            "bank_ex_pb": array("i", self.ex_pb),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Bank:
        return cls(
            [str(x) for x in plain(state["bank_features"])],
            plain(state["bank_idf"]),
            Columns.from_coords("bank_mat", dict(state)),
            Columns.from_coords("bank_ex", dict(state)),
            _ints(state["bank_ex_pb"]),
        )


def _ints(value: Any) -> array:
    return value if isinstance(value, array) else array("i", plain(value))


def _unit_vector(feats: dict[str, float], fidx: dict[str, int], idf: Any) -> dict[int, float]:
    vec: dict[int, float] = {}
    for f, v in feats.items():
        j = fidx.get(f)
        if j is not None:
            vec[j] = sublinear_tf(v) * idf[j]
    norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
    return {j: w / norm for j, w in vec.items()}
