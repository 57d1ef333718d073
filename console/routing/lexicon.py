"""The router's vocabulary, as data: what an engineer types, mapped to what it means.

- ``EXPANSIONS``: abbreviations and jargon -> the words they stand for (``k8s``, ``p95``, ``429``);
- ``LEXICON``: concept id -> the many phrasings of one thing (stale / old / outdated -> ``STALE``);
- ``STOPWORDS``: words that never become word features (they may still evoke a concept);
- ``COMMON_WORDS``: everyday English the spelling corrector must leave alone;
- ``GENERIC``: words said in every incident, weighed down so they do not look decisive;
- ``COMPOUNDS``: one-word forms typed as two words ("roll back"), glued back together.

Only data lives here, so tuning the router's vocabulary is an edit to this file alone. The
router's cache (console/routing/cache.py) fingerprints this module with the code, so a change
here rebuilds the cached index; console/routing/text.py compiles the lexicon on first use.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    """A whitespace-separated word list as a set."""
    return frozenset(text.split())


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
    # not "exception" alone: every pasted stack trace says it
    "EXCEPTION": ("freeze exception", "emergency exception", "t0", "t1", "t2", "t3", "approval", "approve", "approver",
                  "waiver", "override", "hotfix", "emergency fix", "break glass"),
    # not "status", "update", "message", "customers" alone: pasted logs and tickets say them
    # in every line; comms is telling people, the status page is its page
    "COMMS": ("comms", "communication", "communicate", "announce", "announcement", "notify",
              "notification", "tell", "tell customers", "tell users", "message customers",
              "post a message", "customers asking", "customers want", "customer facing",
              "customer update", "notify customers", "stakeholders", "execs", "exec wants",
              "exec asking", "support team", "support queue", "slack", "email", "tweet", "eta",
              "send an update", "post an update", "give an update", "first update",
              "next update", "update the status", "update customers", "updates to",
              "draft", "users asking"),
    "STATUSPAGE": ("status page", "statuspage", "status site", "banner", "degraded service",
                   "major outage", "partial outage", "in app banner", "status update",
                   "status post", "public status"),
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
    # not "start" / "started" alone: "started after the deploy" is about when, not booting
    "BOOT": ("boot", "bootstrap", "startup", "start up", "starts up", "on start", "at start",
             "init",
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
exception exceptions traceback
couldnt shouldnt wouldnt wasnt werent arent havent hasnt hadnt im ive youre theyre thats whats
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
product became security patch lunch commander tripped spewing
""")
# fmt: on


# Words an engineer uses in every incident; rare in the playbooks only by chance, so their
# IDF would otherwise make them look decisive.
GENERIC = _words("""
prod production new tonight today yesterday week service services system systems app api
issue issues problem problems thing things stuff everything something anything team our
build builds
""")


# Split forms an engineer types as two words; glued back so they meet the one-word form.
# fmt: off
COMPOUNDS = frozenset({
    "rollback", "readonly", "postmortem", "statuspage", "backpressure", "deadlock",
    "crashloop", "warmup", "killswitch", "dedupe", "backoff", "failover", "switchover",
    "cutover", "bluegreen", "predeploy", "preflight", "writeup", "backfill", "hotfix",
    "ratelimit", "singleflight", "healthcheck", "startup", "signoff", "gonogo",
})
# fmt: on


# The vocabulary of what gets pasted (alerts, exceptions, proxy errors ...) lives in its own
# data module; it extends the tables above.
from console.routing.lexicon_pasted import (  # noqa: E402
    PASTED_COMMON_WORDS,
    PASTED_EXPANSIONS,
    PASTED_LEXICON,
)

EXPANSIONS.update(PASTED_EXPANSIONS)
for _concept, _phrases in PASTED_LEXICON.items():
    LEXICON[_concept] = LEXICON.get(_concept, ()) + _phrases
COMMON_WORDS = COMMON_WORDS | PASTED_COMMON_WORDS
