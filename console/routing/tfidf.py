"""The index's arithmetic, in numpy: smoothed IDF, sublinear TF, L2-normalised TF-IDF matrices,
and the compact forms the cached router state stores them in.

The matrices are small (units x features, ~98 % zeros) and dense in memory, because a dense
column slice times a query vector is the fastest route per keystroke at this size. On disk they
travel as coordinates, and each list of strings as one joined string, so the cache stays small
and loads in a millisecond. numpy is imported inside each function: importing the router must
not load it (the console's first frame stays light).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def smoothed_idf(df: int, n: int) -> float:
    """Smoothed IDF over playbooks: a feature in every playbook still weighs ln 2."""
    return math.log(1 + n / df)


def sublinear(v: np.ndarray) -> np.ndarray:
    """1 + ln(tf) for counts, the raw weight for fractional (concept) weights below 1."""
    import numpy as np

    return np.where(v >= 1.0, 1.0 + np.log(np.maximum(v, 1.0)), v).astype(np.float32)


def tfidf_matrix(
    rows: list[dict[str, float]], index: dict[str, int], idf: np.ndarray
) -> np.ndarray:
    """Rows of sparse counts -> a dense, L2-normalised float32 TF-IDF matrix."""
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
        w = sublinear(np.array(vals, dtype=np.float32)) * idf[ci]
        norms = np.sqrt(np.bincount(ri, weights=w * w, minlength=len(rows))).astype(np.float32)
        norms[norms == 0] = 1.0
        m[ri, ci] = w / norms[ri]
    return m


def sparse_coords(name: str, m: np.ndarray) -> dict[str, np.ndarray]:
    """A dense matrix as coordinate arrays, for a small on-disk state."""
    import numpy as np

    rows, cols = np.nonzero(m)
    return {
        f"{name}_shape": np.array(m.shape, dtype=np.int64),
        f"{name}_rows": rows.astype(np.int32),
        f"{name}_cols": cols.astype(np.int32),
        f"{name}_vals": m[rows, cols].astype(np.float32),
    }


def dense_matrix(name: str, state: dict[str, Any]) -> np.ndarray:
    """The matrix `sparse_coords` stored under `name`, dense again."""
    import numpy as np

    shape = tuple(int(x) for x in np.asarray(state[f"{name}_shape"]).tolist())
    m = np.zeros(shape, dtype=np.float32)
    m[np.asarray(state[f"{name}_rows"]), np.asarray(state[f"{name}_cols"])] = np.asarray(
        state[f"{name}_vals"], dtype=np.float32
    )
    return m


_SEP = "\x1f"
"""Joins a list of strings into one array element in the state (no per-item padding)."""


def pack_strings(items: list[str]) -> np.ndarray:
    import numpy as np

    return np.array(_SEP.join(x.replace(_SEP, " ") for x in items), dtype=str)


def unpack_strings(value: Any) -> list[str]:
    """The list `pack_strings` stored (an empty list stays empty)."""
    import numpy as np

    text = str(np.asarray(value).item())
    return text.split(_SEP) if text else []
