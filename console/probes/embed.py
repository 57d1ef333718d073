"""Embedders for ΔS = 1 − cos(embed(question), embed(retrieved)), and the ΔS bands of each.

Two embedders:
- the built-in one: hashed character 3–5-grams inside word boundaries, sublinear TF, stop words
  dropped, L2-normalised (numpy only, deterministic, offline, no model download). It is lexical:
  its ΔS is a different measure from a sentence embedder's, so it has its own bands (below);
- the site's own OpenAI-compatible embeddings endpoint (`[embeddings]` in the site config): ΔS in
  the space the RAG retrieves in, judged on the seed's bands (set for sentence embedders).

How the built-in bands were calibrated (`calibrate()`; the data ships in
console/demo/calibration.yaml): for each of 40 questions, ΔS to its hand-written answer
("correct") and to the answers of every other topic ("off-topic", 1,560 pairs). `stable` is the
5th percentile of the off-topic ΔS rounded down to 0.01: at most 1 in 20 off-topic answers is
called stable. `high_risk` is the 90th percentile of the correct answers' ΔS rounded up to 0.01
(at least `stable` + 0.02): at most 1 in 10 correct answers is called high risk. Between them
lies the transitional band, where a verdict is inconclusive. On this embedder the seed's 0.45
would call 95 % of correct answers unstable. tests/test_embed.py
recomputes both numbers from the shipped pairs and fails if the constants drift from them.

numpy (and httpx, for the site embedder) are imported where used: the console's start-up must not
pay for them.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

BUILTIN_NAME = "fixmap-hash-char3-5-v1"
CALIBRATION_FILE = Path(__file__).parent.parent / "demo" / "calibration.yaml"


@dataclass(frozen=True)
class Bands:
    """ΔS bands of one embedder: pass at or below `stable`, fail above `high_risk`."""

    stable: float
    high_risk: float
    source: str


SEED_BANDS = Bands(0.45, 0.60, "the seed's bands, set for sentence embedders")
BUILTIN_BANDS = Bands(
    0.85,
    0.91,
    "calibrated for the built-in lexical embedder on console/demo/calibration.yaml "
    "(p5 of off-topic answers / p90 of correct answers)",
)

_DIM = 1 << 14
_NGRAMS = (3, 4, 5)
_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = """a an and are as at be but by can do does for from has have how i if in into is it its
me my no not of on or our should so than that the their them then there these they this to
us was we what when where which while who why will with you your"""
_STOP = frozenset(_STOP_WORDS.split())


def _features(text: str) -> Counter[int]:
    counts: Counter[int] = Counter()
    for word in _WORD.findall(text.lower()):
        if word in _STOP:
            continue
        padded = f" {word} "
        for n in _NGRAMS:
            if len(padded) < n:
                continue
            for i in range(len(padded) - n + 1):
                counts[zlib.crc32(padded[i : i + n].encode()) % _DIM] += 1
    return counts


@lru_cache(maxsize=4096)
def _vector(text: str) -> np.ndarray:
    import numpy as np

    vec = np.zeros(_DIM, dtype=np.float32)
    for index, tf in _features(text).items():
        vec[index] = 1.0 + math.log(tf)
    norm = float(np.linalg.norm(vec))
    if norm > 0:
        vec /= norm
    vec.setflags(write=False)
    return vec


class HashEmbedder:
    """The built-in deterministic lexical embedder (see the module docstring)."""

    name = BUILTIN_NAME
    lexical = True
    bands = BUILTIN_BANDS

    def embed_sync(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, _DIM), dtype=np.float32)
        return np.stack([_vector(t) for t in texts])

    async def embed(self, texts: list[str]) -> np.ndarray:
        import asyncio

        return await asyncio.to_thread(self.embed_sync, texts)


class EmbeddingError(RuntimeError):
    """The site's embeddings endpoint did not give usable vectors."""


class SiteEmbedder:
    """An OpenAI-compatible embeddings endpoint: POST {model, input: [...]} -> data[i].embedding."""

    lexical = False
    bands = SEED_BANDS

    def __init__(self, spec: Any, client: Any, api_key: str | None = None) -> None:
        from urllib.parse import urlsplit

        self.spec = spec
        self.client = client
        self.api_key = api_key
        self.name = f"{spec.model} @ {urlsplit(spec.url).netloc}"

    async def embed(self, texts: list[str]) -> np.ndarray:
        import httpx
        import numpy as np

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            resp = await self.client.post(
                self.spec.url,
                json={"model": self.spec.model, "input": list(texts)},
                headers=headers,
                timeout=self.spec.timeout,
            )
        except httpx.HTTPError as exc:
            raise EmbeddingError(
                f"embeddings endpoint unreachable ({type(exc).__name__})"
            ) from None
        if resp.status_code != 200:
            raise EmbeddingError(f"embeddings endpoint answered {resp.status_code}")
        try:
            items = resp.json()["data"]
            items = sorted(items, key=lambda d: d.get("index", 0))
            vectors = np.asarray([d["embedding"] for d in items], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingError(
                f"embeddings endpoint gave no data[i].embedding list ({type(exc).__name__})"
            ) from None
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise EmbeddingError(
                f"embeddings endpoint gave {len(vectors)} vectors for {len(texts)} texts"
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms


def delta_s(a: np.ndarray, b: np.ndarray) -> float:
    """1 − cos(a, b) for two vectors (normalised here, so any embedder's output will do)."""
    import numpy as np

    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return 1.0
    return float(1.0 - float(np.dot(a, b)) / (na * nb))


def zone(ds: float, bands: Bands) -> str:
    """'stable', 'transitional' or 'high risk' on an embedder's bands."""
    if ds <= bands.stable:
        return "stable"
    if ds > bands.high_risk:
        return "high risk"
    return "transitional"


# ------------------------------------------------------------------ calibration


@dataclass(frozen=True)
class Calibration:
    """What calibrate() measured: the bands it derives and how well they separate."""

    bands: Bands
    correct: list[float]
    off_topic: list[float]
    near_miss: list[float]
    auc_off_topic: float
    auc_near_miss: float | None

    def summary(self) -> str:
        import numpy as np

        near = f", near-miss AUC {self.auc_near_miss:.2f}" if self.auc_near_miss is not None else ""
        return (
            f"{len(self.correct)} questions: correct ΔS median {np.median(self.correct):.2f}, "
            f"off-topic median {np.median(self.off_topic):.2f}; bands stable ≤ {self.bands.stable:.2f}, "
            f"high risk > {self.bands.high_risk:.2f}; answer vs off-topic AUC {self.auc_off_topic:.2f}{near}"
        )


def load_calibration_pairs(path: Path | None = None) -> list[dict[str, str]]:
    import yaml

    data = yaml.safe_load((path or CALIBRATION_FILE).read_text(encoding="utf-8"))
    return list(data["pairs"])


def _auc(positive: list[float], negative: list[float]) -> float:
    """P(a positive ΔS is lower than a negative one); ties count half."""
    wins = 0.0
    for p in positive:
        for n in negative:
            wins += 1.0 if p < n else 0.5 if p == n else 0.0
    return wins / (len(positive) * len(negative))


def calibrate(
    pairs: list[dict[str, str]] | None = None, embedder: HashEmbedder | None = None
) -> Calibration:
    """Derive ΔS bands for an embedder from question / answer / off-topic pairs."""
    import numpy as np

    pairs = pairs if pairs is not None else load_calibration_pairs()
    emb = embedder or HashEmbedder()
    questions = emb.embed_sync([p["question"] for p in pairs])
    answers = emb.embed_sync([p["answer"] for p in pairs])
    correct, off_topic, near_miss = [], [], []
    for i, p in enumerate(pairs):
        correct.append(delta_s(questions[i], answers[i]))
        for j, other in enumerate(pairs):
            if other["topic"] != p["topic"]:
                off_topic.append(delta_s(questions[i], answers[j]))
        if p.get("near_miss"):
            near_miss.append(delta_s(questions[i], emb.embed_sync([p["near_miss"]])[0]))
    stable = math.floor(float(np.quantile(off_topic, 0.05)) * 100) / 100
    high = math.ceil(float(np.quantile(correct, 0.90)) * 100) / 100
    high = max(high, stable + 0.02)
    bands = Bands(round(stable, 2), round(high, 2), f"calibrated on {len(pairs)} pairs")
    near_correct = [c for c, p in zip(correct, pairs, strict=True) if p.get("near_miss")]
    return Calibration(
        bands=bands,
        correct=correct,
        off_topic=off_topic,
        near_miss=near_miss,
        auc_off_topic=_auc(correct, off_topic),
        auc_near_miss=_auc(near_correct, near_miss) if near_miss else None,
    )
