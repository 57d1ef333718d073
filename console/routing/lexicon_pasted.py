"""The router's vocabulary for pasted text: alert names, HTTP status lines, proxy and mesh
errors, SDK exceptions, vector-store and migration-tool messages, queue and worker alerts,
feature-flag services and status-page words. Data only; console/routing/lexicon.py merges it
into EXPANSIONS, LEXICON and COMMON_WORDS.
"""

from __future__ import annotations

# The vocabulary of what gets pasted: alert names (Prometheus/Alertmanager, kube-prometheus'
# runbooks), HTTP status lines, proxy and mesh errors (Envoy, nginx), LLM-provider SDK
# exceptions and their codes, vector-store and migration-tool messages, queue and worker alerts,
# feature-flag services, status-page words. Alert names arrive split (KubePodCrashLooping ->
# kube pod crash looping; console/routing/paste.py), so their words are listed here.
# fmt: off
PASTED_EXPANSIONS: dict[str, str] = {
    "404": "not found", "408": "timeout", "413": "too large", "499": "client closed",
    "529": "overloaded", "502": "server error bad gateway", "503": "server error unavailable",
    "504": "server error gateway timeout",
    "tpm": "tokens per minute rate limit", "rpm": "requests per minute rate limit",
    "sigsegv": "segfault crash", "sigkill": "killed crash", "oom": "memory crash",
    "crashlooping": "crash loop restart", "notready": "not ready", "nonready": "not ready",
    "hpa": "autoscaler", "keda": "autoscaler queue", "dlq": "dead letter queue",
    "ttfb": "latency", "slo": "service level", "sli": "service level",
    "alertmanager": "alert", "pagerduty": "alert", "opsgenie": "alert",
    "chromadb": "chroma", "pgvector": "pgvector vector store", "ddl": "schema change",
    "eol": "end of life", "froze": "hang stuck", "uo": "upstream overflow",
    "uf": "upstream failure", "urx": "upstream retry limit", "ur": "upstream reset",
    "ro": "read only", "gtm": "dns", "route53": "dns", "cab": "change approval board",
    "statuspage": "statuspage", "instatus": "statuspage", "betteruptime": "statuspage",
}

PASTED_LEXICON: dict[str, tuple[str, ...]] = {
    "RATELIMIT": ("ratelimit", "rate limit error", "rate limit exceeded", "rate limit reached",
                  "quota exceeded", "insufficient quota", "resource exhausted", "exhausted",
                  "throttling exception", "rate exceeded", "tokens per minute",
                  "requests per minute", "limiting requests", "limit req", "limit conn",
                  "local rate limited", "slow down", "try again in"),
    "BACKPRESSURE": ("overloaded error", "upstream overflow", "pending requests", "in flight",
                     "inflight", "worker pool", "pool saturated", "autoscaler", "maxed out",
                     "hpa maxed", "cpu throttling", "one tenant", "one customer",
                     "noisy neighbor", "noisy neighbour", "starving", "starve", "hogging",
                     "everyone else"),
    "QUEUE": ("consumer lag", "lag", "messages ready", "unacked", "oldest message",
              "age of oldest message", "dead letter", "celery", "sidekiq", "rabbitmq", "kafka",
              "sqs", "pubsub", "nats", "too many messages", "queue depth high",
              "cant keep up", "keep up", "tasks waiting"),
    "RETRY": ("max retries", "max retries exceeded", "retry error", "retrying", "backing off",
              "retry budget", "retry overflow", "retry limit", "attempt", "attempts",
              "giving up", "gave up"),
    "TIMEOUT": ("read timeout", "timeout error", "timed out waiting", "request timed out",
                "deadline exceeded", "gateway timeout", "upstream timed out"),
    "UPSTREAM": ("upstream", "upstream connect error", "disconnect reset before headers",
                 "reset reason", "connection reset", "reset by peer", "broken pipe",
                 "remote disconnected", "remote end closed", "connection aborted",
                 "no healthy upstream", "prematurely closed", "bad gateway", "unavailable",
                 "service unavailable"),
    "REFUSED": ("connection refused", "connect connection refused", "dial tcp",
                "could not connect", "failed to connect", "error connecting",
                "not accepting connections", "accepting tcp ip connections", "is the server running"),
    "HEALTH": ("not ready", "non ready", "readiness probe failed", "startup probe failed",
               "liveness probe failed", "target down", "container waiting", "container creating"),
    "CRASHLOOP": ("crash looping", "back off restarting", "backoff restarting",
                  "restarting failed container", "crash loop back off", "restart count"),
    "DEADLOCK": ("rollout stuck", "progress deadline exceeded", "timed out waiting for the condition",
                 "pending upgrade", "job not completed", "hook pending", "never completes",
                 "never become ready", "each waits"),
    "K8S": ("kube", "kubelet", "statefulset", "replicaset", "daemonset", "init container",
            "helm upgrade", "helm release", "namespace"),
    "SECRET": ("authentication error", "authentication", "invalid api key", "incorrect api key",
               "api key provided", "permission denied", "field required", "key error"),
    "TOOLCHAIN": ("cuda error", "no kernel image", "driver version", "cuda runtime",
                  "load tokenizer", "undefined error", "is undefined", "template variable",
                  "not rendered", "didnt render", "unrendered"),
    "DEPRECATED": ("deprecated", "deprecation", "end of life", "sunset", "retired model",
                   "model not found", "does not exist or you do not have access",
                   "rerouted", "model deprecated"),
    "PIN": ("model version", "version drift", "pin mismatch", "lock file", "pins", "observed",
            "expected version"),
    "INDEX": ("collection not found", "no such index", "index not found", "index not found exception",
              "does not exist", "dimensionality", "dimension error", "vector dimension",
              "manifest mismatch", "doc count", "docs count"),
    "EMBED": ("dimensions", "dimensionality", "embedding dimension"),
    "STAMPEDE": ("recompute", "recomputes", "recomputing", "all at once", "at once",
                 "key expires", "keys expire", "expired key", "expiry"),
    "CACHE": ("x cache", "hit rate", "hit ratio", "miss ratio", "miss rate", "cache hit",
              "cache miss", "semantic cache", "negative cache", "cdn"),
    "IDEMPOTENCY": ("idempotency error", "idempotent requests", "unique violation",
                    "duplicate key", "unique constraint", "already exists", "redelivered",
                    "redelivery", "at least once", "acks late", "visibility timeout",
                    "offsets not committed", "processed twice", "delivered twice",
                    "executed twice", "ran twice"),
    "SIDE_EFFECT": ("notification", "notifications", "confirmation email", "posted twice",
                    "sent twice"),
    "DUPLICATE": ("dupes", "duplicate side effects", "two confirmation", "several times"),
    "MIGRATION": ("migrations", "migrate", "prisma", "knex", "goose", "sqitch", "changelog",
                  "changeset", "changelog lock", "revision", "alembic", "flyway", "liquibase",
                  "migration history", "inconsistent migration", "not up to date",
                  "failed validation", "not applied", "failed migration", "lock timeout",
                  "alter table", "undefined column", "column does not exist",
                  "dual write"),
    "READ_ONLY": ("read only transaction", "readonly transaction", "read only option",
                  "cannot execute insert", "cannot execute update", "read only sql transaction",
                  "cluster block exception", "misconf"),
    "FLAG": ("flagsmith", "growthbook", "optimizely", "configcat", "statsig", "split io",
             "variation", "targeting rule", "targeting rules", "flag targeting", "segment override", "flag evaluation",
             "toggle enabled", "toggle disabled"),
    "CANARY": ("analysis run", "analysisrun", "failure limit", "failurelimit", "set weight",
               "setweight", "halt advancement", "canary failed", "advancement", "stable"),
    "BLUEGREEN": ("active service", "preview service", "activeservice", "previewservice",
                  "weighted record", "resolve", "resolves"),
    "SHADOW": ("request mirror", "mirror policies", "virtualservice mirror", "goreplay",
               "gor", "tee", "diff the answers", "candidate"),
    "STATUSPAGE": ("investigating", "identified", "degraded performance", "partial outage",
                   "major outage", "all systems operational", "fully operational", "subscribers", "component status",
                   "next update", "status update"),
    "COMMS": ("conversations", "intercom", "zendesk", "support tickets", "complaints",
              "customer reports", "customer impact", "what do we tell", "tell them"),
    "POSTMORTEM": ("incident review", "contributing factors", "follow ups", "5 whys",
                   "postmortem due", "action item"),
    "REGRESSION": ("fails first", "catch it next time", "catches it", "bit us", "third time",
                   "again"),
    "FREEZE": ("change freeze", "freeze in effect", "change approval board", "cab",
               "thanksgiving", "christmas", "holiday freeze", "required status check"),
    "SHIP_GATE": ("eval gold", "gold questions", "eval run", "gate job", "release train",
                  "ok to go", "ship or not"),
    "ROLLBACK": ("rollout undo", "rollback", "helm rollback", "rollout aborted", "aborted",
                 "previous build", "yesterdays build", "get back"),
    "SERVER_ERROR": ("internal server error", "error ratio", "5xx ratio", "error budget",
                     "burn rate", "error rate"),
    "DEPLOY": ("release", "rolled out", "image bump", "new image", "first seen in release",
               "since the release", "since deploy", "after rollout", "since the deploy"),
}

# What tickets and chat say around the paste: how people describe freshness, first requests,
# circular waits, tests that pin a fix, and work that must keep reads up.
PASTED_LEXICON.update({
    "STALE": ("last month", "last months", "still quotes", "old wording", "still says",
              "still shows", "even though", "was updated", "were updated", "old copy"),
    "SNIPPET": ("handbook", "faq", "wiki", "knowledge base", "documentation", "confluence",
                "help center", "help article", "policy doc"),
    "WARM": ("first requests", "first few requests", "got fast", "then fast", "speeds up",
             "fine after a few minutes", "until the cache fills"),
    "ORDER": ("started before", "before it was created", "was created after", "created after",
              "depends on", "depends_on", "service healthy", "service_healthy",
              "before the schema", "not created yet"),
})
PASTED_LEXICON["DEADLOCK"] += ("wont start until", "both waiting", "both sitting",
                               "sitting there", "neither starts", "each checks the other")
PASTED_LEXICON["REGRESSION"] += ("fails on build", "passes on build", "test that fails",
                                 "ci catches", "never comes back", "fails before the fix")
PASTED_LEXICON["READ_ONLY"] += ("keep search working", "keep reads", "reads stay up",
                                "search stays up", "serve reads", "write freeze")
PASTED_LEXICON["SHADOW"] += ("send a copy", "a copy of every", "log both", "both answers",
                             "compare both")

PASTED_LEXICON["ROLLBACK"] += ("was healthy", "was fine", "was clean", "old build",
                               "build back", "old version back", "back to the old",
                               "last good", "last healthy")
PASTED_LEXICON["ORDER"] += ("listening yet", "not listening", "isnt listening",
                            "still starting", "started consuming before")
PASTED_LEXICON["STICKY"] = ("same session", "session flips", "flips between",
                            "session affinity", "affinity", "consistent hash")

PASTED_LEXICON["LOAD"] = ("peak hour", "peak hours", "at peak", "busy hour", "lunch peak")

PASTED_COMMON_WORDS = frozenset(["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "type", "types", "title", "token", "tokens", "value", "values", "field", "fields", "process", "processed", "remote", "local", "peer", "limit", "raise", "raised", "error", "errors", "warning", "warn", "info", "debug", "details", "detail", "message", "reason"])
# fmt: on
