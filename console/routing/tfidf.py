"""The index's arithmetic: smoothed IDF, sublinear TF, L2-normalised TF-IDF weights, and the
sparse matrices the router scores with, in pure Python (weights kept as float32).

The matrices are small (~1,000 units x ~1,000 features, ~0.5 % filled) and a query touches a
few dozen columns, so a dot product over the touched columns' postings costs well under a
millisecond, and neither building nor routing imports numpy (its ~0.1 s import and ~20 MiB
stay out of the console's start-up and memory, a cold cache included).
"""

from __future__ import annotations

import math
from array import array
from typing import Any


def smoothed_idf(df: int, n: int) -> float:
    """Smoothed IDF over playbooks: a feature in every playbook still weighs ln 2."""
    return math.log(1 + n / df)


def sublinear_tf(v: float) -> float:
    """1 + ln(tf) for counts, the raw weight for fractional (concept) weights below 1."""
    return 1.0 + math.log(v) if v >= 1.0 else v


def tfidf_matrix(rows: list[dict[str, float]], index: dict[str, int], idf: list[float]) -> Sparse:
    """Rows of sparse counts -> their L2-normalised TF-IDF weights, kept as float32."""
    r_idx: list[int] = []
    c_idx: list[int] = []
    vals: list[float] = []
    for r, row in enumerate(rows):
        weights = [(index[f], sublinear_tf(v) * idf[index[f]]) for f, v in row.items()]
        norm = math.sqrt(sum(w * w for _, w in weights)) or 1.0
        for c, w in weights:
            r_idx.append(r)
            c_idx.append(c)
            vals.append(w / norm)
    return Sparse((len(rows), len(index)), r_idx, c_idx, floats(vals).tolist())


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


class Columns:
    """A float32 matrix kept column-major (CSC: per column, its rows and values, one after the
    other in flat arrays). Read from the cache it is the arrays themselves, built with no
    per-entry work, so a large matrix (the example bank's) costs nothing until a query touches
    a few of its columns."""

    __slots__ = ("ptr", "rows", "shape", "vals")

    def __init__(self, shape: tuple[int, int], ptr: Any, rows: Any, vals: Any) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.ptr = ptr
        self.rows = rows
        self.vals = vals

    @classmethod
    def from_rows(cls, n_cols: int, rows: list[dict[int, float]]) -> Columns:
        """The matrix whose row r holds `rows[r]` ({column: value})."""
        by_col: list[list[tuple[int, float]]] = [[] for _ in range(n_cols)]
        for r, row in enumerate(rows):
            for c, v in row.items():
                by_col[c].append((r, v))
        ptr, idx, vals = array("i", [0]), array("i"), array("f")
        for postings in by_col:
            for r, v in postings:
                idx.append(r)
                vals.append(v)
            ptr.append(len(idx))
        return cls((len(rows), n_cols), ptr, idx, vals)

    def dot(self, q: dict[int, float]) -> list[float]:
        """self @ q for a query given as {column: weight}."""
        out = [0.0] * self.shape[0]
        ptr, rows, vals = self.ptr, self.rows, self.vals
        for c, w in q.items():
            for k in range(ptr[c], ptr[c + 1]):
                out[rows[k]] += vals[k] * w
        return out

    def get(self, r: int, c: int) -> float:
        """One entry (0.0 when empty)."""
        for k in range(self.ptr[c], self.ptr[c + 1]):
            if self.rows[k] == r:
                return float(self.vals[k])
        return 0.0

    def coords(self, name: str) -> dict[str, Any]:
        return {
            f"{name}_shape": list(self.shape),
            f"{name}_ptr": array("i", self.ptr),
            f"{name}_rows": array("i", self.rows),
            f"{name}_vals": array("f", self.vals),
        }

    @classmethod
    def from_coords(cls, name: str, state: dict[str, Any]) -> Columns:
        def arr(key: str, code: str) -> array:
            v = state[f"{name}_{key}"]
            return v if isinstance(v, array) else array(code, plain(v))

        return cls(
            tuple(plain(state[f"{name}_shape"])),
            arr("ptr", "i"),
            arr("rows", "i"),
            arr("vals", "f"),
        )
