"""The doctor: a site config checked against the live site and the playbooks (`fixmap doctor`),
and the config reference generated from the models (`fixmap config reference|schema`).

needs (what the playbooks and gate sets ask of a site) -> checks (the findings, with TOML to
paste from stubs) ; reference (Markdown and JSON Schema from the models and the registries).
"""

from console.doctor.checks import Finding, Report, diagnose, missing_toml, playbook_findings
from console.doctor.needs import action_uses, measure_uses
from console.doctor.reference import config_schema, field_docs, reference_markdown

__all__ = [
    "Finding",
    "Report",
    "action_uses",
    "config_schema",
    "diagnose",
    "field_docs",
    "measure_uses",
    "missing_toml",
    "playbook_findings",
    "reference_markdown",
]
