"""A text as router features: the weighted words, concepts and glued compounds it carries.

One function, `analyse`, turns a playbook unit (at build time) or a query (per keystroke) into
``{"w:<stem>": weight, "c:<CONCEPT>": weight}``. The weights are the router's knobs for what a
word is worth: a stopword nothing, a GENERIC word a little, a word already explained by a
multi-word lexicon phrase half, a concept twice a word, and more when several words evoke it. A query can also be corrected for typos
and can record which surface words produced each feature, for the router's `why`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from console.routing.lexicon import COMPOUNDS, GENERIC, STOPWORDS
from console.routing.text import common_stems, compiled_lexicon, expand, raw_tokens, stem

CONCEPT_WEIGHT = 2.0
"""A concept feature's weight relative to a word feature (before IDF)."""
CONCEPT_MORE = 0.5
"""A concept said in more words weighs more: x (1 + CONCEPT_MORE ln n) for the n words that
evoke it ("third time ... bit us ... CI catches it" is more regression-test than one "test")."""
GENERIC_WEIGHT = 0.35
"""Weight of a GENERIC word: it is said in every incident, so it says little about which."""
IN_PHRASE_WEIGHT = 0.5
"""Weight of a word already explained by a multi-word lexicon phrase ("helm" in "helm rollback")."""


_TOKEN_INFO: dict[str, tuple[str, float]] = {}


def _token_info(tok: str) -> tuple[str, float]:
    """(stem, base weight): 0 for a stopword, GENERIC_WEIGHT for everyday words, else 1."""
    hit = _TOKEN_INFO.get(tok)
    if hit is None:
        st = stem(tok)
        if tok in STOPWORDS or st in STOPWORDS or len(st) < 2:
            base = 0.0
        elif tok in GENERIC or st in common_stems():
            base = GENERIC_WEIGHT
        else:
            base = 1.0
        hit = (st, base)
        if len(_TOKEN_INFO) < 50_000:
            _TOKEN_INFO[tok] = hit
    return hit


@dataclass
class Analysed:
    """A text as features: feature -> weight, and feature -> the surface words behind it."""

    feats: dict[str, float]
    surfaces: dict[str, set[str]]
    words: list[str]
    raw: list[str]
    fixes: list[str]
    """Typo corrections made, shown as "rollbakc\u2192rollback"."""
    said: dict[str, float]
    """The word features of the words actually written (not expansions, not concepts), with
    their base weight: what an alert "found whole" in a text is checked against."""


def analyse(
    text: str, correct: Any = None, known: Any = None, track: bool = True, glue: Any = None
) -> Analysed:
    """Features of one text; `track` also records which surface words produced each feature.

    `correct` fixes typos token by token, `known(token)` says whether the playbooks use a
    token, `glue(word)` whether two adjacent tokens written together make a known word.
    """
    raw = raw_tokens(text)
    shown = None
    if correct is not None:
        fixed = [correct(t) for t in raw]
        if fixed != raw:
            shown = [f"{o}\u2192{f}" if o != f else o for o, f in zip(raw, fixed, strict=True)]
        raw = fixed
    triples = expand(raw, known, shown)
    n_expanded = len(triples)
    # glue split compounds ("roll back" -> "rollback", "re-sends" -> "resends")
    if len(raw) > 1:
        lex_words = compiled_lexicon().surface_words
        for i, (a, b) in enumerate(pairwise(raw)):
            ab = a + b
            if ab in COMPOUNDS or ab in lex_words or (glue is not None and glue(ab)):
                triples.append((ab, f"{a} {b}", 1.0, i))
    infos = [_token_info(t) for t, _, _, _ in triples]
    where: dict[str, list[int]] = {}
    for (st, _), (_, _, _, pos) in zip(infos, triples, strict=True):
        where.setdefault(st, []).append(pos)
    concepts, in_phrase = compiled_lexicon().match(where)
    feats: dict[str, float] = {}
    feat_surf: dict[str, set[str]] = {}
    stem_surf: dict[str, set[str]] = {}
    words: list[str] = []
    said: dict[str, float] = {}
    for k, ((tok, surf, w, pos), (st, base)) in enumerate(zip(triples, infos, strict=True)):
        if track:
            stem_surf.setdefault(st, set()).add(surf)
        if not base:
            continue
        if k >= n_expanded or tok == raw[pos]:  # written, not an abbreviation's expansion
            said["w:" + st] = base
        w *= base
        if st in in_phrase:
            w *= IN_PHRASE_WEIGHT
        f = "w:" + st
        feats[f] = feats.get(f, 0.0) + w
        if track:
            feat_surf.setdefault(f, set()).add(surf)
        words.append(st)
    for concept, sts in concepts.items():
        f = "c:" + concept
        feats[f] = (
            CONCEPT_WEIGHT * (1.0 + CONCEPT_MORE * math.log(len(sts))) if sts else CONCEPT_WEIGHT
        )
        if track:
            feat_surf[f] = {x for st in sts for x in stem_surf.get(st, ())}
    fixes = [x for x in shown if "\u2192" in x] if shown else []
    return Analysed(feats, feat_surf, words, raw, fixes, said)
