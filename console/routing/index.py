"""Building the router's index from the playbooks: each playbook's units (title, summary,
symptoms, keywords, alerts, id) analysed into features, the TF-IDF matrices per unit and per
playbook, character trigrams per playbook, and the written-words matrix of its alerts
(console/routing/alerts.py). Router.from_playbooks calls it; the cache (cache.py) keeps its
result so most processes never build it."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from console.routing.alerts import said_matrix
from console.routing.examples import Bank
from console.routing.features import Analysed, analyse
from console.routing.lexicon import STOPWORDS
from console.routing.text import trigrams
from console.routing.tfidf import floats, smoothed_idf, tfidf_matrix

if TYPE_CHECKING:
    from console.playbooks import Playbook


def build_index(
    playbooks: Iterable[Playbook], examples: dict[str, list[str]] | None = None
) -> tuple[Any, ...]:
    """The Router's constructor arguments for these playbooks, in its order; `examples` is the
    bank by playbook id (None: the bundled one)."""
    pbs = list(playbooks)
    if examples is None:
        from console.core.paths import bundled_dir
        from console.routing.examples import load_examples

        examples, _ = load_examples([bundled_dir()])
    ids = [p.id for p in pbs]
    titles = [p.title for p in pbs]
    unit_text: list[str] = []
    unit_kind: list[str] = []
    unit_pb: list[int] = []
    analysed: list[Analysed] = []
    doc_feats: list[dict[str, float]] = []
    doc_words: list[list[str]] = []
    alert_df: dict[str, int] = {}
    alert_words: set[str] = set()
    for i, p in enumerate(pbs):
        units = [(p.title, "title"), (p.summary, "summary")]
        units += [(s, "symptom") for s in p.symptoms]
        units += [(k, "keyword") for k in p.keywords]
        units += [(x, "alert") for x in p.alerts]
        units += [(p.id.replace("_", " "), "id")]
        merged: dict[str, float] = {}
        words: list[str] = []
        in_alerts: set[str] = set()
        for text, kind in units:
            a = analyse(text, track=False)
            if not a.feats:
                continue
            unit_text.append(text)
            unit_kind.append(kind)
            unit_pb.append(i)
            analysed.append(a)
            if kind == "alert":
                # alerts are units only: they stay out of the playbook's vector, its
                # document frequencies and its character trigrams
                in_alerts.update(a.feats)
                alert_words.update(a.raw)
                continue
            for f, v in a.feats.items():
                merged[f] = merged.get(f, 0.0) + v
            words.extend(a.raw)
        for f in in_alerts:
            alert_df[f] = alert_df.get(f, 0) + 1
        doc_feats.append(merged)
        doc_words.append(words)

    n = max(len(pbs), 1)
    df: dict[str, int] = {}
    for d in doc_feats:
        for f in d:
            df[f] = df.get(f, 0) + 1
    for f, k in alert_df.items():  # a feature only alerts carry: its frequency among them
        df.setdefault(f, k)
    features = sorted(df)
    fidx = {f: j for j, f in enumerate(features)}
    idf = floats([smoothed_idf(df[f], n) for f in features]).tolist()

    unit_mat = tfidf_matrix([a.feats for a in analysed], fidx, idf)
    doc_mat = tfidf_matrix(doc_feats, fidx, idf)

    # character trigrams per distinct word, per playbook
    gdf: Counter[str] = Counter()
    doc_grams: list[dict[str, float]] = []
    word_grams: dict[str, list[str]] = {}
    for words in doc_words:
        g: Counter[str] = Counter()
        for w in set(words):
            if len(w) < 3 or w in STOPWORDS:
                continue
            grams_of = word_grams.get(w)
            if grams_of is None:
                grams_of = word_grams[w] = trigrams(w)
            g.update(grams_of)
        doc_grams.append(g)
        gdf.update(g.keys())
    grams = sorted(gdf)
    gidx = {t: j for j, t in enumerate(grams)}
    gram_idf = floats([math.log((n + 1) / gdf[t]) for t in grams]).tolist()
    char_mat = tfidf_matrix(doc_grams, gidx, gram_idf)

    known = sorted({w for words in [*doc_words, alert_words] for w in words if w.isalpha()})
    said_mat = said_matrix(analysed, unit_kind, fidx, idf)
    # the bank: each playbook's own units and its examples, as on-call says them
    bank = Bank.build(
        [
            [p.title, p.summary, *p.symptoms, *p.keywords, *p.alerts, *examples.get(p.id, [])]
            for p in pbs
        ]
    )
    return (
        ids,
        titles,
        unit_text,
        unit_kind,
        unit_pb,
        features,
        idf,
        unit_mat,
        doc_mat,
        grams,
        gram_idf,
        char_mat,
        known,
        said_mat,
        bank,
    )
