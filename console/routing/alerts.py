"""Alerts found whole in pasted text: an alert's name written as one word, and how much of an
alert's weight lies in the words it is written with (not their expansions or concepts).

The router (console/routing/router.py) adds an alert unit's bonus only when the pasted text
carries those written words, or the alert's name whole, case and separators aside.
"""

from __future__ import annotations

import re

from console.routing.features import Analysed
from console.routing.tfidf import Sparse, floats

NAME_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[A-Z][a-z0-9]+|_[A-Za-z0-9]+)+")
"""An alert or exception name in one word: TargetDown, HighErrorRate, rate_limit_exceeded."""
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def compact(text: str) -> str:
    """Lower-case letters and digits only: 'Target-Down' and 'targetdown' compare equal."""
    return _NOT_ALNUM.sub("", text.lower())


def said_matrix(
    analysed: list[Analysed], kinds: list[str], fidx: dict[str, int], idf: list[float]
) -> Sparse:
    """Per alert unit, its written words' share of its IDF mass (rows sum to 1; other units
    have no entries)."""
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, (a, kind) in enumerate(zip(analysed, kinds, strict=True)):
        if kind != "alert":
            continue
        mine = [(fidx[f], base * idf[fidx[f]]) for f, base in a.said.items() if f in fidx]
        total = sum(v for _, v in mine)
        for j, v in mine:
            if total > 0:
                rows.append(i)
                cols.append(j)
                vals.append(v / total)
    return Sparse.from_entries((len(analysed), len(fidx)), rows, cols, floats(vals).tolist())
