"""Text to tokens for the router: normalising, stemming, expanding abbreviations, the compiled
concept lexicon, character trigrams and the typo speller with its keyboard-aware distance.

Both sides of a match (the playbooks at build time, the query per keystroke) go through the same
functions here, so the rules only need to agree with themselves, not with English: `stem` is a
small, predictable suffix stripper, not a linguist. The vocabulary itself is data in
console/routing/lexicon.py; this module compiles it once, on first use, and caches what it can
(stems, the compiled lexicon, the speller) with a bound on the caches so a long session of odd
queries cannot grow them without end.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from console.routing.lexicon import COMMON_WORDS, EXPANSIONS, LEXICON, STOPWORDS
from console.routing.paste import clean

# fmt: off
_PRE = (
    (re.compile(r"[\u0394\u03b4]\s*s\b"), " deltas "),     # ΔS / δs
    (re.compile(r"\u03bb"), " lambda "),
    (re.compile(r"\bb\s*/\s*g\b"), " blue green "),
    (re.compile(r"\bgo\s*/\s*no[\s-]*go\b"), " go no go "),
    (re.compile(r"\bw/o\b"), " without "),
    (re.compile(r"%"), " percent "),
    # "p99 up 3x" / "3x slower" is a jump, "charged 2x" a duplicate
    (re.compile(r"\b(up|slower|higher|more|increased?|grew|jumped|spiked?)\s+\d+(\.\d+)?\s*x\b"),
     r" \1 multiplied "),
    (re.compile(r"\b\d+(\.\d+)?\s*x\s+(slower|higher|more|latency|the latency|p\d\d)\b"),
     r" multiplied \2 "),
    (re.compile(r"\b(\d+)\s*x\b"), r" \1x "),
    (re.compile(r"[\u2019']"), ""),                        # don't -> dont
    # {{var}} / ${var} left in a prompt (not the "}}" that closes pasted JSON)
    (re.compile(r"\{\{[\s\w.]*\}\}|\$\{\w*\}?"), " templatevar "),
    (re.compile(r"\b([4-9]|\d\d+)\s*times\b"), " several times "),
    (re.compile(r"\brc\d+\b"), " rc "),                          # rc2 -> release candidate
)
# fmt: on
_TOKEN = re.compile(r"[a-z0-9]+")


_COMMON_STEMS: frozenset[str] | None = None


def common_stems() -> frozenset[str]:
    """The stems of COMMON_WORDS: everyday words the speller leaves alone."""
    global _COMMON_STEMS
    if _COMMON_STEMS is None:
        _COMMON_STEMS = frozenset(stem(w) for w in COMMON_WORDS)
    return _COMMON_STEMS


def _undouble(w: str) -> str:
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
        return w[:-1]
    return w


_STEMS: dict[str, str] = {}


def stem(word: str) -> str:
    """A small, predictable suffix stripper (both sides use it, so it only needs to agree)."""
    hit = _STEMS.get(word)
    if hit is None:
        hit = _stem(word)
        if len(_STEMS) < 50_000:
            _STEMS[word] = hit
    return hit


def _stem(word: str) -> str:
    w = word
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith(("ies", "ied")) and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("ing") and len(w) > 5:
        w = _undouble(w[:-3])
    elif w.endswith("ed") and len(w) > 4:
        w = _undouble(w[:-2])
    elif w.endswith(("ches", "shes", "xes", "zes")) and len(w) > 4:
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        w = w[:-1]
    for suf in ("ations", "ation", "ments", "ment"):
        if w.endswith(suf) and len(w) - len(suf) >= 4:
            w = w[: -len(suf)] + ("ate" if suf.startswith("ation") else "")
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


_PRE_TRIGGER = re.compile(r"[\u0394\u03b4\u03bb/%'\u2019{}]|\dx\b|\d\s+x\b|\brc\d|\d\s*times")


def raw_tokens(text: str) -> list[str]:
    """Lower-case alphanumeric tokens, after pasted noise is read or dropped (labels, CamelCase,
    ids, stamps: console/routing/paste.py) and the symbols an engineer types are spelt out
    (ΔS, λ, b/g, %, "3x slower", {{var}})."""
    t = clean(text if text.isascii() else unicodedata.normalize("NFKC", text)).lower()
    if _PRE_TRIGGER.search(t):
        for rx, rep in _PRE:
            t = rx.sub(rep, t)
    return _TOKEN.findall(t)


def expand(
    tokens: Sequence[str], known: Any = None, shown: Sequence[str] | None = None
) -> list[tuple[str, str, float, int]]:
    """(token, surface, weight, position): each raw token, plus the words its abbreviation
    stands for (at the abbreviation's position).

    An expansion counts half when the abbreviation itself is a known word (the playbooks say
    "p95" too), so one token never weighs as much as two real words.
    """
    out: list[tuple[str, str, float, int]] = []
    for i, tok in enumerate(tokens):
        surf = shown[i] if shown is not None else tok
        out.append((tok, surf, 1.0, i))
        exp = EXPANSIONS.get(tok)
        if exp:
            w = 1.0 if known is not None and not known(tok) else 0.5
            out.extend((e, surf, w, i) for e in exp.split() if e != tok)
    return out


PHRASE_WINDOW = 8
"""A lexicon phrase matches when all its words, in any order, fall within this many tokens: a
typed sentence is one bag of words, but "write ... up" a line apart in a pasted log is no
write-up, nor "same ... request" a clause apart a replayed request."""


def _within(positions: list[list[int]], span: int) -> bool:
    """Whether one position from each list fits in a window of `span` tokens."""
    if len(positions) == 1:
        return True
    merged = sorted((p, k) for k, ps in enumerate(positions) for p in ps)
    need = len(positions)
    have: dict[int, int] = {}
    lo = 0
    for p, k in merged:
        have[k] = have.get(k, 0) + 1
        while merged[lo][0] < p - span:
            q = merged[lo][1]
            have[q] -= 1
            if not have[q]:
                del have[q]
            lo += 1
        if len(have) == need:
            return True
    return False


class CompiledLexicon:
    """The compiled LEXICON: stemmed single words and stemmed multi-word sets -> concepts."""

    def __init__(self, state: dict | None = None) -> None:
        self.single: dict[str, list[str]] = {}
        self.multi: list[tuple[frozenset[str], str]] = []
        self.multi_by_word: dict[str, list[int]] = {}
        self.surface_words: set[str] = set()
        self._speller: Speller | None = None
        if state is not None:  # as `to_state` kept it (the router's cache)
            for line in state["lex_single"]:
                st, *concepts = str(line).split("\t")
                self.single[st] = concepts
            for line in state["lex_multi"]:
                concept, words = str(line).split("\t")
                self._add_multi(words.split(" "), concept)
            self.surface_words = {str(w) for w in state["lex_surface"]}
            return
        for concept, phrases in LEXICON.items():
            for phrase in phrases:
                toks = raw_tokens(phrase)
                self.surface_words.update(toks)
                stems = [stem(t) for t in toks]
                if not stems:
                    continue
                if len(stems) == 1:
                    lst = self.single.setdefault(stems[0], [])
                    if concept not in lst:
                        lst.append(concept)
                else:
                    self._add_multi(stems, concept)
        for exp in EXPANSIONS.values():
            self.surface_words.update(exp.split())
        self.surface_words.update(EXPANSIONS)

    def _add_multi(self, stems: list[str], concept: str) -> None:
        idx = len(self.multi)
        self.multi.append((frozenset(stems), concept))
        for st in sorted(set(stems)):
            self.multi_by_word.setdefault(st, []).append(idx)

    def to_state(self) -> dict[str, list[str]]:
        """Lists of strings (tab-separated fields): the router's cache keeps the compiled
        lexicon (~10 ms to compile; the cache is rebuilt whenever the lexicon's code changes)."""
        return {
            "lex_single": ["\t".join([st, *cs]) for st, cs in self.single.items()],
            "lex_multi": [f"{c}\t{' '.join(sorted(words))}" for words, c in self.multi],
            "lex_surface": sorted(self.surface_words),
        }

    def speller(self) -> Speller:
        """Spelling candidates among the lexicon's own words ("latncy" -> "latency")."""
        if self._speller is None:
            self._speller = Speller(w for w in self.surface_words if w not in STOPWORDS)
        return self._speller

    def match(self, stems: set[str] | dict[str, list[int]]) -> tuple[dict[str, set[str]], set[str]]:
        """(concept -> the stems that evoked it, the stems explained by a multi-word phrase).

        `stems` maps each stem to the token positions it occurs at, so a phrase matches only
        when its words are near each other (PHRASE_WINDOW); a plain set ignores distance."""
        found: dict[str, set[str]] = {}
        candidates: set[int] = set()
        # sorted, so the concepts (and the router's `why`) come out in one order whatever
        # PYTHONHASHSEED is
        for st in sorted(stems):
            hit = self.single.get(st)
            if hit:
                for c in hit:
                    found.setdefault(c, set()).add(st)
            more = self.multi_by_word.get(st)
            if more:
                candidates.update(more)
        in_phrase: set[str] = set()
        phrased: dict[str, set[str]] = {}
        where = stems if isinstance(stems, dict) else None
        present = set(stems)
        for i in sorted(candidates):
            words, c = self.multi[i]
            if not words <= present:
                continue
            if where is not None and not _within(
                [where[w] for w in sorted(words)], PHRASE_WINDOW - 1
            ):
                continue
            phrased.setdefault(c, set()).update(words)
            in_phrase |= words
        if in_phrase:
            # a word inside a matched phrase means the phrase ("kill switch" is a FLAG, not a
            # SWAP); its single-word concepts stand only if the word is also elsewhere.
            found = {c: sts - in_phrase for c, sts in found.items()}
            found = {c: sts for c, sts in found.items() if sts}
            for c, sts in phrased.items():
                found.setdefault(c, set()).update(sts)
        return found, in_phrase


_LEX: CompiledLexicon | None = None


def compiled_lexicon() -> CompiledLexicon:
    """The LEXICON compiled once per process, on first use."""
    global _LEX
    if _LEX is None:
        _LEX = CompiledLexicon()
    return _LEX


def use_compiled_lexicon(state: dict) -> None:
    """This process's compiled LEXICON from a router's cached state (unless compiled already)."""
    global _LEX
    if _LEX is None and "lex_single" in state:
        _LEX = CompiledLexicon(state)


def trigrams(word: str) -> list[str]:
    """The word's character trigrams, with its edges marked: "cat" -> #ca, cat, at#."""
    w = f"#{word}#"
    return [w[i : i + 3] for i in range(len(w) - 2)]


_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_POS = {ch: (r, c + 0.5 * r) for r, row in enumerate(_ROWS) for c, ch in enumerate(row)}
_VOWELS = frozenset("aeiouy")


def _sub_cost(a: str, b: str) -> float:
    """A slip to a neighbouring key or a vowel mix-up is one typo; any other swap counts two."""
    if a == b:
        return 0.0
    if a in _VOWELS and b in _VOWELS:
        return 1.0
    pa, pb = _KEY_POS.get(a), _KEY_POS.get(b)
    if pa and pb and abs(pa[0] - pb[0]) <= 1 and abs(pa[1] - pb[1]) <= 1.0:
        return 1.0
    return 2.0


def typo_distance(a: str, b: str, limit: float) -> float:
    """Damerau-Levenshtein (optimal string alignment) with keyboard-aware substitutions.

    Gives up early and returns `limit + 1` once no alignment can stay within `limit`.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[float] = []
    prev = [float(j) for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        cur = [float(i)] + [0.0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + _sub_cost(a[i - 1], b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class Speller:
    """Candidate corrections for a misspelt word, by shared character trigrams."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = sorted({w for w in words if len(w) >= 3 and w.isalpha()})
        self.index: dict[str, list[int]] = {}
        for j, w in enumerate(self.words):
            for t in set(trigrams(w)):
                self.index.setdefault(t, []).append(j)

    def candidates(self, tok: str, k: int = 8) -> list[tuple[str, float]]:
        grams = set(trigrams(tok))
        counts: dict[int, int] = {}
        for t in grams:
            for j in self.index.get(t, ()):
                counts[j] = counts.get(j, 0) + 1
        scored = sorted(
            ((2 * c / (len(grams) + len(self.words[j]) + 2), j) for j, c in counts.items()),
            reverse=True,
        )[:k]
        return [(self.words[j], sc) for sc, j in scored]
