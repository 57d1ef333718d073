"""The symptom router: what the engineer types -> the playbooks ranked, each with a short why.

No model and no download: a sparse TF-IDF over three kinds of features, built from each
playbook's title, summary, symptoms and keywords (console/routing/features.py) and scored in
pure Python over the sparse index (console/routing/tfidf.py): routing never imports numpy.

- **words**: light-stemmed tokens, after abbreviations are expanded (``k8s`` -> kubernetes,
  ``idx`` -> index, ``p95`` -> latency, ``429`` -> rate limit; see ``EXPANSIONS`` in
  console/routing/lexicon.py);
- **concepts**: ids from a hand-written lexicon (``LEXICON``) that maps the many ways an
  engineer says one thing to one feature (stale / old / outdated / previous -> ``STALE``;
  charged twice / double / dupe -> ``DUPLICATE`` ...). This is what lets a paraphrase that
  shares no word with a playbook still land on it;
- **character trigrams** of each word, for the typos and word forms the first two miss.

A query word nobody knows ("rollbakc", "latncy") is first corrected to the closest known word
(trigram overlap, then a Damerau-Levenshtein check; console/routing/text.py). A playbook's score
mixes its best single unit (one symptom, the title, the summary or one keyword) with the whole
playbook, so one sharp symptom match wins, and many weak matches still count.

Scores are in [0, 1]; below ~0.15 nothing really matched. Word order does not matter, except
that two adjacent words may be read as one ("roll back" -> rollback) and that a lexicon phrase
counts only when its words are near each other (console/routing/text.py, PHRASE_WINDOW).

Pasted text (console/routing/paste.py) is read more literally: a typo is corrected only when it
is one slip in a longer word, and an alert or exception string found whole in it adds to its
playbook's score only when the text carries the alert's own written words, not just their
expansions or concepts.

Each playbook's example bank (console/routing/examples.py: what on-call pastes for that route)
is a second feature space: the text's cosine with the route's centroid and with its nearest
example makes W_BANK of the score. It is what carries vendor words and error classes no lexicon
lists (Spinnaker's red/black, HAProxy's <NOSRV>), and a team's own alerts from its own bank.

This module holds the index and the scoring; `to_state` / `from_state` pack it into plain
arrays for the cache in console/routing/cache.py.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.routing.alerts import NAME_WORD, compact
from console.routing.examples import Bank
from console.routing.features import Analysed, analyse
from console.routing.lexicon import COMMON_WORDS, STOPWORDS
from console.routing.paste import looks_pasted
from console.routing.text import (
    Speller,
    common_stems,
    compiled_lexicon,
    stem,
    trigrams,
    typo_distance,
    use_compiled_lexicon,
)
from console.routing.tfidf import Sparse, floats, plain, sublinear_tf

if TYPE_CHECKING:
    from console.playbooks import Playbook

STATE_VERSION = 8
"""Bump when the state's layout or the features change: `from_state` refuses another version.
(The data dir's cache also rebuilds by itself whenever a module of this package changes.)"""

W_UNIT, W_DOC, W_CHAR = 0.40, 0.45, 0.15
"""How a playbook's score mixes its best unit, the whole playbook and character trigrams."""
W_ALERT, ALERT_FROM, ALERT_MIN_FEATURES = 0.35, 0.4, 3
"""What an alert unit found (nearly) whole in the text adds: W_ALERT x ((share - FROM) / (1 -
FROM))^2, where share is how much of the unit's TF-IDF weight the text carries, and of its own
written words; an alert of fewer than ALERT_MIN_FEATURES written words counts only as a name
written whole (TargetDown)."""
# A playbook's `alerts` weigh nothing in its whole-playbook vector (measured on the dev set: any
# share dilutes the symptoms an engineer types). As units they count in full, so a pasted alert
# or exception meets its own line.
W_BANK = 0.9
"""How much of a playbook's score is the example bank's (console/routing/examples.py): the
cosine of the text with the centroid of what on-call pastes for that route."""
MATCHED_AT = 0.45
"""A unit at or above this cosine is quoted in `why` as the matched phrase."""


_STATUS = re.compile(r"[1-5]\d\d|[1-5]xx")
_NAME = re.compile(r"[\w.-]*([a-z][A-Z]|[_.])[\w.-]*(:|\s|$)")
"""An alert or exception name: KubePodCrashLooping, openai.RateLimitError, rate_limit_exceeded."""


@dataclass(frozen=True)
class RouteResult:
    """One ranked playbook: its id and title, a score in [0, 1] and why it was picked."""

    id: str
    title: str
    score: float
    why: str


class Router:
    """Ranks playbooks for a free-text symptom. Build once per catalogue; route per keystroke."""

    def __init__(
        self,
        ids: list[str],
        titles: list[str],
        unit_text: list[str],
        unit_kind: list[str],
        unit_pb: list[int],
        features: list[str],
        idf: list[float],
        unit_mat: Sparse,
        doc_mat: Sparse,
        grams: list[str],
        gram_idf: list[float],
        char_mat: Sparse,
        known: list[str],
        said_mat: Sparse,
        bank: Bank | Callable[[], Bank | None] | None = None,
    ) -> None:
        self.ids = ids
        self.titles = titles
        self.unit_text = unit_text
        self.unit_kind = unit_kind
        self.unit_pb = [int(x) for x in unit_pb]
        self.features = features
        self.fidx = {f: i for i, f in enumerate(features)}
        self.idf = [float(x) for x in idf]
        self.unit_mat = unit_mat
        self.doc_mat = doc_mat
        self.grams = grams
        self.gidx = {g: i for i, g in enumerate(grams)}
        self.gram_idf = [float(x) for x in gram_idf]
        self.char_mat = char_mat
        self.known = known
        self.said_mat = said_mat
        # from the cache, the bank's matrices are built on the first route, not in the first frame
        self._bank = bank
        # compiling the lexicon waits for the first query: the console's first frame does not
        self._known_set: frozenset[str] | None = None
        self._raw_vocab = frozenset(known)
        # the typo speller is built on the first unknown word: most texts have none
        self._speller: Speller | None = None
        self._corrections: dict[tuple[str, bool], str] = {}
        self._units_of: list[list[int]] = [[] for _ in ids]
        for u, pb in enumerate(self.unit_pb):
            self._units_of[pb].append(u)
        # found whole, a one- or two-feature alert ("server_error") says little: generic words
        # cover it; only alerts of ALERT_MIN_FEATURES or more count by coverage
        said_words = said_mat.row_counts()
        self._wordy_alerts = [
            k == "alert" and said_words[u] >= ALERT_MIN_FEATURES for u, k in enumerate(unit_kind)
        ]
        # an alert or exception *name* (TargetDown, server_error) is found whole when it is
        # written as such, whatever its words: by its letters, case and separators aside
        self._names = [
            (j, compact(t))
            for j, t in enumerate(unit_text)
            if unit_kind[j] == "alert" and NAME_WORD.fullmatch(t) and said_words[j] >= 2
        ]
        self._any_alert = "alert" in unit_kind
        # the units `why` may quote: symptoms, alerts and titles (not keywords or summaries)
        self._quotable = [k in ("symptom", "alert", "title") for k in unit_kind]

    @property
    def bank(self) -> Bank | None:
        """The example bank's centroids (console/routing/examples.py), or None without a bank."""
        if callable(self._bank):
            self._bank = self._bank()
        return self._bank

    # ---------------------------------------------------------------- building

    @classmethod
    def from_playbooks(
        cls, playbooks: Iterable[Playbook], examples: dict[str, list[str]] | None = None
    ) -> Router:
        """The index of these playbooks (console/routing/index.py builds it), with their example
        bank: `examples` by playbook id, or (None) the bundled bank."""
        from console.routing.index import build_index

        return cls(*build_index(playbooks, examples))

    # ---------------------------------------------------------------- state

    def to_state(self) -> dict[str, Any]:
        """Plain values (lists of strings, arrays of int32 and float32), so the cache can keep
        it as JSON and `np.savez(path, **router.to_state())` works as well.

        The matrices are stored column-major (pointers, rows, values, shape): ~99 % zeros.
        """
        return {
            "version": STATE_VERSION,
            "ids": list(self.ids),
            "titles": list(self.titles),
            "unit_text": list(self.unit_text),
            "unit_kind": list(self.unit_kind),
            "unit_pb": array("i", self.unit_pb),
            "features": list(self.features),
            "idf": floats(self.idf),
            **self.unit_mat.coords("unit_mat"),
            **self.doc_mat.coords("doc_mat"),
            "grams": list(self.grams),
            "gram_idf": floats(self.gram_idf),
            **self.char_mat.coords("char_mat"),
            "known": list(self.known),
            **self.said_mat.coords("said_mat"),
            **compiled_lexicon().to_state(),
            **(self.bank.to_state() if self.bank is not None else {}),
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], bank: Callable[[], Bank | None] | None = None
    ) -> Router:
        """Rebuild from `to_state()` (or from what `np.load` gives back); `bank` loads the
        example bank on first use when the state does not carry it."""
        version = int(plain(state["version"]))
        if version != STATE_VERSION:
            raise ValueError(f"router state version {version} is not {STATE_VERSION}; rebuild it")

        def strs(key: str) -> list[str]:
            return [str(x) for x in plain(state[key])]

        use_compiled_lexicon(state)

        return cls(
            strs("ids"),
            strs("titles"),
            strs("unit_text"),
            strs("unit_kind"),
            plain(state["unit_pb"]),
            strs("features"),
            plain(state["idf"]),
            Sparse.from_coords("unit_mat", state),
            Sparse.from_coords("doc_mat", state),
            strs("grams"),
            plain(state["gram_idf"]),
            Sparse.from_coords("char_mat", state),
            strs("known"),
            Sparse.from_coords("said_mat", state),
            (lambda: Bank.from_state(state)) if "bank_features" in state else bank,
        )

    # ---------------------------------------------------------------- routing

    def _correct(self, tok: str, pasted: bool = False) -> str:
        """The closest known word to an unknown token ("rollbakc" -> "rollback"), or the token.

        Machine-written text (a pasted log or exception) has few typos and many words the
        playbooks never use ("operation", "pager"): there only a one-edit slip in a longer
        word is corrected."""
        if self._known_set is None:
            self._known_set = self._raw_vocab | STOPWORDS | compiled_lexicon().surface_words
        if len(tok) < (6 if pasted else 5) or not tok.isalpha() or tok in self._known_set:
            return tok
        st = stem(tok)
        lex = compiled_lexicon()
        if st in common_stems() or "w:" + st in self.fidx or st in lex.single:
            return tok  # a real word, or another form of a known one ("tenants")
        if st in lex.multi_by_word or tok in COMMON_WORDS:
            return tok
        hit = self._corrections.get((tok, pasted))
        if hit is not None:
            return hit
        limit = 1.0 if len(tok) <= 6 or pasted else 2.0
        best, best_key = tok, None
        if self._speller is None:
            lex_words = compiled_lexicon().surface_words
            self._speller = Speller(
                w for w in self.known if w not in lex_words and w not in STOPWORDS
            )
        for rank, speller in enumerate((self._speller, compiled_lexicon().speller())):
            for w, overlap in speller.candidates(tok):
                # typos keep the first letter (or swap the first two): "validation" is no
                # typo of "invalidation"
                if w[0] != tok[0] and w[:2] != tok[1::-1]:
                    continue
                # nor is another form of a word: "pager" / "page", "operation" / "operational"
                if w.startswith(tok) or tok.startswith(w) or w.endswith(tok) or tok.endswith(w):
                    continue
                d = typo_distance(tok, w, limit)
                if d <= limit:
                    key = (d, rank, -overlap, w)
                    if best_key is None or key < best_key:
                        best, best_key = w, key
        if len(self._corrections) < 4096:
            self._corrections[tok, pasted] = best
        return best

    def _is_feature_word(self, tok: str) -> bool:
        return ("w:" + stem(tok)) in self.fidx

    def _query_vectors(
        self, query: str, pasted: bool = False
    ) -> tuple[Analysed, list[int], list[float], list[str]]:
        """The query's features: its columns, L2-normalised TF-IDF weights, and feature names."""
        a = analyse(
            query,
            correct=(lambda t: self._correct(t, True)) if pasted else self._correct,
            known=self._is_feature_word,
            glue=self._raw_vocab.__contains__,
        )
        cols, vals, kept = [], [], []
        for f, v in a.feats.items():
            j = self.fidx.get(f)
            if j is None:
                continue
            cols.append(j)
            vals.append(sublinear_tf(v) * self.idf[j])
            kept.append(f)
        norm = math.sqrt(sum(v * v for v in vals)) or 1.0
        return a, cols, [v / norm for v in vals], kept

    def route(self, query: str, top: int = 5) -> list[RouteResult]:
        """The `top` playbooks for `query`, best first. Empty or blank query -> []."""
        if not query or not query.strip() or not self.ids or top <= 0:
            return []
        pasted = looks_pasted(query)
        a, cols, q, kept = self._query_vectors(query, pasted)
        n = len(self.ids)
        unit_best = [0.0] * n
        doc_sim = [0.0] * n
        alert_best = [0.0] * n
        unit_sim = None
        if cols:
            qv = dict(zip(cols, q, strict=True))
            unit_sim = self.unit_mat.dot(qv)
            if unit_sim and self._any_alert and pasted:
                # an alert or error string found whole in a long paste counts whatever else
                # was pasted around it: the share of the unit's weight that the text carries,
                # and of its own written words (an expansion or a concept alone is not it)
                share = self.unit_mat.squares(cols)
                said = {self.fidx[f]: 1.0 for f in a.said if f in self.fidx}
                written = self.said_mat.dot(said) if said else [0.0] * len(share)
                wordy = self._wordy_alerts
                cov = [
                    min(s, w) if ok else 0.0 for s, w, ok in zip(share, written, wordy, strict=True)
                ]
                if self._names:
                    flat = compact(query)
                    for j, name in self._names:
                        if name in flat:
                            cov[j] = 1.0
                alert_best = [max((cov[u] for u in units), default=0.0) for units in self._units_of]
            unit_best = [max((unit_sim[u] for u in units), default=0.0) for units in self._units_of]
            doc_sim = self.doc_mat.dot(qv)
        char_sim = self._char_sim(a.words)
        bank = self.bank
        bank_sim, bank_q = bank.similarity(a) if bank is not None else ([0.0] * n, {})
        w_bank = W_BANK if bank is not None else 0.0
        score = []
        for i in range(n):
            s = W_UNIT * unit_best[i] + W_DOC * doc_sim[i] + W_CHAR * char_sim[i]
            found = min(max((alert_best[i] - ALERT_FROM) / (1 - ALERT_FROM), 0.0), 1.0)
            lexical = min(max(s + W_ALERT * found**2, 0.0), 1.0)
            score.append((1.0 - w_bank) * lexical + w_bank * bank_sim[i])
        order = sorted(range(n), key=lambda i: (-score[i], -doc_sim[i], i))[: min(top, n)]
        results = []
        for i in order:
            why = self._why(i, a, cols, q, kept, unit_sim, char_sim[i] > 0)
            if why in ("nothing matched", "similar spelling only") and bank_sim[i] > 0:
                why = self._bank_why(i, a, bank_q) or why
            results.append(RouteResult(self.ids[i], self.titles[i], round(score[i], 4), why))
        return results

    def _bank_why(self, pb: int, a: Analysed, q: dict[int, float]) -> str:
        """The words that drew the text to what on-call pastes for this route."""
        assert self.bank is not None
        terms: list[str] = []
        for f, _ in self.bank.contributions(pb, q):
            parts = f[2:].split("_") if f.startswith("p:") else [f]
            for part in parts:
                key = part if ":" in part else "w:" + part
                for surf in sorted(a.surfaces.get(key, ()), key=lambda x: (-len(x), x)):
                    if surf not in STOPWORDS and surf not in terms:
                        terms.append(surf)
            if len(terms) >= 4:
                break
        return ("like its examples: " + ", ".join(terms[:4])) if terms else ""

    def closest_symptoms(self, query: str, n: int = 3) -> list[str]:
        """The symptoms nearest to `query` (one per playbook, best playbooks first), for "try …"
        when nothing matched; [] when nothing at all is near."""
        _, cols, q, _ = self._query_vectors(query)
        if not cols:
            return []
        sim = self.unit_mat.dot(dict(zip(cols, q, strict=True)))
        symptom = [k == "symptom" for k in self.unit_kind]
        out: list[str] = []
        seen: set[int] = set()
        for j in sorted(range(len(sim)), key=lambda j: -sim[j] if symptom[j] else 1.0):
            if sim[j] <= 0 or not symptom[j] or len(out) >= n:
                break
            if self.unit_pb[j] in seen:
                continue
            seen.add(self.unit_pb[j])
            out.append(self.unit_text[j])
        return out

    def first_symptom(self, playbook_id: str) -> str | None:
        """The playbook's first symptom (its headline), or None for an unknown id."""
        if playbook_id not in self.ids:
            return None
        for j in self._units_of[self.ids.index(playbook_id)]:
            if self.unit_kind[j] == "symptom":
                return self.unit_text[j]
        return None

    def _char_sim(self, words: list[str]) -> list[float]:
        g: dict[int, float] = {}
        for w in dict.fromkeys(words):  # first-seen order: the sums do not depend on the hash seed
            if len(w) < 3:
                continue
            for t in trigrams(w):
                j = self.gidx.get(t)
                if j is not None:
                    g[j] = g.get(j, 0.0) + 1.0
        if not g:
            return [0.0] * len(self.ids)
        vals = {j: sublinear_tf(v) * self.gram_idf[j] for j, v in g.items()}
        # normalise against the query's full trigram mass, known or not
        total = sum(len(trigrams(w)) for w in dict.fromkeys(words) if len(w) >= 3)
        norm = math.sqrt(sum(v * v for v in vals.values()))
        qn = norm * math.sqrt(max(total, 1) / max(len(g), 1)) or 1.0
        return self.char_mat.dot({j: v / qn for j, v in vals.items()})

    def _why(
        self,
        pb: int,
        a: Analysed,
        cols: list[int],
        q: list[float],
        kept: list[str],
        unit_sim: list[float] | None,
        char_hit: bool,
    ) -> str:
        """The matched symptom when one clearly matches, else the query words that counted."""
        if unit_sim is not None:
            own = [u for u in self._units_of[pb] if self._quotable[u]]
            j = max(own, key=unit_sim.__getitem__) if own else -1
            if j >= 0 and self.unit_kind[j] == "alert":
                # an engineer's words quote the symptom they match, unless the alert is clearly closer
                said = [k for k in own if self.unit_kind[k] != "alert"]
                if said:
                    k = max(said, key=unit_sim.__getitem__)
                    if unit_sim[k] >= unit_sim[j] - 0.2:
                        j = k
            # quote a symptom only if it shares a word with the query, not just a concept
            word_cols = [c for c, f in zip(cols, kept, strict=True) if f.startswith("w:")]
            if (
                j >= 0
                and unit_sim[j] >= MATCHED_AT
                and any(self.unit_mat.row[j].get(c, 0.0) > 0 for c in word_cols)
            ):
                text = self.unit_text[j]
                if len(text) > 62:
                    text = text[:59].rstrip() + "..."
                # an alert or exception name is called one; a pasted message is just quoted
                named = self.unit_kind[j] == "alert" and _NAME.match(text)
                kind = "alert " if named else ""
                why = f'matched {kind}"{text}"'
                fixes = f" ({', '.join(a.fixes)})" if a.fixes else ""
                return why + fixes if len(why) + len(fixes) <= 80 else why
        terms: list[str] = []
        if cols:
            weights = self.doc_mat.row[pb]
            contrib = [weights.get(c, 0.0) * w for c, w in zip(cols, q, strict=True)]
            for k in sorted(range(len(cols)), key=lambda k: -contrib[k]):
                if contrib[k] <= 0:
                    break
                for surf in sorted(a.surfaces.get(kept[k], ()), key=lambda x: (-len(x), x)):
                    if surf in STOPWORDS or surf in terms:
                        continue
                    if any(surf in t.split() for t in terms):
                        continue  # "sends" is already shown inside "re sends"
                    terms.append(surf)
        if terms:
            # a status code is named as one: "HTTP 429", not a bare number
            terms = [f"HTTP {t}" if _STATUS.fullmatch(t) else t for t in terms]
            out = "terms: " + terms[0]
            for t in terms[1:5]:
                if len(out) + 2 + len(t) > 80:
                    break
                out += ", " + t
            return out
        return "similar spelling only" if char_hit else "nothing matched"
