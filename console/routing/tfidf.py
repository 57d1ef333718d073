"""The index's arithmetic: smoothed IDF, sublinear TF, L2-normalised TF-IDF weights, and the
sparse matrices the router scores with.

Building the index (a cold cache: the install step or a playbook edit) uses numpy; scoring does
not. The matrices are small (~1,000 units x ~1,000 features, ~0.5 % filled) and a query touches
a few dozen columns, so a dot product over the touched columns' postings in pure Python costs
well under a millisecond, and the console ranks from the warm cache without importing numpy
(its ~0.1 s import and ~15 MiB stay out of the start-up and the idle console).
"""

from __future__ import annotations

import math
from array import array
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def smoothed_idf(df: int, n: int) -> float:
    """Smoothed IDF over playbooks: a feature in every playbook still weighs ln 2."""
    return math.log(1 + n / df)


def sublinear_tf(v: float) -> float:
    """1 + ln(tf) for counts, the raw weight for fractional (concept) weights below 1."""
    return 1.0 + math.log(v) if v >= 1.0 else v


def tfidf_matrix(
    rows: list[dict[str, float]], index: dict[str, int], idf: np.ndarray
) -> np.ndarray:
    """Rows of sparse counts -> a dense, L2-normalised float32 TF-IDF matrix (numpy: build only)."""
    import numpy as np

    r_idx: list[int] = []
    c_idx: list[int] = []
    vals: list[float] = []
    for r, row in enumerate(rows):
        for f, v in row.items():
            r_idx.append(r)
            c_idx.append(index[f])
            vals.append(v)
    m = np.zeros((len(rows), len(index)), dtype=np.float32)
    if vals:
        ri = np.array(r_idx, dtype=np.int64)
        ci = np.array(c_idx, dtype=np.int64)
        v = np.array(vals, dtype=np.float32)
        tf = np.where(v >= 1.0, 1.0 + np.log(np.maximum(v, 1.0)), v).astype(np.float32)
        w = tf * idf[ci]
        norms = np.sqrt(np.bincount(ri, weights=w * w, minlength=len(rows))).astype(np.float32)
        norms[norms == 0] = 1.0
        m[ri, ci] = w / norms[ri]
    return m


class Sparse:
    """A float32 matrix held as postings both ways: per column for `dot` with a short query,
    per row for reading one row's weights."""

    __slots__ = ("by_col", "row", "shape")

    def __init__(self, shape: tuple[int, int], rows: Any, cols: Any, vals: Any) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        row: list[dict[int, float]] = [{} for _ in range(self.shape[0])]
        by_col: dict[int, list[tuple[int, float]]] = {}
        for r, c, v in zip(rows, cols, vals, strict=True):
            row[r][c] = v
            postings = by_col.get(c)
            if postings is None:
                by_col[c] = [(r, v)]
            else:
                postings.append((r, v))
        self.row = row
        self.by_col = by_col

    @classmethod
    def from_dense(cls, m: np.ndarray) -> Sparse:
        import numpy as np

        rows, cols = np.nonzero(m)
        vals = m[rows, cols].astype(np.float32)
        return cls(m.shape, rows.tolist(), cols.tolist(), vals.tolist())

    def dot(self, q: dict[int, float]) -> list[float]:
        """self @ q for a query given as {column: weight}."""
        out = [0.0] * self.shape[0]
        for c, w in q.items():
            for r, v in self.by_col.get(c, ()):
                out[r] += v * w
        return out

    def squares(self, cols: Any) -> list[float]:
        """Per row, the sum of its squared weights over `cols` (its weight share there)."""
        out = [0.0] * self.shape[0]
        for c in cols:
            for r, v in self.by_col.get(c, ()):
                out[r] += v * v
        return out

    def coords(self, name: str) -> dict[str, Any]:
        """Row-major coordinates (as numpy's nonzero gives them), for the cached state."""
        rows, cols, vals = array("i"), array("i"), array("f")
        for r, entries in enumerate(self.row):
            for c in sorted(entries):
                rows.append(r)
                cols.append(c)
                vals.append(entries[c])
        return {
            f"{name}_shape": list(self.shape),
            f"{name}_rows": rows,
            f"{name}_cols": cols,
            f"{name}_vals": vals,
        }

    @classmethod
    def from_coords(cls, name: str, state: dict[str, Any]) -> Sparse:
        """The matrix `coords` stored under `name` (plain lists, arrays or numpy arrays)."""
        return cls(
            tuple(plain(state[f"{name}_shape"])),
            plain(state[f"{name}_rows"]),
            plain(state[f"{name}_cols"]),
            plain(state[f"{name}_vals"]),
        )


def plain(value: Any) -> Any:
    """A state value as plain Python: lists stay, arrays (stdlib or numpy) become lists."""
    return value.tolist() if hasattr(value, "tolist") else value


def floats(values: Any) -> array:
    """float32 values in a compact array (what the state stores weights as)."""
    return array("f", plain(values))
