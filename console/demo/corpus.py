"""The demo service's corpus: runbook sections cut into snippets, each under a section anchor.

Two builds of the index: CURRENT (what the manifest declares) and PREVIOUS (what a stale index
still serves: one section missing, some snippets in their old wording).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    id: str
    section: str
    anchor: str
    text: str


# section id -> (title, [(anchor, text), ...])
_SECTIONS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "rollback": (
        "Rollback and fast recovery",
        [
            (
                "rollback.triggers",
                "Roll back a release when error rate or p95 latency leaves its budget after a deploy, or when answers start citing the wrong sources.",
            ),
            (
                "rollback.steps",
                "To roll back, point the service at the last known-good release, redeploy that release, and keep the bad release for the postmortem.",
            ),
            (
                "rollback.verify",
                "After a rollback, verify the release: error rate, p95 latency, coverage and ΔS must return to the known-good baseline within ten minutes.",
            ),
            (
                "rollback.comms",
                "Announce the rollback of the bad release on the incident channel and the status page, with the release tag you rolled back to.",
            ),
        ],
    ),
    "cache": (
        "Cache warm-up and invalidation",
        [
            (
                "cache.warmup",
                "Warm the cache with the popular queries before a new instance takes traffic; a cold cache makes the first calls slow.",
            ),
            (
                "cache.invalidation",
                "Invalidate cached answers when the index or the prompt changes, or stale answers keep being served.",
            ),
            (
                "cache.namespace",
                "Rotate the cache namespace on every index swap so no entry built on the old index survives.",
            ),
            (
                "cache.hit-ratio",
                "Watch the cache hit ratio: a sudden drop after a deploy means the cache was flushed or keys changed.",
            ),
        ],
    ),
    "rate-limits": (
        "Rate limits and backpressure",
        [
            (
                "rate-limits.429",
                "HTTP 429 Too Many Requests means the rate limit was hit; every 429 must carry a Retry-After header.",
            ),
            (
                "rate-limits.backoff",
                "Clients retry a 429 after the Retry-After delay with exponential backoff and jitter, never in a tight loop.",
            ),
            (
                "rate-limits.budgets",
                "Keep the share of 429 answers under half a percent; above that, raise the limit or shed load.",
            ),
            (
                "rate-limits.queues",
                "Bound every queue and apply backpressure to producers instead of letting latency grow without limit.",
            ),
        ],
    ),
    "index": (
        "Vector index build and swap",
        [
            (
                "index.build",
                "Build the new vector index beside the live one; never rebuild the live index in place.",
            ),
            (
                "index.hash",
                "Compare the live index hash with the manifest's index hash before and after every swap.",
            ),
            (
                "index.counts",
                "The live document count and chunk count must equal the manifest's counts: zero silent mismatches.",
            ),
            (
                "index.swap",
                "Swap the index by repointing the alias atomically, and keep the old build for a fast swap back.",
            ),
        ],
    ),
    "pins": (
        "Version pinning and model lock",
        [
            (
                "pins.model",
                "Pin the model name with its date so a provider update cannot change answers silently.",
            ),
            ("pins.prompt", "Pin the prompt template version and log it with every answer."),
            (
                "pins.embedder",
                "Pin the embedder version: vectors from another embedder are not comparable with the index.",
            ),
            (
                "pins.lock",
                "The version lock lists model, prompt, embedder and index; a deploy whose pins differ from the lock is blocked.",
            ),
        ],
    ),
    "idempotency": (
        "Idempotency and dedupe",
        [
            (
                "idempotency.keys",
                "Every write carries an Idempotency-Key header; retries reuse the same key.",
            ),
            (
                "idempotency.dedupe",
                "The server stores each key with its first result and answers replays from the store, so a retry never causes a second side effect.",
            ),
            (
                "idempotency.replay",
                "Replay a write with the same key several times: exactly one side effect must result.",
            ),
            (
                "idempotency.ttl",
                "Keep idempotency keys at least as long as clients may retry, usually 24 hours.",
            ),
        ],
    ),
    "read-only": (
        "Read-only mode and maintenance window",
        [
            (
                "read-only.enter",
                "Enter read-only mode before a risky migration: reads keep working, writes are refused.",
            ),
            (
                "read-only.writes",
                "In read-only mode writes are refused with 423 Locked or 503 and a Retry-After header.",
            ),
            (
                "read-only.banner",
                "Show a maintenance banner while the service is read-only so users know writes are paused.",
            ),
            (
                "read-only.exit",
                "Leave read-only mode only after the migration is verified, and watch the write error rate.",
            ),
        ],
    ),
    "flags": (
        "Feature flags and kill switches",
        [
            ("flags.kill-switch", "A kill switch turns a feature off in seconds without a deploy."),
            (
                "flags.rollout",
                "Roll a flag out by percentage and watch error rate and ΔS at each step.",
            ),
            (
                "flags.cleanup",
                "Remove flags that have been fully on for a month; old flags hide dead code paths.",
            ),
        ],
    ),
    "canary": (
        "Staged rollout and canary",
        [
            (
                "canary.stages",
                "Send 1 percent, then 5, 25 and 100 percent of traffic to the canary, holding each stage.",
            ),
            (
                "canary.gates",
                "Each canary stage passes only if p95 latency, error rate and ΔS drift stay within the gates.",
            ),
            (
                "canary.abort",
                "Abort the canary and route all traffic back at the first failed gate.",
            ),
        ],
    ),
    "freeze": (
        "Release calendar and change freeze",
        [
            (
                "freeze.calendar",
                "The release calendar marks freeze windows around peak traffic and holidays.",
            ),
            (
                "freeze.exceptions",
                "During a change freeze only rollbacks, freezes and read-only switches may run.",
            ),
            ("freeze.end", "End the freeze explicitly and record who ended it."),
        ],
    ),
    "shadow": (
        "Shadow traffic mirroring",
        [
            (
                "shadow.mirror",
                "Mirror a share of production traffic to the new build and discard its answers.",
            ),
            (
                "shadow.compare",
                "Compare shadow answers with production: ΔS between them, latency and error rate.",
            ),
        ],
    ),
}

# What the previous build said differently, and what it did not have yet.
_OLD_WORDING = {
    "canary.stages": "Send 10 percent, then 50 and 100 percent of traffic to the canary.",
    "canary.gates": "Each canary stage passes if error rate stays flat.",
}
_NOT_IN_PREVIOUS = {"shadow"}


def _build(previous: bool) -> list[Snippet]:
    out: list[Snippet] = []
    for section, (_title, items) in _SECTIONS.items():
        if previous and section in _NOT_IN_PREVIOUS:
            continue
        for i, (anchor, text) in enumerate(items, 1):
            if previous:
                text = _OLD_WORDING.get(anchor, text)
            out.append(Snippet(f"{section}-{i}", section, anchor, text))
    return out


CURRENT: list[Snippet] = _build(previous=False)
PREVIOUS: list[Snippet] = _build(previous=True)
SECTION_TITLES = {section: title for section, (title, _items) in _SECTIONS.items()}


def index_hash(snippets: list[Snippet]) -> str:
    """Content hash of a build: what the manifest and the live index must agree on."""
    payload = json.dumps([[s.id, s.anchor, s.text] for s in snippets], ensure_ascii=False)
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()[:16]


def anchors_of(section: str) -> list[str]:
    return [anchor for anchor, _text in _SECTIONS[section][1]]


# The gold question of the stability probe, its paraphrases and the section that answers it.
GOLD_QUESTION = "How do I roll back a bad release?"
GOLD_PARAPHRASES = [
    "What are the steps to roll back a broken release?",
    "How can we roll back the release to the last known-good one?",
    "The new release is bad: how do I roll it back and verify?",
]
GOLD_SECTION = "rollback"

# The queries a warm service has in its cache (the warmup probe asks these first).
POPULAR_QUERIES = [
    "what does a 429 mean",
    "how to warm the cache",
    "how to enter read-only mode",
    "how to swap the index",
]

# What the latency probe asks.
LATENCY_QUERY = "rollback steps"
