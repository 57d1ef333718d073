"""`fixmap doctor` and `fixmap config reference|schema`, as a user runs them against the demo."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from console.cli.base import main
from console.core import ConfigError
from console.core.secrets import store_in_dir
from console.demo import DemoService
from console.demo.site import ADMIN_SECRET, SECRETS_DIR, SERVICE_NAME, write_site_config
from console.site import load_config

TOKEN = "doctor-test-admin-token"

TEAM_PLAYBOOK = """\
id: page_the_owner
title: Page the owner
summary: A route that pages the service owner with a note.
symptoms: [nobody answers, owner unknown, escalate now]
steps:
  - id: page
    kind: action
    title: Page the owner
    action: page_oncall
    params: {note: "fixmap says hi", urgency: high}
  - id: speed
    kind: probe
    title: Speed
    probe: speed
"""


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_NO_KEYRING", "1")
    with DemoService([], admin_token=TOKEN) as svc:
        path = write_site_config(tmp_path, svc.url)
        store_in_dir(tmp_path / SECRETS_DIR, ADMIN_SECRET, TOKEN)
        from console.history import seed_demo_history

        seed_demo_history(tmp_path / "history.duckdb", SERVICE_NAME)
        yield path


def doctor(path: Path, *args: str):
    return CliRunner().invoke(main, ["--config", str(path), "doctor", *args])


def test_the_demo_config_is_healthy(demo):
    result = doctor(demo)
    assert result.exit_code == 0, result.output
    assert "healthy" in result.output and "FIX" not in result.output
    assert "ok    services demo" in result.output
    assert "ok    actions freeze.state: frozen = False" in result.output
    report = json.loads(doctor(demo, "--json").stdout)
    assert report["healthy"] is True and report["findings"] == []
    areas = {c["area"] for c in report["checked"]}
    assert areas == {"services", "probes", "actions", "history"}


def test_an_unconfigured_action_and_probe_are_findings_with_toml_to_paste(demo, tmp_path):
    team = tmp_path / "team"
    team.mkdir()
    (team / "page_the_owner.yaml").write_text(TEAM_PLAYBOOK)
    text = demo.read_text()
    demo.write_text('playbook_dirs = ["team"]\n' + text)
    result = doctor(demo, "--offline")
    assert result.exit_code == 1, result.output
    assert "page_the_owner/page" in result.output and "[actions.page_oncall]" in result.output
    assert "FIX   playbooks probes.speed" in result.output
    toml = result.output.split("# Add to the site config (then change every CHANGE-ME):", 1)[1]
    # the values the playbook passes, as an enum: the step runs, and nothing else goes through
    assert 'params.note = { enum = ["fixmap says hi"] }' in toml
    assert 'params.urgency = { enum = ["high"] }' in toml
    assert "[probes.speed]" in toml and 'url = "CHANGE-ME"' in toml
    # pasted as printed, the config still loads, and the step can run
    demo.write_text(demo.read_text() + "\n" + toml)
    site = load_config(demo)
    assert {"page_oncall", "speed"} <= set(site.config.actions) | set(site.config.probes)
    again = doctor(demo, "--offline", "--json")
    subjects = {f["subject"] for f in json.loads(again.stdout)["findings"]}
    assert not subjects & {"actions.page_oncall", "probes.speed"}


def test_a_parameter_the_step_passes_and_the_action_lacks(demo, tmp_path):
    team = tmp_path / "team"
    team.mkdir()
    (team / "page_the_owner.yaml").write_text(TEAM_PLAYBOOK.replace("page_oncall", "freeze"))
    demo.write_text('playbook_dirs = ["team"]\n' + demo.read_text())
    report = json.loads(doctor(demo, "--offline", "--json").stdout)
    [finding] = [f for f in report["findings"] if f["subject"] == "params.freeze"]
    assert "has no parameter 'note', 'urgency'" in finding["problem"]
    assert finding["toml"].startswith("# inside [actions.freeze]")


def test_a_gate_target_reading_a_measure_its_probe_never_reports(demo):
    demo.write_text(demo.read_text() + '\n[gates.readiness.p95]\nmeasure = "p95_latency"\n')
    report = json.loads(doctor(demo, "--json").stdout)
    [finding] = [f for f in report["findings"] if f["area"] == "gates"]
    assert "a latency probe never reports p95_latency" in finding["problem"]
    assert "p95_ms" in finding["problem"]


def test_an_unreachable_service_and_a_missing_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_NO_KEYRING", "1")
    with DemoService([], admin_token=TOKEN) as svc:
        path = write_site_config(tmp_path, svc.url)
    result = doctor(path, "--json")  # the service is gone, and no token file was written
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    problems = {(f["area"], f["subject"]): f["problem"] for f in report["findings"]}
    assert "is not reachable" in problems[("services", "demo")]
    assert "secret 'demo_admin_token' is not set" in problems[("secrets", "actions.rollback")]
    assert "could not measure" in problems[("probes", "index")]


# ------------------------------------------------------------------ the reference


def test_the_reference_lists_every_measure_of_every_probe_kind():
    from console.probes import KINDS

    result = CliRunner().invoke(main, ["config", "reference"])
    assert result.exit_code == 0
    text = result.stdout
    for kind in KINDS.values():
        line = next(x for x in text.splitlines() if x.startswith(f"Measures ({kind.name}):"))
        listed = re.findall(r"`([a-z0-9_]+)`", line)
        assert listed == list(kind.measures), kind.name


def test_the_reference_documents_every_field_with_its_default(tmp_path):
    from console.doctor import field_docs
    from console.site import IndexProbe, Service, SiteConfig

    text = CliRunner().invoke(main, ["config", "reference"]).stdout
    assert "| `max_in_flight` | integer | `4` |" in text  # a service's
    assert "| `secrets_dir` | path | unset |" in text
    assert "| `timeout` | duration | `5s` |" in text
    assert "| `json` | any JSON value |" in text  # the documented name, not json_body
    for model in (SiteConfig, Service, IndexProbe):
        docs = field_docs(model)
        assert set(docs) & set(model.model_fields)
        for name, doc in docs.items():
            if name not in model.model_fields:
                continue  # FILLS and other class attributes
            assert " ".join(doc.split())[:40] in text, (model.__name__, name)
    assert "| `rate_429` | history error_rates(window=10m, baseline=24h) | `rate_429` |" in text
    assert "`latency_ms` (ms)" in text
    # what the bundled playbooks pass to each action
    assert "| `index_alias` | `alias`: vector_index_build_and_swap/alias-back = 'docs_live'" in text


def test_the_schema_is_json_schema_with_the_docstrings_and_string_durations():
    schema = json.loads(CliRunner().invoke(main, ["config", "schema"]).stdout)
    assert schema["title"] == "fixmap.toml"
    service = schema["$defs"]["Service"]["properties"]
    assert "accept backlog" in service["max_in_flight"]["description"]
    assert {"type": "string"} in service["timeout"]["anyOf"]
    assert "json" in schema["$defs"]["HttpSpec"]["properties"]


def test_a_typo_suggests_the_documented_name(tmp_path):
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text('[actions.x]\nkind = "freeze"\nhttp = { url = "/a", jsn = { a = 1 } }\n')
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert "did you mean 'json'?" in info.value.render()


def test_every_toml_block_of_the_readme_is_a_valid_config():
    from console.site import parse_config

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", readme, re.S)
    assert len(blocks) >= 7
    prefix = '[services.rag]\nbase_url = "https://rag.internal"\n'
    for block in blocks:
        text = block if "[services." in block else prefix + block
        parse_config(text, "README.md")  # raises ConfigError naming the field
