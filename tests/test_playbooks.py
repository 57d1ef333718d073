"""Playbooks: the 20 bundled routes validate; every kind of bad file is reported precisely."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from console.core import PlaybookError
from console.playbooks import ALL_IDS, QUICK_ROUTES, SYMPTOM_TABLE
from console.playbooks.schema import bundled_dir, load_catalog, load_playbook_file, parse_playbook
from tests.conftest import FIXMAP

GOOD = """\
id: team_route
title: Team route
summary: A route a team wrote for its own service.
symptoms: [one thing, another thing, a third thing]
related: [rollback_and_fast_recovery]
gates:
  - {id: p95, label: p95 latency, measure: p95_ms, pass: "<= 1200", fail: "> 2400"}
steps:
  - id: look
    kind: read
    title: Look at the dashboard
    body: The p95 panel.
  - id: measure
    kind: probe
    title: Measure latency
    probe: latency
    gate: p95
  - id: next
    kind: route
    title: Roll back
    to: rollback_and_fast_recovery
"""


def test_all_twenty_bundled_playbooks_validate():
    catalog = load_catalog()
    assert catalog.problems == []
    assert sorted(catalog.playbooks) == sorted(ALL_IDS)
    assert len(catalog) == 20


@pytest.mark.parametrize("pid", ALL_IDS)
def test_each_playbook_is_actionable(pid):
    pb = load_catalog()[pid]
    assert len(pb.symptoms) >= 5
    assert len(pb.steps) >= 5
    kinds = {s.kind for s in pb.steps}
    assert kinds - {"read", "check", "route"}, (
        "a route must run at least one probe, query or action"
    )
    for step in pb.steps:
        if step.kind in ("read", "check", "probe", "query", "action"):
            assert step.body.strip(), f"{pid}/{step.id} has no guidance"


def test_seed_tables_name_only_real_playbooks():
    ids = set(load_catalog().playbooks)
    assert {pid for _, pid in QUICK_ROUTES} <= ids
    assert {pid for _, pids in SYMPTOM_TABLE for pid in pids} <= ids


def bad(text: str, tmp_path: Path) -> PlaybookError:
    path = tmp_path / "team_route.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlaybookError) as err:
        load_playbook_file(path)
    return err.value


def test_yaml_syntax_error_has_the_line(tmp_path):
    err = bad(GOOD.replace("symptoms: [one thing,", "symptoms: [one thing,\n  : :"), tmp_path)
    assert err.problems[0].line is not None
    assert "not valid YAML" in err.message


def test_unknown_field_gives_field_path_line_and_closest_name(tmp_path):
    err = bad(GOOD.replace("    probe: latency", "    probe: latency\n    gaet: p95"), tmp_path)
    (p,) = err.problems
    assert p.field == "steps[1].gaet"
    assert p.line == 17
    assert p.hint == "did you mean 'gate'?"


def test_unknown_step_kind_suggests_the_right_one(tmp_path):
    err = bad(GOOD.replace("kind: probe", "kind: prob"), tmp_path)
    (p,) = err.problems
    assert p.field == "steps[1].kind"
    assert p.hint == "did you mean 'probe'?"
    assert p.line == 14


def test_field_that_does_not_belong_to_the_kind(tmp_path):
    err = bad(
        GOOD.replace("    body: The p95 panel.", "    body: x\n    to: rollback_and_fast_recovery"),
        tmp_path,
    )
    assert "'to' does not belong on a read step" in err.problems[0].reason
    assert err.problems[0].field == "steps[0]"


def test_missing_required_and_bad_condition(tmp_path):
    err = bad(
        GOOD.replace("summary: A route a team wrote for its own service.\n", "").replace(
            '"<= 1200"', '"below 1200"'
        ),
        tmp_path,
    )
    fields = {p.field for p in err.problems}
    assert fields == {"summary", "gates[0].pass"}


def test_step_referring_to_unknown_gate(tmp_path):
    err = bad(GOOD.replace("gate: p95", "gate: p59"), tmp_path)
    assert "unknown gate 'p59' (did you mean 'p95'?)" in err.problems[0].reason


def test_id_must_match_file_name(tmp_path):
    path = tmp_path / "other_name.yaml"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(PlaybookError) as err:
        load_playbook_file(path)
    assert err.value.problems[0].field == "id"


def test_team_folder_loads_and_a_broken_file_does_not_stop_the_rest(tmp_path):
    team = tmp_path / "team"
    team.mkdir()
    (team / "team_route.yaml").write_text(GOOD, encoding="utf-8")
    (team / "broken.yaml").write_text("id: broken\ntitle: [unclosed\n", encoding="utf-8")
    (team / "dangling.yaml").write_text(
        GOOD.replace("team_route", "dangling").replace(
            "to: rollback_and_fast_recovery", "to: rollbak_and_fast_recovery"
        ),
        encoding="utf-8",
    )
    catalog = load_catalog([team])
    assert "team_route" in catalog and "dangling" in catalog
    assert len(catalog) == 22
    files = {Path(p.file).name for p in catalog.problems}
    assert files == {"broken.yaml", "dangling.yaml"}
    dangling = next(p for p in catalog.problems if p.file.endswith("dangling.yaml"))
    assert dangling.hint == "did you mean 'rollback_and_fast_recovery'?"


def test_parse_rejects_non_mapping():
    with pytest.raises(PlaybookError):
        parse_playbook("- just\n- a list\n", "x.yaml")


def test_cli_validate_exit_codes(tmp_path):
    ok = subprocess.run(
        [FIXMAP, "playbooks", "validate"], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert "20 of 20 playbook files valid" in ok.stdout
    broken = tmp_path / "team_route.yaml"
    broken.write_text(GOOD.replace("kind: probe", "kind: prob"), encoding="utf-8")
    res = subprocess.run(
        [FIXMAP, "playbooks", "validate", str(broken), str(bundled_dir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 1
    assert f"{broken}:14: steps[1].kind" in res.stderr
    assert "20 of 21 playbook files valid" in res.stdout


def test_cli_list_and_show():
    res = subprocess.run(
        [FIXMAP, "playbooks", "list", "--json"], capture_output=True, text=True, timeout=60
    )
    rows = json.loads(res.stdout)
    assert {r["id"] for r in rows} == set(ALL_IDS)
    assert all(set(r) == {"id", "title", "summary"} for r in rows)
    show = subprocess.run(
        [FIXMAP, "playbooks", "show", "rollback_and_fast_recovery"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert show.returncode == 0
    assert "Roll back" in show.stdout and "runs action 'rollback'" in show.stdout
    unknown = subprocess.run(
        [FIXMAP, "playbooks", "show", "rollback"], capture_output=True, text=True, timeout=60
    )
    assert unknown.returncode == 2
    assert "did you mean" in unknown.stderr


def test_gate_step_needs_a_known_gate_set(tmp_path):
    step = "  - id: go\n    kind: gate\n    title: Go or no-go\n"
    err = bad(GOOD + step, tmp_path)
    assert "needs 'gate_set'" in err.problems[0].reason
    err = bad(GOOD + step + "    gate_set: readyness\n", tmp_path)
    assert err.problems[0].field == "steps[3].gate_set"
    assert err.problems[0].hint == "did you mean 'readiness'?"


def test_a_playbook_over_the_size_cap_is_refused_without_reading_it_all(tmp_path):
    from console.playbooks.schema import MAX_PLAYBOOK_BYTES, load_playbook_file

    path = tmp_path / "huge.yaml"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id: huge\ntitle: Huge\nsummary: |\n")
        line = "  " + "x" * 1022 + "\n"
        for _ in range(MAX_PLAYBOOK_BYTES // len(line) + 2):
            fh.write(line)
    with pytest.raises(PlaybookError) as err:
        load_playbook_file(path)
    problem = err.value.problems[0]
    assert problem.file == str(path) and "more than 1 MiB" in problem.reason
    assert "split it" in (problem.hint or "")


def _validate_site(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FIXMAP, "playbooks", "validate", "--site", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_validate_site_on_the_demo_config_finds_nothing_and_names_a_missing_action(tmp_path):
    from console.demo.site import site_config_toml

    text = site_config_toml("http://127.0.0.1:9")
    config = tmp_path / "fixmap.toml"
    config.write_text(text, encoding="utf-8")
    ok = _validate_site(config)
    assert ok.returncode == 0, ok.stderr
    assert "no finding" in ok.stdout

    # the same site without the alias flip the index route's mitigation runs
    start = text.index("[actions.index_alias]")
    end = text.index("\n[", start + 1)
    config.write_text(text[:start] + text[end + 1 :], encoding="utf-8")
    res = _validate_site(config)
    assert res.returncode == 1, res.stdout
    assert "vector_index_build_and_swap/alias-back" in res.stderr
    assert "index_alias" in res.stderr
    assert "[actions.index_alias]" in res.stderr  # the TOML to add


def test_validate_refuses_a_related_playbook_that_does_not_exist(tmp_path):
    f = tmp_path / "team_route.yaml"
    f.write_text(GOOD + "related: [no_such_playbook]\n", encoding="utf-8")
    res = subprocess.run(
        [FIXMAP, "playbooks", "validate", str(f)], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 1
    assert "no_such_playbook" in res.stderr
