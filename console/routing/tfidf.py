"""The index's arithmetic: smoothed IDF, sublinear TF, L2-normalised TF-IDF weights, and the
sparse matrices the router scores with, in pure Python (weights kept as float32).

The matrices are small (~1,000 units x ~1,000 features, ~0.5 % filled) and a query touches a
few dozen columns, so a dot product over the touched columns' postings costs well under a
millisecond. They are kept column-major in flat arrays, which the cache stores as they are (a
cached router is read with no per-entry work), and neither building nor routing imports numpy (its ~0.1 s import and ~20 MiB
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
    return Sparse.from_entries((len(rows), len(index)), r_idx, c_idx, floats(vals).tolist())


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


class Sparse(Columns):
    """The router's matrices: column-major (`dot` with a short query, `squares`), read from the
    cache as its arrays with no per-entry work; their rows (which only `why` reads) are built
    on first use."""

    __slots__ = ("_row",)

    def __init__(self, shape: tuple[int, int], ptr: Any, rows: Any, vals: Any) -> None:
        super().__init__(shape, ptr, rows, vals)
        self._row: list[dict[int, float]] | None = None

    @classmethod
    def from_entries(cls, shape: tuple[int, int], rows: Any, cols: Any, vals: Any) -> Sparse:
        """The matrix with these (row, column, value) entries."""
        by_row: list[dict[int, float]] = [{} for _ in range(int(shape[0]))]
        for r, c, v in zip(rows, cols, vals, strict=True):
            by_row[r][c] = v
        m = Columns.from_rows(int(shape[1]), by_row)
        return cls(m.shape, m.ptr, m.rows, m.vals)

    @property
    def row(self) -> list[dict[int, float]]:
        """Per row, its entries ({column: value})."""
        if self._row is None:
            row: list[dict[int, float]] = [{} for _ in range(self.shape[0])]
            ptr, rows, vals = self.ptr, self.rows, self.vals
            for c in range(self.shape[1]):
                for k in range(ptr[c], ptr[c + 1]):
                    row[rows[k]][c] = vals[k]
            self._row = row
        return self._row

    def row_counts(self) -> list[int]:
        """Per row, how many entries it has."""
        counts = [0] * self.shape[0]
        for r in self.rows:
            counts[r] += 1
        return counts

    def squares(self, cols: Any) -> list[float]:
        """Per row, the sum of its squared weights over `cols` (its weight share there)."""
        out = [0.0] * self.shape[0]
        ptr, rows, vals = self.ptr, self.rows, self.vals
        for c in cols:
            for k in range(ptr[c], ptr[c + 1]):
                out[rows[k]] += vals[k] * vals[k]
        return out
