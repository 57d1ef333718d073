"""Site config: where it is found, what a good one gives, how a bad one is reported."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from console.core import ConfigError, parse_duration
from console.site import load_config
from tests.conftest import FIXMAP

GOOD = """playbook_dirs = ["team"]

[site]
name = "prod-eu"
service = "rag"

[services.rag]
base_url = "http://127.0.0.1:9"
latency_budget_ms = 900
timeout = "2s"
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads_with_defaults_and_relative_dirs(tmp_path):
    cfg_file = write(tmp_path / "fixmap.toml", GOOD)
    site = load_config(cfg_file)
    assert site.config.site.name == "prod-eu"
    assert site.config.services["rag"].timeout == 2.0
    assert site.config.services["rag"].latency_budget_ms == 900
    assert site.playbook_dirs == [tmp_path / "team"]
    assert site.config.default_service() == "rag"


def test_no_config_anywhere_gives_offline_config():
    site = load_config(None)
    assert site.path is None
    assert site.config.services == {}


def test_search_order_flag_then_env_then_cwd_then_user_dir(tmp_path, monkeypatch):
    user = tmp_path / "xdg-config" / "fixmap"
    user.mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    write(user / "fixmap.toml", '[site]\nname = "from-user-dir"\n')
    assert load_config(None).config.site.name == "from-user-dir"

    write(Path.cwd() / "fixmap.toml", '[site]\nname = "from-cwd"\n')
    assert load_config(None).config.site.name == "from-cwd"

    env_file = write(tmp_path / "env.toml", '[site]\nname = "from-env"\n')
    monkeypatch.setenv("FIXMAP_CONFIG", str(env_file))
    assert load_config(None).config.site.name == "from-env"

    flag_file = write(tmp_path / "flag.toml", '[site]\nname = "from-flag"\n')
    assert load_config(flag_file).config.site.name == "from-flag"


def test_typo_names_file_field_line_and_closest_name(tmp_path):
    bad = write(tmp_path / "fixmap.toml", GOOD.replace("latency_budget_ms", "latency_budjet_ms"))
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    (problem,) = err.value.problems
    assert problem.file == str(bad)
    assert problem.field == "services.rag.latency_budjet_ms"
    assert problem.line == 9
    assert problem.hint == "did you mean 'latency_budget_ms'?"


def test_wrong_types_and_values_each_reported(tmp_path):
    text = GOOD.replace('timeout = "2s"', 'timeout = "2 fortnights"').replace("900", '"fast"')
    bad = write(tmp_path / "fixmap.toml", text)
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    fields = {p.field: p for p in err.value.problems}
    assert set(fields) == {"services.rag.timeout", "services.rag.latency_budget_ms"}
    assert "not a duration" in fields["services.rag.timeout"].reason
    assert fields["services.rag.timeout"].line == 10


def test_toml_syntax_error_names_the_line(tmp_path):
    bad = write(tmp_path / "fixmap.toml", '[site]\nname = "x\n')
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert err.value.problems[0].line == 2
    assert "not valid TOML" in err.value.message


def test_default_service_must_exist(tmp_path):
    bad = write(tmp_path / "fixmap.toml", GOOD.replace('service = "rag"', 'service = "ragg"'))
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert "site.service 'ragg' is not in [services]" in err.value.problems[0].reason


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "nope.toml")
    assert "config file not found" in err.value.message


@pytest.mark.parametrize(
    "text,seconds", [("250ms", 0.25), ("30s", 30), ("5m", 300), ("24h", 86400), (3, 3.0)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_cli_bad_config_exits_2_and_starts_nothing(tmp_path):
    bad = write(tmp_path / "fixmap.toml", GOOD.replace("base_url", "base_ur1"))
    proc = subprocess.run(
        [FIXMAP, "--config", str(bad)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2
    assert (
        f"{bad}:8: services.rag.base_ur1: unknown field (did you mean 'base_url'?)" in proc.stderr
    )
    assert "Traceback" not in proc.stderr


def test_the_site_data_dir_holds_journal_and_incidents_unless_fixmap_home_is_set(
    tmp_path, monkeypatch
):
    from console.core import paths

    cfg = write(tmp_path / "fixmap.toml", 'data_dir = "shared"\n[site]\nname = "x"\n')
    try:
        load_config(cfg)
        assert paths.data_dir() != tmp_path / "shared"  # FIXMAP_HOME (set by the test fixture) wins
        monkeypatch.delenv("FIXMAP_HOME")
        assert paths.data_dir() == tmp_path / "shared"
        from console.actions.journal import journal_path

        assert journal_path().parent == tmp_path / "shared"
    finally:
        paths.use_site_data_dir(None)


@pytest.mark.parametrize("bad", ["inf", "nan", "0", "-1"])
def test_a_timeout_must_be_a_finite_positive_duration(tmp_path, bad):
    cfg = write(
        tmp_path / "fixmap.toml",
        f'[services.s]\nbase_url = "http://127.0.0.1:9"\ntimeout = {bad}\n',
    )
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert err.value.problems[0].field == "services.s.timeout"
