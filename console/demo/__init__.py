"""The embedded demo: a simulated RAG service on 127.0.0.1 with switchable faults, a seeded
week of metric history, and a site config that points fixmap at it.
"""

from console.core.lazy import lazy_names

__getattr__ = lazy_names(
    __name__,
    {
        "run_demo": "launch",
        "DemoService": "service",
        "DemoError": "faults",
        "FAULTS": "faults",
        "FAULT_PROBES": "faults",
        "HEALTHY_PINS": "faults",
        "ADMIN_SECRET": "site",
        "SERVICE_NAME": "site",
        "site_config_toml": "site",
        "write_site_config": "site",
    },
)
