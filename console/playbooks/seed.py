"""The seed's tables (Ops & Deploy Global Fix Map), as plain data.

Kept free of imports so the triage screen can show the quick routes in its first frame,
before playbooks are parsed.
"""

from __future__ import annotations

# (scenario as the seed names it, playbook id)
QUICK_ROUTES: tuple[tuple[str, str], ...] = (
    ("Rollout readiness", "rollout_readiness_gate"),
    ("Canary strategy", "staged_rollout_canary"),
    ("Blue/green cutover", "blue_green_switchovers"),
    ("Version pin & freeze", "version_pinning_and_model_lock"),
    ("Vector index swap", "vector_index_build_and_swap"),
    ("Cache warmup", "cache_warmup_invalidation"),
    ("Rate limits", "rate_limit_backpressure"),
    ("Feature flags", "feature_flags_safe_launch"),
    ("Idempotency", "idempotency_dedupe"),
    ("Retry logic", "retry_backoff"),
    ("Rollback plan", "rollback_and_fast_recovery"),
    ("Postmortems", "postmortem_and_regression_tests"),
    ("Change freeze", "release_calendar_and_change_freeze"),
    ("Incident comms", "incident_comms_and_statuspage"),
    ("Shadow traffic", "shadow_traffic_mirroring"),
    ("Maintenance window", "read_only_mode_and_maintenance_window"),
    ("DB migrations", "db_migration_guardrails"),
)

# The deploy traps the seed sends people to first.
DEPLOY_TRAPS: tuple[tuple[str, str], ...] = (
    ("Boot order", "bootstrap_ordering"),
    ("Deployment deadlock", "deployment_deadlock"),
    ("Pre-deploy collapse", "predeploy_collapse"),
)

# "What you see" -> the pages to open, first one is the primary route.
SYMPTOM_TABLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Deploy points to old snippets", ("vector_index_build_and_swap", "cache_warmup_invalidation")),
    ("Canary fine, full rollout breaks", ("staged_rollout_canary", "feature_flags_safe_launch")),
    ("Wrong model after failover", ("version_pinning_and_model_lock",)),
    ("Retries duplicate charges", ("idempotency_dedupe", "retry_backoff")),
    ("RL storms, timeouts", ("rate_limit_backpressure",)),
    ("Need rollback now", ("rollback_and_fast_recovery", "blue_green_switchovers")),
    (
        "Maintenance corrupts anchors",
        ("read_only_mode_and_maintenance_window", "db_migration_guardrails"),
    ),
    ("Unsure if safe to ship", ("rollout_readiness_gate",)),
)

ACCEPTANCE_TARGETS: tuple[str, ...] = (
    "ΔS(question, retrieved) ≤ 0.45 across three paraphrases",
    "Coverage ≥ 0.70 on the expected new section",
    "λ remains convergent on 2 seeds during rollout",
    "Idempotency ≥ 99.9% on retry storms",
    "Zero silent index mismatches (hash + counts match)",
    "P95 latency stays in budget with backpressure active",
)

SHIP_CHECKLIST: tuple[tuple[str, str], ...] = (
    ("Freeze the world", "Pin model IDs, prompt revs, index hashes."),
    ("Warm up safely", "Build index off-path, preload caches with canary."),
    ("Shadow then canary", "Mirror prod queries, step rollout 5% → 25% → 100%."),
    ("Guard the edge", "Enable backpressure, retries with jitter, idempotency keys."),
    ("Know your exit", "Keep rollback switch and comms draft ready."),
)

ALL_IDS: tuple[str, ...] = tuple(pid for _, pid in QUICK_ROUTES) + tuple(
    pid for _, pid in DEPLOY_TRAPS
)
