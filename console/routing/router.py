"""The symptom router: what the engineer types -> the playbooks ranked, each with a short why.

No model and no download: a sparse TF-IDF over three kinds of features, built with numpy from
each playbook's title, summary, symptoms and keywords.

- **words**: light-stemmed tokens, after abbreviations are expanded (``k8s`` -> kubernetes,
  ``idx`` -> index, ``p95`` -> latency, ``429`` -> rate limit; see ``EXPANSIONS``);
- **concepts**: ids from a hand-written lexicon (``LEXICON``) that maps the many ways an
  engineer says one thing to one feature (stale / old / outdated / previous -> ``STALE``;
  charged twice / double / dupe -> ``DUPLICATE`` ...). This is what lets a paraphrase that
  shares no word with a playbook still land on it;
- **character trigrams** of each word, for the typos and word forms the first two miss.

A query word nobody knows ("rollbakc", "latncy") is first corrected to the closest known word
(trigram overlap, then a Damerau-Levenshtein check). A playbook's score mixes its best single
unit (one symptom, the title, the summary or one keyword) with the whole playbook, so one
sharp symptom match wins, and many weak matches still count.

Scores are in [0, 1]; below ~0.15 nothing really matched. Word order does not matter, except
that two adjacent words may be read as one ("roll back" -> rollback).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from console.playbooks import Playbook

STATE_VERSION = 2
"""Bump when the features or the lexicon change, so a cached router state is rebuilt."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ------------------------------------------------------------------------------ lexicon
#
# Abbreviations and jargon -> the words they stand for. The expansion is added next to the
# token itself (so a playbook that says "k8s" still matches "k8s"), and the expanded words
# go through the concept lexicon like any other word. Keys are lower-case raw tokens.
# fmt: off
EXPANSIONS: dict[str, str] = {
    "k8s": "kubernetes", "kube": "kubernetes", "kubectl": "kubernetes",
    "idx": "index", "ix": "index", "reindex": "rebuild index", "reindexed": "rebuild index",
    "reindexing": "rebuild index",
    "rl": "rate limit", "ratelimit": "rate limit", "ratelimited": "rate limit",
    "429": "rate limit throttled", "429s": "rate limit throttled",
    "ro": "read only", "readonly": "read only",
    "rw": "read write",
    "maint": "maintenance", "mw": "maintenance window",
    "migr": "migration", "mig": "migration",
    "dup": "duplicate", "dups": "duplicate", "dupe": "duplicate", "dupes": "duplicate",
    "dedup": "dedupe", "deduplication": "dedupe", "deduplicate": "dedupe",
    "p50": "latency", "p90": "latency", "p95": "latency", "p99": "latency", "p999": "latency",
    "5xx": "server error", "500": "server error", "500s": "server error", "502": "server error",
    "503": "server error", "504": "server error", "502s": "server error", "503s": "server error",
    "4xx": "client error", "400": "client error", "400s": "client error",
    "401": "unauthorized", "401s": "unauthorized", "403": "forbidden",
    "409": "conflict", "423": "locked read only",
    "ttr": "time to recovery", "mttr": "time to recovery",
    "bg": "blue green", "b/g": "blue green",
    "rca": "root cause", "pir": "postmortem", "retro": "postmortem",
    "sev": "severity", "sev1": "severity outage", "sev2": "severity",
    "db": "database", "pg": "postgres", "psql": "postgres",
    "env": "environment", "envs": "environment", "envvar": "env variable",
    "ff": "feature flag", "lkg": "last known good",
    "qps": "traffic load", "rps": "traffic load", "tps": "traffic load",
    "oom": "memory crash", "oomkilled": "memory crash",
    "crashloop": "crash loop restart", "crashloopbackoff": "crash loop restart",
    "readyz": "readiness health", "healthz": "health", "livez": "liveness health",
    "reqs": "requests", "req": "request", "resp": "response", "perf": "latency",
    "deps": "dependency", "dep": "dependency", "svc": "service", "msg": "message",
    "vec": "vector", "emb": "embedding", "embeds": "embedding", "dims": "dimension",
    "dim": "dimension", "ver": "version", "rev": "revision", "revs": "revision",
    "cfg": "config", "conf": "config", "prod": "production", "stg": "staging",
    "pct": "percent", "ci": "ci pipeline", "cd": "deploy pipeline",
    "lb": "load balancer", "alb": "load balancer", "elb": "load balancer",
    "dns": "dns", "ttl": "ttl", "ga": "full rollout", "eta": "eta",
    "gonogo": "go no go", "rc": "release candidate", "preship": "pre ship", "postmortem": "postmortem",
    "writeup": "write up", "w/o": "without", "2x": "twice", "x2": "twice",
    "asap": "now urgent", "rn": "now",
    "llm": "model", "gpt": "model", "openai": "provider", "anthropic": "provider",
    "sha": "hash", "shas": "hash", "checksum": "checksum hash", "checksums": "checksum hash",
}

# Concept id -> the words and phrases that mean it. A phrase of several words matches when
# all its words occur in the text (any order). Entries are stemmed like the text, so
# "charge" also covers "charged" and "charges". Concepts are about what an engineer sees or
# wants, not about one playbook; several playbooks share most of them.
LEXICON: dict[str, tuple[str, ...]] = {
    # --- what is wrong with the answers
    "STALE": ("stale", "old", "older", "outdated", "out of date", "previous", "prior", "legacy",
              "obsolete", "former", "expired", "leftover", "lingering", "last week", "yesterday",
              "superseded", "not updated", "not refreshed", "vA", "deleted", "removed",
              "should be gone", "tombstone", "tombstoned", "predate", "predates"),
    "CITE": ("cite", "citation", "quote", "quoting", "reference", "attribution", "source",
             "sources", "grounding"),
    "SNIPPET": ("snippet", "passage", "excerpt", "chunk", "doc", "docs", "document", "corpus",
                "content", "article", "anchor"),
    "ANSWER": ("answer", "response", "reply", "output", "completion", "result"),
    "WRONG": ("wrong", "incorrect", "bad", "garbage", "nonsense", "broken", "weird",
              "hallucinate", "hallucination", "junk", "irrelevant", "degrade"),
    "MIXED": ("mixed", "mix", "blend", "blended", "both versions", "two versions", "alternate",
              "alternately", "flip flop", "inconsistent", "half", "some users", "split brain",
              "cross arm", "across versions", "old and new"),
    "UNSTABLE": ("unstable", "flaky", "flap", "flapping", "jitter between runs", "nondeterministic",
                 "non deterministic", "varies", "flip between", "different every"),
    "QUALITY": ("delta s", "deltas", "ds", "Δs", "coverage", "lambda", "λ", "gold", "golden",
                "gold set", "paraphrase", "precision", "recall", "eval", "evaluation", "quality",
                "drift"),
    # --- index and retrieval
    "INDEX": ("index", "indexes", "indices", "indexer", "faiss", "hnsw", "ivf", "ntotal", "docs_live",
              "docs_vb", "docs_va", "vector index", "collection"),
    "ALIAS": ("alias", "pointer", "ptr", "index_ptr", "repoint", "point", "points", "aliased"),
    "SWAP": ("swap", "swapped", "switch", "switched", "switchover", "flip", "flipped", "cutover",
             "cut over", "repoint", "move traffic", "shift traffic", "route traffic",
             "swap over", "switch over", "fail back"),
    "HASH": ("hash", "checksum", "sha", "digest", "fingerprint", "index_hash"),
    "MISMATCH": ("mismatch", "mismatched", "match", "differ", "different", "diverge",
                 "divergence", "disagree", "inconsistent", "not equal", "doesnt match",
                 "dont match", "off by", "skew"),
    "COUNT": ("count", "counts", "number", "fewer", "missing docs", "cardinality", "ntotal",
              "rows", "row count", "how many"),
    "EMBED": ("embedding", "embed", "embedder", "vector", "vectors", "dimension", "norm",
              "normalize", "normalization", "cosine", "metric", "re embed", "reembed"),
    "REBUILD": ("rebuild", "rebuilt", "reindex", "re embed", "reembed", "regenerate",
                "recreate", "offline build", "index build", "build index", "new index"),
    "RETRIEVAL": ("retrieval", "retriever", "retrieve", "search", "rerank", "reranker", "top k",
                  "topk", "neighbors", "neighbours", "recall"),
    "EMPTY": ("empty", "null", "nothing", "no results", "zero results", "blank", "none"),
    # --- cache
    "CACHE": ("cache", "cached", "caching", "redis", "memcache", "memcached", "cdn", "ttl",
              "l1", "l2"),
    "WARM": ("warm", "warmup", "warm up", "cold", "prime", "primed", "preload", "prewarm",
             "pre warm", "hydrate", "cold cache", "first requests slow"),
    "STAMPEDE": ("stampede", "thundering herd", "herd", "dogpile", "single flight",
                 "singleflight", "cache miss storm"),
    "INVALIDATE": ("invalidate", "invalidation", "evict", "eviction", "purge", "flush", "bust",
                   "namespace", "rotate", "clear cache", "scan delete", "key", "keys", "prefix",
                   "poison", "poisoned", "shared cache", "sharing cache", "share cache",
                   "same namespace", "partition"),
    # --- load
    "RATELIMIT": ("rate limit", "rate limited", "rate limiting", "throttle", "throttled",
                  "throttling", "quota", "too many requests", "limiter", "token bucket", "tpm",
                  "rpm", "limit", "limits"),
    "BACKPRESSURE": ("backpressure", "back pressure", "load shedding", "shed", "shedding",
                     "admission", "concurrency", "concurrent", "bulkhead", "circuit breaker",
                     "breaker", "saturation", "saturated", "overload", "overloaded", "cap",
                     "caps"),
    "QUEUE": ("queue", "queues", "backlog", "queue depth", "backed up", "pile up", "piling",
              "lag", "waiting queue"),
    "LOAD": ("load", "traffic spike", "peak traffic", "surge", "burst", "bursty", "heavy",
             "traffic load", "spike in traffic", "flood"),
    "TIMEOUT": ("timeout", "timeouts", "timed out", "time out", "deadline", "deadlines",
                "hang", "hangs", "hanging"),
    "LATENCY": ("latency", "latencies", "slow", "slowness", "sluggish", "tail", "response time",
                "p95", "p99", "percentile", "ms"),
    "SPIKE": ("spike", "spikes", "spiking", "blew up", "blow up", "blows up", "exploded",
              "explode", "through the roof", "doubled", "climb", "climbing", "jump", "jumped",
              "balloon", "skyrocket", "went up", "goes up", "shot up", "tanked", "tank",
              "multiplied", "tripled"),
    "SERVER_ERROR": ("server error", "5xx", "500", "502", "503", "504", "error rate",
                     "errors", "error", "failing", "failures"),
    # --- feature flags and rollout
    "FLAG": ("flag", "flags", "feature flag", "toggle", "toggles", "kill switch", "killswitch",
             "launchdarkly", "unleash", "flipper", "switch off", "turn off", "dark feature"),
    "LEAK": ("leak", "leaking", "leaks", "bleed", "bleeding", "bleeds", "spill", "exposed",
             "visible", "by mistake", "should not see", "shouldnt see", "targets everyone"),
    "UNFINISHED": ("unfinished", "half built", "half done", "wip", "incomplete", "unreleased",
                   "not ready", "experimental", "beta", "in progress", "unfinished path",
                   "half finished"),
    "STICKY": ("sticky", "bounce", "bouncing", "flip flop", "assignment", "cohort", "bucket",
               "tenant", "per user", "session", "stickiness"),
    "CANARY": ("canary", "canaries", "ramp", "ramping", "ramp up", "staged", "stage", "stages",
               "progressive", "gradual", "incremental", "phased", "graduate", "graduation",
               "canary weight", "canary-weight", "tier", "percent", "5 percent",
               "25 percent", "50 percent", "gradual rollout", "staged rollout",
               "phased rollout", "percentage rollout", "partial rollout", "argo", "flagger",
               "argo rollouts", "rollout step", "canary step", "step weight"),
    "FULL_ROLLOUT": ("full rollout", "100", "everyone", "all traffic", "all users",
                     "general availability", "full traffic", "100 percent", "whole fleet"),
    "BLUEGREEN": ("blue", "green", "blue green", "arm", "stack", "stacks", "selector", "ingress",
                  "load balancer", "dns", "weight", "traffic switch", "standby", "passive",
                  "idle", "color", "colour", "active passive", "other stack",
                  "other environment", "parallel stack"),
    "SHADOW": ("shadow", "mirror", "mirroring", "mirrored", "tee", "dark launch",
               "dark traffic", "replay production", "copy traffic", "copies of traffic",
               "side by side", "offline compare", "without serving", "not served", "diffy",
               "throw away", "thrown away", "discard", "discarded", "copied traffic",
               "compare answers", "never returned", "not returned to users", "compare",
               "comparing", "comparison", "without exposing", "without user impact",
               "no user impact", "in parallel", "real requests", "live requests"),
    # --- versions and pins
    "PIN": ("pin", "pinned", "pinning", "lock", "locked", "model lock", "version lock",
            "version", "versions", "revision", "manifest", "model id", "model_ver",
            "prompt_ver", "build id", "build_id", "git_sha", "x wfgy", "header",
            "reranker config", "rerank config", "rerank_conf", "analyzer", "decoding params",
            "temperature", "config drift", "snapshot"),
    "MODEL": ("model", "models", "provider", "vendor", "gpt", "claude", "gpt 4o",
              "checkpoint", "llm", "endpoint model"),
    "PROMPT": ("prompt", "prompts", "prompt pack", "template", "system prompt", "header"),
    "SILENT": ("silent", "silently", "quietly", "unannounced", "overnight", "without notice",
               "snuck", "unexpected", "unexpectedly", "behind our back", "minor update",
               "auto update", "without telling", "without warning", "no notice",
               "didnt tell", "never told", "without asking", "upgraded itself",
               "updated itself", "changed itself", "by itself", "on its own", "auto upgrade",
               "auto upgraded", "nobody deployed", "nothing deployed", "no one deployed",
               "without a deploy", "no code change", "nobody changed", "nothing changed"),
    "FAILOVER": ("failover", "fail over", "failed over", "backup provider", "disaster recovery",
                 "secondary", "fallback", "region failover", "dr"),
    "ENVDIFF": ("staging", "prod vs staging", "parity", "what we tested", "what we validated",
                "than staging", "from staging", "not what we tested"),
    "REGION": ("region", "regions", "regional", "zone", "az", "us east", "eu", "apac"),
    # --- side effects
    "DUPLICATE": ("duplicate", "duplicated", "duplicates", "double", "twice", "two times",
                  "identical", "three times", "3 times", "n times", "several times",
                  "2 times", "repeat", "repeated", "replay", "replayed", "again and again",
                  "multiple times", "more than once", "x2", "second time", "dedupe"),
    "SIDE_EFFECT": ("charge", "charged", "bill", "billed", "billing", "payment", "pay", "paid",
                    "refund", "invoice", "transaction", "purchase", "side effect", "effect",
                    "webhook", "ticket", "order", "email sent", "write twice", "double write"),
    "IDEMPOTENCY": ("idempotency", "idempotent", "idempotency key", "dedupe", "dedup",
                    "exactly once", "fence", "fences", "at most once", "receipt", "request id",
                    "same request", "same key", "same event", "event id"),
    "RETRY": ("retry", "retries", "retried", "retrying", "re try", "resend", "resent", "resends",
              "re send", "re sends", "try again", "tries again",
              "reattempt", "retry after", "retry_after"),
    "BACKOFF": ("backoff", "back off", "jitter", "exponential", "retry after", "retry_after",
                "honor retry", "sleep", "same instant", "same time", "synchronized",
                "thundering", "no delay", "without delay", "tight loop", "hot loop",
                "retry immediately", "immediate retry", "max attempts", "retry budget",
                "every hop", "each hop", "backoff cap", "max backoff", "retry cap",
                "backoff too long", "wait between retries"),
    "STORM": ("storm", "storms", "hammer", "hammering", "avalanche", "cascade", "cascading",
              "barrage", "tons", "flood", "flooding", "herd", "amplification"),
    # --- recovery and incident handling
    "ROLLBACK": ("rollback", "roll back", "rolled back", "revert", "reverted", "undo",
                 "back out", "restore", "last known good", "take back", "go back",
                 "downgrade", "previous version", "last good", "pull back", "abort",
                 "helm rollback", "hard stop"),
    "URGENT": ("now", "asap", "immediately", "quick", "quickly", "fast", "urgent", "fire",
               "on fire", "burning", "everything broken", "right now"),
    "RECOVERY": ("recover", "recovery", "time to recovery", "mitigate", "mitigation",
                 "restore service", "get back"),
    "POSTMORTEM": ("postmortem", "post mortem", "post incident", "post-incident", "retro",
                   "retrospective", "root cause", "write up", "lessons learned",
                   "action items", "five whys", "5 whys", "blameless", "incident review",
                   "review doc", "follow up", "follow ups", "owners"),
    "REGRESSION": ("regression", "regression test", "test", "tests", "happen again",
                   "happened again", "recurrence", "recur", "never again", "came back",
                   "is back", "catch this", "prevent"),
    "FREEZE": ("freeze", "frozen", "code freeze", "change freeze", "moratorium", "blackout",
               "hard freeze", "soft freeze", "no deploy", "deploy freeze"),
    "CALENDAR": ("calendar", "schedule", "holiday", "black friday", "cyber monday", "weekend",
                 "launch week", "peak", "season", "seasonal", "quarter end", "billing cycle",
                 "audit", "thin on call", "friday"),
    "EXCEPTION": ("exception", "t0", "t1", "t2", "t3", "approval", "approve", "approver",
                  "waiver", "override", "hotfix", "emergency fix", "break glass"),
    "COMMS": ("comms", "communication", "communicate", "announce", "announcement", "notify",
              "notification", "tell", "message", "messaging", "customers", "stakeholders",
              "exec", "execs", "support", "slack", "email", "tweet", "eta", "update",
              "updates", "draft", "users asking"),
    "STATUSPAGE": ("status page", "statuspage", "status", "banner", "degraded",
                   "major outage", "partial outage", "in app banner", "status site"),
    "OUTAGE": ("outage", "incident", "down", "downtime", "severity", "s1", "s2"),
    # --- writes, maintenance, migrations
    "READ_ONLY": ("read only", "read-only", "readonly", "block writes", "disable writes",
                  "stop writes", "pause writes", "no writes", "writes blocked", "refuse writes",
                  "423", "locked", "freeze writes", "freeze ingestion", "pause ingestion",
                  "stop ingestion", "halt writes", "writes still", "still writing",
                  "writes landing"),
    "STOP": ("stop", "block", "blocked", "disable", "disabled", "pause", "paused", "halt",
             "reject", "rejected", "refuse", "refused", "suspend", "deny", "denied"),
    "MAINTENANCE": ("maintenance", "maintenance window", "planned work", "planned downtime",
                    "scheduled work", "window"),
    "WRITE": ("write", "writes", "writer", "writers", "upsert", "mutation", "mutations",
              "insert", "ingest", "update rows", "delete rows",
              "ingestion", "job", "jobs", "cron", "crons", "compaction"),
    "CORRUPT": ("corrupt", "corrupted", "corruption", "mangled", "garbled", "damaged",
                "clobbered", "overwritten", "broken anchors", "trashed"),
    "MIGRATION": ("migration", "migrate", "migrating", "migrated", "moving to", "move to",
                  "port to", "schema change", "alembic", "flyway", "liquibase", "cutover",
                  "moving"),
    "DATABASE": ("database", "postgres", "pgvector", "mysql", "table", "tables", "schema",
                 "row", "rows", "column", "qdrant", "milvus", "weaviate", "pinecone",
                 "elasticsearch", "opensearch", "vector store", "vectorstore", "vector db",
                 "store", "chroma", "vespa", "typesense"),
    "BACKFILL": ("backfill", "backfilled", "dual write", "dual writes", "dual-write", "batch",
                 "batches", "copy rows", "reconcile", "reconciliation"),
    "DATA_LOSS": ("data loss", "lost", "lose", "missing rows", "row count", "rows missing",
                  "loss"),
    # --- boot, deadlock, first call
    "BOOT": ("boot", "bootstrap", "startup", "start up", "starting", "start", "starts", "init",
             "initialization", "initialize", "cold start", "comes up", "spin up", "come up"),
    "ORDER": ("order", "ordering", "sequence", "before", "too early", "dependency order",
              "topological", "dag", "race", "not up", "not up yet", "not ready yet",
              "comes up before", "starts before", "before ready", "too soon"),
    "HEALTH": ("health", "healthz", "readyz", "livez", "readiness", "liveness", "probe",
               "probes", "ping", "ready", "heartbeat", "health check", "reachable",
               "unreachable", "online", "available yet", "not up yet"),
    "DEADLOCK": ("deadlock", "dead lock", "circular", "cycle", "cyclic", "waiting on each other",
                 "wait on each other", "waits on", "chicken and egg", "mutual", "stuck", "never",
                 "forever", "each other", "waiting", "pending", "waits for", "wait for"),
    "CRASHLOOP": ("crashloop", "crash loop", "crashloopbackoff", "restart loop", "restarting",
                  "restarts", "endless restarts", "restart", "keeps restarting"),
    "K8S": ("kubernetes", "pod", "pods", "container", "containers", "helm", "replica",
            "replicas", "node", "deployment yaml", "init container", "job"),
    "PREFLIGHT": ("preflight", "pre deploy", "predeploy", "first call", "first request",
                  "ci green", "passed ci", "version skew", "skew", "first container",
                  "green ci"),
    "SECRET": ("secret", "secrets", "api key", "vault", "credential", "credentials",
               "env variable", "env var", "environment variable", "unauthorized", "kms",
               "missing key", "key missing"),
    "TOOLCHAIN": ("tokenizer", "checkpoint", "cuda", "driver", "gpu", "nvidia", "139",
                  "segfault", "template var", "template vars", "templatevar", "unresolved",
                  "placeholder", "placeholders", "unrendered", "literal", "pytorch",
                  "torch", "misspelled", "typo", "shas differ"),
    "CRASH": ("crash", "crashes", "crashed", "dies", "died", "dead", "segfault", "panic",
              "exit", "exits", "exit code", "fails to start", "blows up on start"),
    # --- shipping
    "DEPLOY": ("deploy", "deployment", "release", "rollout", "roll out", "push", "ship",
               "launch", "go live", "promote", "merge", "cut release", "cutting release",
               "release candidate", "rc"),
    "SHIP_GATE": ("go no go", "safe to ship", "ready to ship", "ok to ship", "can we ship",
                  "should we ship", "safe to deploy", "safe to release", "ok to deploy",
                  "ok to release", "readiness gate", "checklist", "sign off", "signoff",
                  "release criteria", "acceptance", "pre ship", "ready to release",
                  "green light", "is it ok", "unsure", "not sure", "pre prod",
                  "preprod", "validation", "sanity check", "acceptance targets",
                  "release candidate", "no go", "meet the targets", "blocker",
                  "rollout readiness", "release readiness", "launch readiness"),
}

# Words that carry no meaning on their own. They still trigger concepts (see LEXICON:
# "before", "now", "twice" matter), but never become word features.
STOPWORDS = _words("""
a an the is are was were be been being to of in on at for from with by and or but it its
this that these those we our us i me my you your they them their he she do does did have has
had so as if then than there here what which who how why when where all any some just very
can could should would will get got getting keep keeps still again after since not no dont
doesnt isnt cant wont didnt also into out up about over under more most much many like
one lot lots really please help need needs want wants seems seem ok okay hey guys anyone
while via per off yet even though because whether onto upon each every both other others
""")

# Everyday English the spelling corrector must leave alone: "exists" is not a typo of
# "exits", nor "looked" of "locked". Compared by stem, so inflections are covered.
COMMON_WORDS = _words("""
able about above across act actual add again against ago allow almost alone along already
also always among amount another answer anybody anyone anything anyway appear apply area
around arrive ask asked away back bad base basic become began begin behind believe below
best better between beyond big bit both bottom bring broke brought build busy call came
care carry case cause certain chance change check choose claim class clean clear close
come coming common complete consider continue copy correct cost could count couple course
cover create current cut day dead deal decide deep did different doing done down draw drop
during each early easy either else end enough entire even ever every exact example except
exist expect explain fact fail fair fall far feel felt few field fill find fine finish fix
follow force form forward found free friend front full gave general give given goes going
gone good great group grow guess half hand happen hard head hear heard heavy held hello
high hold home hope hour huge idea important include inside instead into itself job join
just kept kind knew know known large last late later lead least leave left less let level
life light likely line list listen little live long look lose lot loud love low made main
make making many matter maybe mean meant meet mind minute miss moment more morning most
move much must name near nearly never next nice night none normal note nothing notice
number often old once only open order other others out over own page part pass past pay
people perhaps person pick piece place plan play please plus point possible post pretty
probably problem pull push put quite rather reach read ready real really reason recent
remember rest return right room round run said same saw say second see seem seen send sense
sent serve set several shall short should show shown side simple since single sit size
small some someone something sometimes soon sort sound speak special spend stand start
state stay step still stop story strange such suddenly suppose sure take taken talk tell
than thank that their them then there these they thing think those though thought three
through throw time today together told tomorrow tonight took top toward tried true try turn
under until upon usual very wait walk want watch water week well went were what whatever
when where whether which while white whole whose wide will wish with within without word
work world worse worst would write wrote year yes yet your literal render exit exists
""")
# fmt: on


_COMMON_STEMS: frozenset[str] | None = None


def _common_stems() -> frozenset[str]:
    global _COMMON_STEMS
    if _COMMON_STEMS is None:
        _COMMON_STEMS = frozenset(stem(w) for w in COMMON_WORDS)
    return _COMMON_STEMS


_TOKEN_INFO: dict[str, tuple[str, float]] = {}


def _token_info(tok: str) -> tuple[str, float]:
    """(stem, base weight): 0 for a stopword, GENERIC_WEIGHT for everyday words, else 1."""
    hit = _TOKEN_INFO.get(tok)
    if hit is None:
        st = stem(tok)
        if tok in STOPWORDS or st in STOPWORDS or len(st) < 2:
            base = 0.0
        elif tok in GENERIC or st in _common_stems():
            base = GENERIC_WEIGHT
        else:
            base = 1.0
        hit = (st, base)
        if len(_TOKEN_INFO) < 50_000:
            _TOKEN_INFO[tok] = hit
    return hit


# ------------------------------------------------------------------------------ text

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
    (re.compile(r"\{\{|\}\}|\$\{"), " templatevar "),        # {{var}} / ${var} left in a prompt
    (re.compile(r"\brc\d+\b"), " rc "),                          # rc2 -> release candidate
)
# fmt: on
_TOKEN = re.compile(r"[a-z0-9]+")


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


_PRE_TRIGGER = re.compile(r"[\u0394\u03b4\u03bb/%'\u2019{}]|\dx\b|\d\s+x\b|\brc\d")


def _raw_tokens(text: str) -> list[str]:
    t = text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).lower()
    if _PRE_TRIGGER.search(t):
        for rx, rep in _PRE:
            t = rx.sub(rep, t)
    return _TOKEN.findall(t)


def _expand(
    tokens: Sequence[str], known: Any = None, shown: Sequence[str] | None = None
) -> list[tuple[str, str, float]]:
    """(token, surface, weight): each raw token, plus the words its abbreviation stands for.

    An expansion counts half when the abbreviation itself is a known word (the playbooks say
    "p95" too), so one token never weighs as much as two real words.
    """
    out: list[tuple[str, str, float]] = []
    for i, tok in enumerate(tokens):
        surf = shown[i] if shown is not None else tok
        out.append((tok, surf, 1.0))
        exp = EXPANSIONS.get(tok)
        if exp:
            w = 1.0 if known is not None and not known(tok) else 0.5
            out.extend((e, surf, w) for e in exp.split() if e != tok)
    return out


class _Lexicon:
    """The compiled LEXICON: stemmed single words and stemmed multi-word sets -> concepts."""

    def __init__(self) -> None:
        self.single: dict[str, list[str]] = {}
        self.multi: list[tuple[frozenset[str], str]] = []
        self.multi_by_word: dict[str, list[int]] = {}
        self.surface_words: set[str] = set()
        for concept, phrases in LEXICON.items():
            for phrase in phrases:
                toks = _raw_tokens(phrase)
                self.surface_words.update(toks)
                stems = [stem(t) for t in toks]
                if not stems:
                    continue
                if len(stems) == 1:
                    lst = self.single.setdefault(stems[0], [])
                    if concept not in lst:
                        lst.append(concept)
                else:
                    idx = len(self.multi)
                    self.multi.append((frozenset(stems), concept))
                    for st in set(stems):
                        self.multi_by_word.setdefault(st, []).append(idx)
        for exp in EXPANSIONS.values():
            self.surface_words.update(exp.split())
        self.surface_words.update(EXPANSIONS)
        self._speller: _Speller | None = None

    def speller(self) -> _Speller:
        """Spelling candidates among the lexicon's own words ("latncy" -> "latency")."""
        if self._speller is None:
            self._speller = _Speller(w for w in self.surface_words if w not in STOPWORDS)
        return self._speller

    def match(self, stems: set[str]) -> tuple[dict[str, set[str]], set[str]]:
        """(concept -> the stems that evoked it, the stems explained by a multi-word phrase)."""
        found: dict[str, set[str]] = {}
        candidates: set[int] = set()
        for st in stems:
            hit = self.single.get(st)
            if hit:
                for c in hit:
                    found.setdefault(c, set()).add(st)
            more = self.multi_by_word.get(st)
            if more:
                candidates.update(more)
        in_phrase: set[str] = set()
        phrased: dict[str, set[str]] = {}
        for i in candidates:
            words, c = self.multi[i]
            if words <= stems:
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


_LEX: _Lexicon | None = None


def _lexicon() -> _Lexicon:
    global _LEX
    if _LEX is None:
        _LEX = _Lexicon()
    return _LEX


def _trigrams(word: str) -> list[str]:
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


def _typo_distance(a: str, b: str, limit: float) -> float:
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


class _Speller:
    """Candidate corrections for a misspelt word, by shared character trigrams."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = sorted({w for w in words if len(w) >= 3 and w.isalpha()})
        self.index: dict[str, list[int]] = {}
        for j, w in enumerate(self.words):
            for t in set(_trigrams(w)):
                self.index.setdefault(t, []).append(j)

    def candidates(self, tok: str, k: int = 8) -> list[tuple[str, float]]:
        grams = set(_trigrams(tok))
        counts: dict[int, int] = {}
        for t in grams:
            for j in self.index.get(t, ()):
                counts[j] = counts.get(j, 0) + 1
        scored = sorted(
            ((2 * c / (len(grams) + len(self.words[j]) + 2), j) for j, c in counts.items()),
            reverse=True,
        )[:k]
        return [(self.words[j], sc) for sc, j in scored]


# ------------------------------------------------------------------------------ features

CONCEPT_WEIGHT = 2.0
"""A concept feature's weight relative to a word feature (before IDF)."""
GENERIC_WEIGHT = 0.35
"""Weight of a GENERIC word: it is said in every incident, so it says little about which."""
IN_PHRASE_WEIGHT = 0.5
"""Weight of a word already explained by a multi-word lexicon phrase ("helm" in "helm rollback")."""
W_UNIT, W_DOC, W_CHAR = 0.40, 0.45, 0.15
"""How a playbook's score mixes its best unit, the whole playbook and character trigrams."""
MATCHED_AT = 0.45
"""A unit at or above this cosine is quoted in `why` as the matched phrase."""

# Words an engineer uses in every incident; rare in the playbooks only by chance, so their
# IDF would otherwise make them look decisive.
GENERIC = _words("""
prod production new tonight today yesterday week service services system systems app api
issue issues problem problems thing things stuff everything something anything team our
build builds
""")


@dataclass(frozen=True)
class RouteResult:
    """One ranked playbook: its id and title, a score in [0, 1] and why it was picked."""

    id: str
    title: str
    score: float
    why: str


@dataclass
class _Analysed:
    """A text as features: feature -> weight, and feature -> the surface words behind it."""

    feats: dict[str, float]
    surfaces: dict[str, set[str]]
    words: list[str]
    raw: list[str]
    fixes: list[str]
    """Typo corrections made, shown as "rollbakc\u2192rollback"."""


def _analyse(
    text: str, correct: Any = None, known: Any = None, track: bool = True, glue: Any = None
) -> _Analysed:
    """Features of one text; `track` also records which surface words produced each feature.

    `correct` fixes typos token by token, `known(token)` says whether the playbooks use a
    token, `glue(word)` whether two adjacent tokens written together make a known word.
    """
    raw = _raw_tokens(text)
    shown = None
    if correct is not None:
        fixed = [correct(t) for t in raw]
        if fixed != raw:
            shown = [f"{o}\u2192{f}" if o != f else o for o, f in zip(raw, fixed, strict=True)]
        raw = fixed
    triples = _expand(raw, known, shown)
    # glue split compounds ("roll back" -> "rollback", "re-sends" -> "resends")
    if len(raw) > 1:
        lex_words = _lexicon().surface_words
        for a, b in pairwise(raw):
            ab = a + b
            if ab in _COMPOUNDS or ab in lex_words or (glue is not None and glue(ab)):
                triples.append((ab, f"{a} {b}", 1.0))
    infos = [_token_info(t) for t, _, _ in triples]
    concepts, in_phrase = _lexicon().match({st for st, _ in infos})
    feats: dict[str, float] = {}
    feat_surf: dict[str, set[str]] = {}
    stem_surf: dict[str, set[str]] = {}
    words: list[str] = []
    for (_, surf, w), (st, base) in zip(triples, infos, strict=True):
        if track:
            stem_surf.setdefault(st, set()).add(surf)
        if not base:
            continue
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
        feats[f] = CONCEPT_WEIGHT
        if track:
            feat_surf[f] = {x for st in sts for x in stem_surf.get(st, ())}
    fixes = [x for x in shown if "\u2192" in x] if shown else []
    return _Analysed(feats, feat_surf, words, raw, fixes)


# Split forms an engineer types as two words; glued back so they meet the one-word form.
# fmt: off
_COMPOUNDS = frozenset({
    "rollback", "readonly", "postmortem", "statuspage", "backpressure", "deadlock",
    "crashloop", "warmup", "killswitch", "dedupe", "backoff", "failover", "switchover",
    "cutover", "bluegreen", "predeploy", "preflight", "writeup", "backfill", "hotfix",
    "ratelimit", "singleflight", "healthcheck", "startup", "signoff", "gonogo",
})
# fmt: on


# ------------------------------------------------------------------------------ router


class Router:
    """Ranks playbooks for a free-text symptom. Build once per catalogue; route per keystroke."""

    def __init__(
        self,
        ids: list[str],
        titles: list[str],
        unit_text: list[str],
        unit_kind: list[str],
        unit_pb: np.ndarray,
        features: list[str],
        idf: np.ndarray,
        unit_mat: np.ndarray,
        doc_mat: np.ndarray,
        grams: list[str],
        gram_idf: np.ndarray,
        char_mat: np.ndarray,
        known: list[str],
    ) -> None:
        import numpy as np

        self.ids = ids
        self.titles = titles
        self.unit_text = unit_text
        self.unit_kind = unit_kind
        self.unit_pb = np.asarray(unit_pb, dtype=np.int32)
        self.features = features
        self.fidx = {f: i for i, f in enumerate(features)}
        self.idf = np.asarray(idf, dtype=np.float32)
        self.unit_mat = np.asarray(unit_mat, dtype=np.float32)
        self.doc_mat = np.asarray(doc_mat, dtype=np.float32)
        self.grams = grams
        self.gidx = {g: i for i, g in enumerate(grams)}
        self.gram_idf = np.asarray(gram_idf, dtype=np.float32)
        self.char_mat = np.asarray(char_mat, dtype=np.float32)
        self.known = known
        self._known_set = frozenset(known) | STOPWORDS | _lexicon().surface_words
        self._raw_vocab = frozenset(known)
        lex_words = _lexicon().surface_words
        self._speller = _Speller(w for w in known if w not in lex_words and w not in STOPWORDS)
        # units are grouped by playbook, so a reduceat over these starts gives per-playbook max
        self._starts = np.searchsorted(self.unit_pb, np.arange(len(ids))).astype(np.int64)
        counts = np.bincount(self.unit_pb, minlength=len(ids))[: len(ids)]
        self._has_units = counts > 0
        self._starts = np.minimum(self._starts, max(len(self.unit_pb) - 1, 0))
        self._corrections: dict[str, str] = {}
        # the units `why` may quote: symptoms and titles (not keywords or summaries)
        self._quotable = np.isin(np.array(unit_kind, dtype=str), ["symptom", "title"])

    # ---------------------------------------------------------------- building

    @classmethod
    def from_playbooks(cls, playbooks: Iterable[Playbook]) -> Router:
        import numpy as np

        pbs = list(playbooks)
        ids = [p.id for p in pbs]
        titles = [p.title for p in pbs]
        unit_text: list[str] = []
        unit_kind: list[str] = []
        unit_pb: list[int] = []
        analysed: list[_Analysed] = []
        doc_feats: list[dict[str, float]] = []
        doc_words: list[list[str]] = []
        for i, p in enumerate(pbs):
            units = [(p.title, "title"), (p.summary, "summary")]
            units += [(s, "symptom") for s in p.symptoms]
            units += [(k, "keyword") for k in p.keywords]
            units += [(p.id.replace("_", " "), "id")]
            merged: dict[str, float] = {}
            words: list[str] = []
            for text, kind in units:
                a = _analyse(text, track=False)
                if not a.feats:
                    continue
                unit_text.append(text)
                unit_kind.append(kind)
                unit_pb.append(i)
                analysed.append(a)
                for f, v in a.feats.items():
                    merged[f] = merged.get(f, 0.0) + v
                words.extend(a.raw)
            doc_feats.append(merged)
            doc_words.append(words)

        n = max(len(pbs), 1)
        df: dict[str, int] = {}
        for d in doc_feats:
            for f in d:
                df[f] = df.get(f, 0) + 1
        features = sorted(df)
        fidx = {f: j for j, f in enumerate(features)}
        idf = np.array([_idf(df[f], n) for f in features], dtype=np.float32)

        unit_mat = _tfidf_matrix([a.feats for a in analysed], fidx, idf)
        doc_mat = _tfidf_matrix(doc_feats, fidx, idf)

        # character trigrams per distinct word, per playbook
        gdf: Counter[str] = Counter()
        doc_grams: list[dict[str, float]] = []
        word_grams: dict[str, list[str]] = {}
        for words in doc_words:
            g: Counter[str] = Counter()
            for w in set(words):
                if len(w) < 3 or w in STOPWORDS:
                    continue
                grams_of = word_grams.get(w)
                if grams_of is None:
                    grams_of = word_grams[w] = _trigrams(w)
                g.update(grams_of)
            doc_grams.append(g)
            gdf.update(g.keys())
        grams = sorted(gdf)
        gidx = {t: j for j, t in enumerate(grams)}
        gram_idf = np.array([math.log((n + 1) / gdf[t]) for t in grams], dtype=np.float32)
        char_mat = _tfidf_matrix(doc_grams, gidx, gram_idf)

        known = sorted({w for words in doc_words for w in words if w.isalpha()})
        return cls(
            ids,
            titles,
            unit_text,
            unit_kind,
            np.array(unit_pb, dtype=np.int32),
            features,
            idf,
            unit_mat,
            doc_mat,
            grams,
            gram_idf,
            char_mat,
            known,
        )

    # ---------------------------------------------------------------- state

    def to_state(self) -> dict[str, Any]:
        """Plain arrays, so `np.savez(path, **router.to_state())` caches it.

        The matrices are stored sparse (rows, columns, values, shape): they are ~98 % zeros.
        """
        import numpy as np

        return {
            "version": np.array(STATE_VERSION, dtype=np.int32),
            "ids": _pack(self.ids),
            "titles": _pack(self.titles),
            "unit_text": _pack(self.unit_text),
            "unit_kind": _pack(self.unit_kind),
            "unit_pb": self.unit_pb,
            "features": _pack(self.features),
            "idf": self.idf,
            **_sparse("unit_mat", self.unit_mat),
            **_sparse("doc_mat", self.doc_mat),
            "grams": _pack(self.grams),
            "gram_idf": self.gram_idf,
            **_sparse("char_mat", self.char_mat),
            "known": _pack(self.known),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Router:
        """Rebuild from `to_state()` (or from what `np.load` gives back)."""
        import numpy as np

        version = int(np.asarray(state["version"]))
        if version != STATE_VERSION:
            raise ValueError(f"router state version {version} is not {STATE_VERSION}; rebuild it")

        def strs(key: str) -> list[str]:
            text = str(np.asarray(state[key]).item())
            return text.split(_SEP) if text else []

        return cls(
            strs("ids"),
            strs("titles"),
            strs("unit_text"),
            strs("unit_kind"),
            np.asarray(state["unit_pb"]),
            strs("features"),
            np.asarray(state["idf"]),
            _dense("unit_mat", state),
            _dense("doc_mat", state),
            strs("grams"),
            np.asarray(state["gram_idf"]),
            _dense("char_mat", state),
            strs("known"),
        )

    # ---------------------------------------------------------------- routing

    def _correct(self, tok: str) -> str:
        """The closest known word to an unknown token ("rollbakc" -> "rollback"), or the token."""
        if len(tok) < 4 or not tok.isalpha() or tok in self._known_set:
            return tok
        st = stem(tok)
        lex = _lexicon()
        if st in _common_stems() or "w:" + st in self.fidx or st in lex.single:
            return tok  # a real word, or another form of a known one ("tenants")
        if st in lex.multi_by_word or tok in COMMON_WORDS:
            return tok
        hit = self._corrections.get(tok)
        if hit is not None:
            return hit
        limit = 1.0 if len(tok) <= 6 else 2.0
        best, best_key = tok, None
        for rank, speller in enumerate((self._speller, _lexicon().speller())):
            for w, overlap in speller.candidates(tok):
                # typos keep the first letter (or swap the first two): "validation" is no
                # typo of "invalidation"
                if w[0] != tok[0] and w[:2] != tok[1::-1]:
                    continue
                d = _typo_distance(tok, w, limit)
                if d <= limit:
                    key = (d, rank, -overlap, w)
                    if best_key is None or key < best_key:
                        best, best_key = w, key
        if len(self._corrections) < 4096:
            self._corrections[tok] = best
        return best

    def _is_feature_word(self, tok: str) -> bool:
        return ("w:" + stem(tok)) in self.fidx

    def _query_vectors(self, query: str) -> tuple[_Analysed, np.ndarray, np.ndarray, list[str]]:
        import numpy as np

        a = _analyse(
            query,
            correct=self._correct,
            known=self._is_feature_word,
            glue=self._raw_vocab.__contains__,
        )
        cols, vals, kept = [], [], []
        for f, v in a.feats.items():
            j = self.fidx.get(f)
            if j is None:
                continue
            cols.append(j)
            vals.append(v)
            kept.append(f)
        c = np.array(cols, dtype=np.int64)
        return a, c, _sublinear(np.array(vals, dtype=np.float32)) * self.idf[c], kept

    def route(self, query: str, top: int = 5) -> list[RouteResult]:
        """The `top` playbooks for `query`, best first. Empty or blank query -> []."""
        import numpy as np

        if not query or not query.strip() or not self.ids or top <= 0:
            return []
        a, cols, vals, kept = self._query_vectors(query)
        n = len(self.ids)
        unit_best = np.zeros(n, dtype=np.float32)
        doc_sim = np.zeros(n, dtype=np.float32)
        unit_sim = None
        q = vals
        if len(cols):
            qn = float(np.linalg.norm(vals)) or 1.0
            q = vals / qn
            unit_sim = self.unit_mat[:, cols] @ q
            if len(unit_sim):
                unit_best = np.where(
                    self._has_units, np.maximum.reduceat(unit_sim, self._starts), 0.0
                ).astype(np.float32)
            doc_sim = self.doc_mat[:, cols] @ q
        char_sim = self._char_sim(a.words)
        score = W_UNIT * unit_best + W_DOC * doc_sim + W_CHAR * char_sim
        score = np.clip(score, 0.0, 1.0)
        order = np.lexsort((np.arange(n), -doc_sim, -score))[: min(top, n)]
        results = []
        for i in order:
            why = self._why(int(i), a, cols, q, kept, unit_sim, bool(char_sim[i] > 0))
            results.append(RouteResult(self.ids[i], self.titles[i], round(float(score[i]), 4), why))
        return results

    def _char_sim(self, words: list[str]) -> np.ndarray:
        import numpy as np

        g: dict[int, float] = {}
        for w in set(words):
            if len(w) < 3:
                continue
            for t in _trigrams(w):
                j = self.gidx.get(t)
                if j is not None:
                    g[j] = g.get(j, 0.0) + 1.0
        if not g:
            return np.zeros(len(self.ids), dtype=np.float32)
        cols = np.fromiter(g.keys(), dtype=np.int64, count=len(g))
        vals = np.fromiter(g.values(), dtype=np.float32, count=len(g))
        vals = _sublinear(vals) * self.gram_idf[cols]
        # normalise against the query's full trigram mass, known or not
        total = sum(len(_trigrams(w)) for w in set(words) if len(w) >= 3)
        qn = float(np.linalg.norm(vals)) * math.sqrt(max(total, 1) / max(len(g), 1)) or 1.0
        return self.char_mat[:, cols] @ (vals / qn)

    def _why(
        self,
        pb: int,
        a: _Analysed,
        cols: np.ndarray,
        q: np.ndarray,
        kept: list[str],
        unit_sim: np.ndarray | None,
        char_hit: bool,
    ) -> str:
        """The matched symptom when one clearly matches, else the query words that counted."""
        import numpy as np

        if unit_sim is not None:
            own = np.flatnonzero((self.unit_pb == pb) & self._quotable)
            j = int(own[np.argmax(unit_sim[own])]) if len(own) else -1
            # quote a symptom only if it shares a word with the query, not just a concept
            word_cols = cols[[f.startswith("w:") for f in kept]] if len(kept) else cols
            if (
                j >= 0
                and unit_sim[j] >= MATCHED_AT
                and bool(np.any(self.unit_mat[j, word_cols] > 0))
            ):
                text = self.unit_text[j]
                if len(text) > 68:
                    text = text[:65].rstrip() + "..."
                why = f'matched "{text}"'
                fixes = f" ({', '.join(a.fixes)})" if a.fixes else ""
                return why + fixes if len(why) + len(fixes) <= 80 else why
        terms: list[str] = []
        if len(cols):
            contrib = self.doc_mat[pb, cols] * q
            for k in np.argsort(-contrib, kind="stable"):
                if contrib[k] <= 0:
                    break
                for surf in sorted(a.surfaces.get(kept[k], ()), key=lambda x: (-len(x), x)):
                    if surf in STOPWORDS or surf in terms:
                        continue
                    if any(surf in t.split() for t in terms):
                        continue  # "sends" is already shown inside "re sends"
                    terms.append(surf)
        if terms:
            out = "terms: " + terms[0]
            for t in terms[1:5]:
                if len(out) + 2 + len(t) > 80:
                    break
                out += ", " + t
            return out
        return "similar spelling only" if char_hit else "nothing matched"


def _idf(df: int, n: int) -> float:
    """Smoothed IDF over playbooks: a feature in every playbook still weighs ln 2."""
    return math.log(1 + n / df)


def _sublinear(v: np.ndarray) -> np.ndarray:
    """1 + ln(tf) for counts, the raw weight for fractional (concept) weights below 1."""
    import numpy as np

    return np.where(v >= 1.0, 1.0 + np.log(np.maximum(v, 1.0)), v).astype(np.float32)


def _tfidf_matrix(
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
        w = _sublinear(np.array(vals, dtype=np.float32)) * idf[ci]
        norms = np.sqrt(np.bincount(ri, weights=w * w, minlength=len(rows))).astype(np.float32)
        norms[norms == 0] = 1.0
        m[ri, ci] = w / norms[ri]
    return m


def _sparse(name: str, m: np.ndarray) -> dict[str, np.ndarray]:
    """A dense matrix as coordinate arrays, for a small on-disk state."""
    import numpy as np

    rows, cols = np.nonzero(m)
    return {
        f"{name}_shape": np.array(m.shape, dtype=np.int64),
        f"{name}_rows": rows.astype(np.int32),
        f"{name}_cols": cols.astype(np.int32),
        f"{name}_vals": m[rows, cols].astype(np.float32),
    }


def _dense(name: str, state: dict[str, Any]) -> np.ndarray:
    import numpy as np

    shape = tuple(int(x) for x in np.asarray(state[f"{name}_shape"]).tolist())
    m = np.zeros(shape, dtype=np.float32)
    m[np.asarray(state[f"{name}_rows"]), np.asarray(state[f"{name}_cols"])] = np.asarray(
        state[f"{name}_vals"], dtype=np.float32
    )
    return m


_SEP = "\x1f"
"""Joins a list of strings into one array element in the state (no per-item padding)."""


def _pack(items: list[str]) -> np.ndarray:
    import numpy as np

    return np.array(_SEP.join(x.replace(_SEP, " ") for x in items), dtype=str)
