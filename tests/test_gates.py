"""The gates engine on the real demo service and a real DuckDB history: each fault turns the
right target red, empty and NaN data never pass, errors stay apart from failures, and a site's
[gates] tables change thresholds."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from console.core import ConfigError, conditions
from console.demo.service import DemoService
from console.demo.site import site_config_toml
from console.gates import (
    GateError,
    GateRun,
    TargetResult,
    format_value,
    gate_sets,
    overall,
    run_gate_set,
)
from console.history import close_all, seed_demo_history
from console.site import BUILTIN_SETS, load_config
from tests.conftest import fresh_python, without_sampling

TOKEN = "gates-test-admin-token"


@pytest.fixture(scope="module", autouse=True)
def _history_closed_at_the_end():
    """A DuckDB connection still open at interpreter exit can abort it (duckdb#13904)."""
    yield
    close_all()


@pytest.fixture(scope="module")
def demo():
    with DemoService([], admin_token=TOKEN) as svc:
        yield svc


def make_site(folder: Path, svc: DemoService, extra: str = "", seed: bool = True):
    folder.mkdir(parents=True, exist_ok=True)
    text = without_sampling(site_config_toml(svc.url)) + "\n" + extra
    path = folder / "fixmap.toml"
    path.write_text(text)
    if seed:
        seed_demo_history(folder / "history.duckdb", "demo")
    return load_config(path)


@contextmanager
def fault(svc: DemoService, name: str):
    svc.set_fault(name, True)
    try:
        yield
    finally:
        svc.set_fault(name, False)


def statuses(run: GateRun) -> dict[str, str]:
    return {t.name: t.status for t in run.targets}


def red(run: GateRun) -> set[str]:
    return {t.name for t in run.deciding if t.status != "pass"}


# ------------------------------------------------------------------ the demo, live


def test_healthy_demo_readiness_is_go(tmp_path, demo):
    site = make_site(tmp_path, demo, seed=False)
    run = run_gate_set(site, "readiness", record=False)
    assert run.verdict == "go", [(t.name, t.status, t.reason) for t in run.targets]
    assert run.exit_code == 0
    names = [t.name for t in run.targets]
    for seed_target in ("delta_s", "coverage", "lambda", "idempotency", "index", "p95"):
        assert seed_target in names
    data = run.to_json()
    assert data["set"] == "readiness" and data["verdict"] == "go"
    for t in data["targets"]:
        assert {"name", "status", "value", "threshold", "reason"} <= set(t)
        assert t["reason"]
    p95 = run.target("p95")
    assert "budget 750 ms" in p95.reason and p95.unit == "ms"
    # each probe ran once for the whole set
    assert len({r.name for r in run.probe_results}) == len(run.probe_results)


def test_delta_s_is_judged_in_the_builtin_embedders_own_bands(tmp_path, demo):
    site = make_site(tmp_path, demo, seed=False)
    run = run_gate_set(site, "readiness", record=False)
    ds = run.target("delta_s")
    assert ds.status == "pass"
    assert ds.value > 0.45  # would fail the seed's sentence-embedder bar
    assert "own bands" in ds.reason and "0.45" in ds.reason and "lexical" in ds.reason
    assert ds.threshold.startswith("<= 0.85")
    assert ds.samples == 4  # the gold question and 3 paraphrases


@pytest.mark.parametrize(
    ("name", "target"),
    [("stale-index", "index"), ("duplicates", "idempotency"), ("latency", "p95")],
)
def test_each_fault_turns_its_target_red(tmp_path, demo, name, target):
    site = make_site(tmp_path, demo, seed=False)
    with fault(demo, name):
        run = run_gate_set(site, "readiness", record=False)
    assert run.verdict == "no-go" and run.exit_code == 1
    assert red(run) == {target}, [(t.name, t.status, t.reason) for t in run.targets]
    failing = run.target(target)
    assert failing.status == "fail" and failing.value is not None
    assert target in run.summary()
    if target == "p95":
        assert ">" in failing.reason and "budget 750 ms" in failing.reason


def test_model_drift_is_red_on_pins_and_lambda(tmp_path, demo):
    site = make_site(tmp_path, demo, seed=False)
    with fault(demo, "model-drift"):
        run = run_gate_set(site, "readiness", record=False)
    assert red(run) == {"version_lock", "lambda"}
    assert "divergent" in run.target("lambda").reason


def test_advisory_target_never_decides(tmp_path, demo):
    site = make_site(tmp_path, demo, seed=False)
    with fault(demo, "cold-cache"):
        run = run_gate_set(site, "readiness", record=False)
    warm = run.target("warmup")
    assert warm.dry_run and warm.status == "fail"
    assert run.verdict == "go"


def test_history_sets_go_on_the_seeded_week(tmp_path, demo):
    site = make_site(tmp_path, demo)
    for name in ("canary", "hard_stop"):
        run = run_gate_set(site, name, record=False)
        assert run.verdict == "go", [(t.name, t.status, t.reason) for t in run.targets]
        for t in run.targets:
            assert t.samples >= 5 and " over " in t.reason
    run = run_gate_set(site, "recovery", record=False)
    assert run.verdict == "go", [(t.name, t.status, t.reason) for t in run.targets]


def test_recovery_is_no_go_while_writes_duplicate(tmp_path, demo):
    site = make_site(tmp_path, demo)
    with fault(demo, "duplicates"):
        run = run_gate_set(site, "recovery", record=False)
    assert run.verdict == "no-go" and red(run) == {"duplicates"}
    assert "must be 0" in run.target("duplicates").reason


# ------------------------------------------------------------------ no data, NaN, errors


def test_empty_history_is_inconclusive_never_pass(tmp_path, demo):
    site = make_site(tmp_path, demo, seed=False)
    run = run_gate_set(site, "canary", record=False)
    assert run.verdict == "inconclusive" and run.exit_code == 2
    assert set(statuses(run).values()) == {"inconclusive"}
    for t in run.targets:
        assert t.reason.startswith("no data for") and t.value is None


def test_nan_and_empty_results_are_inconclusive_even_when_the_probe_passes(tmp_path, demo):
    nan_json = "import json; print(json.dumps({'status': 'pass', 'value': float('nan')}))"
    extra = f"""
[probes.nan_metric]
kind = "command"
argv = [{json.dumps(sys.executable)}, "-c", {json.dumps(nan_json)}]
judge = "json"
value_path = "value"

[gates.quiet.probe_nan]
probe = "nan_metric"
measure = "value"
pass = "<= 1"

[gates.quiet.sql_nan]
sql = "SELECT 'NaN'::DOUBLE AS v"
measure = "v"
pass = "<= 1"

[gates.quiet.sql_null]
sql = "SELECT avg(value) AS v FROM samples WHERE metric = 'nothing'"
measure = "v"
pass = "<= 1"

[gates.quiet.sql_no_rows]
sql = "SELECT value AS v FROM samples WHERE false"
measure = "v"
pass = "<= 1"
"""
    site = make_site(tmp_path, demo, extra, seed=False)
    run = run_gate_set(site, "quiet", record=False)
    assert run.probe_results[0].status == "pass"  # the probe itself says pass...
    for t in run.targets:
        assert t.status == "inconclusive", (t.name, t.reason)  # ...the gate does not
        assert t.reason.startswith("no data for")
    assert "NaN" in run.target("probe_nan").reason
    assert run.verdict == "inconclusive" and run.exit_code == 2


def test_too_few_samples_is_empty_and_on_empty_is_explicit(tmp_path, demo):
    extra = """
[gates.canary.error_rate]
min_samples = 100000

[gates.canary.coverage]
min_samples = 100000
on_empty = "pass"
"""
    site = make_site(tmp_path, demo, extra)
    run = run_gate_set(site, "canary", record=False)
    err = run.target("error_rate")
    assert err.status == "inconclusive" and "need at least 100000" in err.reason
    cov = run.target("coverage")
    assert cov.status == "pass" and "on_empty = pass" in cov.reason
    assert run.verdict == "inconclusive"


def test_probe_error_is_an_error_not_a_failure(tmp_path, demo):
    text_extra = ""
    site = make_site(tmp_path, demo, text_extra, seed=False)
    path = site.path
    path.write_text(
        path.read_text().replace(
            'live_url = "/index/stats"', 'live_url = "/index/stats"\nlive_hash = "no.such.path"'
        )
    )
    site = load_config(path)
    run = run_gate_set(site, "readiness", record=False)
    index = run.target("index")
    assert index.status == "error", index.reason
    assert "index" in index.reason and "no.such.path" in index.reason
    assert run.verdict == "inconclusive"


def test_unreachable_service_fails_the_live_targets(tmp_path):
    with DemoService([], admin_token=TOKEN) as svc:
        site = make_site(tmp_path, svc, seed=False)
    run = run_gate_set(site, "readiness", record=False)  # the service is gone now
    assert run.verdict == "no-go"
    # not answering is a fail where answering is the property (boot, p95); elsewhere (index,
    # pins...) the probe could not measure: an error, never a false mismatch, never a pass
    assert run.target("boot").status == "fail" and run.target("p95").status == "fail"
    for t in run.deciding:
        assert t.status in ("fail", "error"), (t.name, t.status, t.reason)
        assert "cannot connect" in t.reason or "failed" in t.reason
    assert run.target("index").status == "error"


def test_missing_probe_is_an_error_that_names_the_fix(tmp_path, demo):
    site = make_site(tmp_path, demo, seed=False)
    path = site.path
    text = path.read_text()
    start = text.index("[probes.idempotency]")
    end = text.index("[probes.pins]")
    path.write_text(text[:start] + text[end:])
    run = run_gate_set(load_config(path), "readiness", record=False)
    t = run.target("idempotency")
    assert t.status == "error"
    assert "no probe 'idempotency'" in t.reason and "enabled = false" in t.reason
    assert run.verdict == "inconclusive"


def test_sql_samples_with_limits(tmp_path, demo):
    sql = "SELECT * FROM (VALUES ('a', 1.0), ('b', 5.0), ('c', 2.0)) t(k, v)"
    extra = f"""
[gates.checks.strict]
sql = "{sql}"
measure = "v"
samples = "each"
pass = "<= 3"

[gates.checks.tolerant]
sql = "{sql}"
measure = "v"
samples = "each"
pass = "<= 3"
failure_limit = 1

[gates.checks.nan_row]
sql = "SELECT * FROM (VALUES ('a', 1.0), ('b', 'NaN'::DOUBLE)) t(k, v)"
measure = "v"
samples = "each"
pass = "<= 3"

[gates.checks.text_row]
sql = "SELECT * FROM (VALUES ('a', '1'), ('b', 'x')) t(k, v)"
measure = "v"
samples = "each"
pass = "<= 3"

[gates.checks.no_column]
sql = "SELECT 1 AS other"
measure = "v"
pass = "<= 3"
"""
    site = make_site(tmp_path, demo, extra, seed=False)
    run = run_gate_set(site, "checks", record=False)
    by = {t.name: t for t in run.targets}
    assert by["strict"].status == "fail" and "1 of 3" in by["strict"].reason
    assert by["strict"].value == 5.0
    assert by["tolerant"].status == "pass" and "within the limit" in by["tolerant"].reason
    assert by["nan_row"].status == "inconclusive"
    assert by["text_row"].status == "error"
    assert by["no_column"].status == "error" and "columns: other" in by["no_column"].reason
    assert run.verdict == "no-go"


# ------------------------------------------------------------------ site overrides


def test_site_override_changes_a_threshold(tmp_path, demo):
    extra = """
[gates.readiness.p95]
pass = "<= 1"

[gates.readiness.idempotency]
enabled = false
"""
    site = make_site(tmp_path, demo, extra, seed=False)
    spec = gate_sets(site)["readiness"]
    assert spec.target("p95").pass_ == "<= 1" and spec.target("p95").overridden == ("pass",)
    assert spec.target("p95").note  # the rest of the built-in target is kept
    run = run_gate_set(site, "readiness", record=False)
    assert "idempotency" not in statuses(run)
    p95 = run.target("p95")
    assert p95.status == "fail" and p95.threshold == "<= 1 ms"
    assert run.verdict == "no-go"


def test_overriding_delta_s_numbers_judges_them_as_written(tmp_path, demo):
    extra = """
[gates.readiness.delta_s]
pass = "<= 0.45"
fail = "> 0.99"
"""
    site = make_site(tmp_path, demo, extra, seed=False)
    run = run_gate_set(site, "readiness", record=False)
    ds = run.target("delta_s")
    assert ds.status == "inconclusive" and "own bands" not in ds.reason
    assert "between pass ≤ 0.45" in ds.reason


def test_bad_gate_tables_are_config_errors_at_their_line(tmp_path, demo):
    """Each problem names the file, the line of its table or key, and the table's path."""
    base = site_config_toml(demo.url) + "\n"
    for extra, line, where, needle in (
        ('[gates.readiness.p59]\npass = "<= 1"\n', 1, "gates.readiness.p59", "did you mean 'p95'"),
        ('[gates.readiness.p95]\npass = "about 1"\n', 2, "gates.readiness.p95.pass", "condition"),
        ('[gates.mine.x]\nmeasure = "y"\n', 1, "gates.mine.x", "needs a source"),
        (
            '[gates.mine.x]\nquery = "error_rate"\nmeasure = "y"\npass = "< 1"\n',
            2,
            "gates.mine.x.query",
            "error_rates",
        ),
        ("[gates.readiness.p95]\nthreshold = 1\n", 2, "gates.readiness.p95.threshold", "unknown"),
        ('[gates.Mine.x]\npass = "< 1"\n', 1, "gates.Mine", "lower-case"),
        ("[gates.mine]\n", 1, "gates.mine", "no targets"),
    ):
        folder = tmp_path / str(abs(hash(extra)))
        folder.mkdir()
        path = folder / "fixmap.toml"
        path.write_text(base + extra)
        with pytest.raises(ConfigError) as exc:
            load_config(path, eager=True)
        rendered = exc.value.render()
        at = f"{path}:{len(base.splitlines()) + line}: {where}: "
        assert at in rendered and needle in rendered, rendered


def test_each_bad_gate_table_is_its_own_problem(tmp_path, demo):
    extra = '[gates.mine.a]\nmeasure = "y"\n\n[gates.mine.b]\npass = "< 1"\n'
    path = tmp_path / "fixmap.toml"
    text = site_config_toml(demo.url) + "\n" + extra
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path, eager=True)
    lines = text.splitlines()
    a, b = lines.index("[gates.mine.a]") + 1, lines.index("[gates.mine.b]") + 1
    rendered = exc.value.render()
    assert (
        f"{path}:{a}: gates.mine.a: a new target needs a source (probe, query, sql or promql), pass"
        in (rendered)
    )
    assert (
        f"{path}:{b}: gates.mine.b: a new target needs a source (probe, query, sql or promql), measure"
        in (rendered)
    )


def test_unknown_set_and_no_site(tmp_path, demo):
    site = make_site(tmp_path, demo, seed=False)
    with pytest.raises(GateError, match="did you mean 'canary'"):
        run_gate_set(site, "canery")
    with pytest.raises(ConfigError, match="no site config"):
        run_gate_set(load_config(None), "readiness")


def test_builtin_sets_carry_the_seeds_numbers():
    r = BUILTIN_SETS["readiness"]["targets"]
    assert r["delta_s"]["pass"] == "<= 0.45" and r["coverage"]["pass"] == ">= 0.70"
    assert r["idempotency"]["pass"] == ">= 0.999" and r["index"]["pass"] == "== 0"
    h = BUILTIN_SETS["hard_stop"]["targets"]
    assert h["ds_p95_drift"]["pass"] == "<= 0.15" and h["coverage"]["pass"] == ">= 0.60"
    assert h["lambda_flip_rate"]["pass"] == "<= 0.20" and h["rate_5xx"]["pass"] == "<= 0.01"
    assert h["rate_429"]["pass"] == "<= 0.02" and h["p99_ratio"]["pass"] == "<= 2.0"
    c = BUILTIN_SETS["canary"]["targets"]
    assert c["ds_median_drift"]["pass"] == "<= 0.03" and c["p95_uplift"]["pass"] == "<= 0.15"
    assert BUILTIN_SETS["recovery"]["targets"]["error_rate"]["pass"] == "< 0.005"
    assert set(gate_sets(None)) == {"readiness", "canary", "hard_stop", "recovery"}


# ------------------------------------------------------------------ pure pieces


def _t(name: str, status: str, dry_run: bool = False) -> TargetResult:
    return TargetResult(name, status, None, None, "why", "probe x", dry_run=dry_run)


def test_overall_verdict_rules():
    assert overall([_t("a", "pass"), _t("b", "pass")]) == "go"
    assert overall([_t("a", "pass"), _t("b", "fail"), _t("c", "error")]) == "no-go"
    assert overall([_t("a", "pass"), _t("b", "error")]) == "inconclusive"
    assert overall([_t("a", "pass"), _t("b", "inconclusive")]) == "inconclusive"
    assert overall([_t("a", "pass"), _t("b", "fail", dry_run=True)]) == "go"
    assert overall([]) == "inconclusive"


def test_format_value():
    assert format_value(1840.2, "ms") == "1840 ms"
    assert format_value(0.999, "%") == "99.9%"
    assert format_value(0.0035, "%") == "0.35%"
    assert format_value(2.013, "x") == "2.01×"
    assert format_value(True, "bool") == "yes"
    assert format_value(3, "count") == "3"
    assert format_value(None) == "-"
    assert format_value(float("nan")) == "NaN"


def test_a_named_threshold_resolves_and_keeps_its_name():
    cond = conditions.parse("<= $budget_ms").resolved({"budget_ms": 750})
    assert cond.number == 750 and cond.ref == "budget_ms" and cond.text == "<= $budget_ms"
    assert conditions.judge(700.0, cond) == "pass" and conditions.judge(800.0, cond) == "fail"
    plain = conditions.parse("<= 0.45")
    assert plain.resolved({}) is plain
    with pytest.raises(conditions.ThresholdMissing):
        conditions.parse("<= $budget_ms").resolved({"budget_ms": float("nan")})


def test_importing_the_gates_loads_no_pydantic():
    """The built-in sets are plain data; pydantic loads when a site's [gates] are validated."""
    code = (
        "import sys, console.gates\n"
        "from console.site import BUILTIN_SETS\n"
        "console.gates.gate_sets(None)\n"
        "print('pydantic' in sys.modules)\n"
    )
    assert fresh_python(code) == "False"
