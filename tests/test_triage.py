"""Triage from pasted text, live evidence and alerts: the router on pasted text, the score floor,
the evidence sweep against a real demo service per fault, alert intake (issue 14)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from console.demo.faults import FAULTS
from console.demo.service import DemoService
from console.demo.site import SERVICE_NAME, write_site_config
from console.incident import AlertError, parse_alert, read_alert
from console.playbooks import load_catalog
from console.routing import Router, rank_text
from console.routing.paste import clean
from console.routing.text import raw_tokens
from tests.conftest import FIXMAP, ROOT

DATA = ROOT / "tests" / "data"
TOKEN = "triage-test-admin-token"

FAULT_ROUTE = {
    "stale-index": "vector_index_build_and_swap",
    "latency": "rollback_and_fast_recovery",
    "rate-limit": "rate_limit_backpressure",
    "duplicates": "idempotency_dedupe",
    "model-drift": "version_pinning_and_model_lock",
    "cold-cache": "cache_warmup_invalidation",
}


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_playbooks(load_catalog())


def run(*args: str, stdin: str | None = None, env: dict | None = None):
    return subprocess.run(
        [FIXMAP, *args], capture_output=True, text=True, timeout=120, input=stdin, env=env
    )


# ------------------------------------------------------------------ pasted text


def test_pasted_noise_is_read_or_dropped():
    words = raw_tokens(
        "[FIRING:1] KubePodCrashLooping namespace=rag pod=rag-api-6d9f8b7c5-x2kqz "
        "reason=ProgressDeadlineExceeded request_id=8f14e45fceea167a5a36dedd4bea2543 "
        "at 2026-11-30T03:12:44Z from 10.2.3.4:6379 queue=embed-jobs"
    )
    assert {"kube", "pod", "crash", "looping", "progress", "deadline", "exceeded"} <= set(words)
    assert {"queue", "embed", "jobs"} <= set(words)  # other labels keep key and value
    for noise in (
        "namespace",
        "rag",
        "6d9f8b7c5",
        "8f14e45fceea167a5a36dedd4bea2543",
        "03",
        "6379",
    ):
        assert noise not in words
    assert clean("docs_vB and vA stay") == "docs_vB and vA stay"  # the playbooks' own names


@pytest.mark.parametrize(
    ("text", "route", "named"),
    [
        ("KubePodCrashLooping", "deployment_deadlock", "KubePodCrashLooping"),
        ("HTTP/1.1 429 Too Many Requests", "rate_limit_backpressure", "429"),
        (
            "openai.RateLimitError: Error code: 429 - {'error': {'code': 'rate_limit_exceeded'}}",
            "rate_limit_backpressure",
            "RateLimitError",
        ),
        (
            "psycopg2.errors.ReadOnlySqlTransaction: cannot execute INSERT in a read-only transaction",
            "read_only_mode_and_maintenance_window",
            "ReadOnlySqlTransaction",
        ),
    ],
)
def test_an_alert_or_exception_alone_routes_and_why_names_it(router, text, route, named):
    top = router.route(text, top=3)[0]
    assert top.id == route
    assert named in top.why


def test_why_is_the_same_whatever_the_hash_seed():
    code = (
        "from console.playbooks import load_catalog\n"
        "from console.routing import Router\n"
        "r = Router.from_playbooks(load_catalog())\n"
        "for q in ['p95 doubled after deploy, 429s', 'answers cite old docs after the reindex',"
        " 'users charged twice when clients retry', 'canary 25 percent drift, roll back?']:\n"
        "    print([(x.id, x.score, x.why) for x in r.route(q, 5)])\n"
    )
    outs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        outs.add(proc.stdout)
    assert len(outs) == 1


def test_gibberish_is_no_route_with_symptoms_to_try(router):
    ranking = rank_text(router, "qwxz zzkq")
    assert not ranking.matched and ranking.results == []
    assert ranking.suggestions and ranking.nothing_text().startswith("no route matches \u2014 try")
    assert rank_text(router, "answers cite old snippets").matched


def test_route_cli_exits_1_when_nothing_matches():
    proc = run("route", "qwxz zzkq")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "no route matches" in proc.stderr and "try" in proc.stderr
    payload = json.loads(run("route", "qwxz zzkq", "--json").stdout)
    assert payload["matched"] is False and payload["results"] == [] and payload["suggestions"]


# ------------------------------------------------------------------ alerts


def test_alertmanager_payload_is_read():
    alert = read_alert(DATA / "alert_alertmanager_index.json")
    assert alert.source == "alertmanager" and alert.name == "IndexManifestMismatch"
    assert alert.title.startswith("IndexManifestMismatch: Live vector index hash differs")
    assert alert.severity == "S1" and alert.status == "firing"
    assert alert.labels["collection"] == "docs"
    assert {link["title"] for link in alert.links} == {"runbook_url", "source", "alertmanager"}
    assert alert.started_at == "2026-12-01T09:14:00.000Z"


def test_pagerduty_v3_incident_event_is_read():
    alert = read_alert(DATA / "alert_pagerduty_v3.json")
    assert alert.source == "pagerduty" and alert.severity == "S2"  # priority P2
    assert alert.labels["service"] == "rag-api" and alert.labels["incident"] == "4711"
    assert alert.links == [
        {"title": "pagerduty", "url": "https://acme.pagerduty.com/incidents/Q2W3E4R5T6Y7U8"}
    ]


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ('{"status": "firing"}', "alerts", "neither an Alertmanager webhook"),
        ('{"alerts": []}', "alerts", "empty"),
        ('{"alerts": [{"labels": {"severity": "page"}}]}', "alerts[0].labels.alertname", "missing"),
        (
            '{"event": {"resource_type": "incident", "data": {"id": "Q1"}}}',
            "event.data.title",
            "missing",
        ),
        ('{"alerts": [', None, "Expecting value"),
    ],
)
def test_a_bad_payload_says_what_is_missing(text, field, says):
    with pytest.raises(AlertError) as err:
        parse_alert(text, "payload.json")
    problem = err.value.problems[0]
    assert problem.file == "payload.json" and problem.field == field
    assert says in problem.reason


def test_route_alert_from_stdin_and_a_bad_file():
    text = (DATA / "alert_pagerduty_v3.json").read_text()
    proc = run("route", "--alert", "-", "--json", stdin=text)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["results"][0]["id"] == "rate_limit_backpressure"
    assert payload["alert"]["severity"] == "S2"
    bad = run("route", "--alert", "-", stdin='{"hello": 1}')
    assert bad.returncode == 2 and "alerts" in bad.stderr and "Traceback" not in bad.stderr


def test_incident_from_an_alertmanager_file_keeps_labels_and_ranks_the_route(fixmap_home):
    proc = run(
        "incident", "open", "--from-alert", str(DATA / "alert_alertmanager_index.json"), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    opened = json.loads(proc.stdout)
    assert opened["incident"]["severity"] == "S1"
    assert opened["triage"]["routes"][0]["id"] == "vector_index_build_and_swap"
    shown = json.loads(run("incident", "show", "--json").stdout)
    assert shown["title"].startswith("IndexManifestMismatch")
    alert_events = [e for e in shown["events"] if e["kind"] == "alert"]
    assert len(alert_events) == 1
    detail = alert_events[0]["detail"]
    assert detail["labels"]["collection"] == "docs" and detail["labels"]["severity"] == "critical"
    assert any(link["url"].startswith("https://runbooks.") for link in detail["links"])
    assert detail["routes"][0]["id"] == "vector_index_build_and_swap"
    # a second alert while this incident is open is refused and records nothing
    again = run("incident", "open", "--from-alert", str(DATA / "alert_pagerduty_v3.json"))
    assert again.returncode == 2 and "still open" in again.stderr


# ------------------------------------------------------------------ evidence, on a real demo


@pytest.fixture(scope="module")
def seeded_history(tmp_path_factory) -> Path:
    from console.history import seed_demo_history

    path = tmp_path_factory.mktemp("seed") / "history.duckdb"
    seed_demo_history(path, SERVICE_NAME)
    from console.history import close_all

    close_all()
    return path


@pytest.mark.parametrize("fault", FAULTS)
def test_triage_evidence_alone_points_at_the_route_that_mitigates_the_fault(
    fault, tmp_path, seeded_history
):
    assert set(FAULT_ROUTE) == set(FAULTS)
    env = {**os.environ, "FIXMAP_SECRET_DEMO_ADMIN_TOKEN": TOKEN}
    with DemoService(faults=[fault], admin_token=TOKEN) as svc:
        cfg = write_site_config(tmp_path, svc.url)
        # the demo's week of history, its incident included
        shutil.copy(seeded_history, tmp_path / "history.duckdb")
        proc = run("triage", "--json", "--config", str(cfg), env=env)
        if fault == "stale-index":  # words that match nothing rank nothing, evidence or not
            noise = run("triage", "qwxz zzkq", "--json", "--config", str(cfg), env=env)
            assert noise.returncode == 1
            said = json.loads(noise.stdout)
            assert said["routes"] == [] and said["suggestions"] and said["evidence"]["findings"]
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    ev = out["evidence"]
    assert ev["complete"] and any(c.startswith("9 probes") for c in ev["checked"])
    assert any(c.startswith("what changed") for c in ev["checked"])
    failing = [f for f in ev["findings"] if f["source"] == "probe" and f["status"] == "fail"]
    assert failing, ev
    by_evidence = sorted(out["routes"], key=lambda r: -r["evidence_score"])
    assert by_evidence[0]["id"] == FAULT_ROUTE[fault]
    assert by_evidence[0]["reasons"][0] in {f["text"] for f in failing}
    if fault == "stale-index":
        assert out["query"] == "" and out["routes"][0]["id"] == "vector_index_build_and_swap"
        assert out["routes"][0]["reasons"][0].startswith("index probe FAIL")


def test_triage_without_a_site_ranks_text_and_exits_1_on_nothing():
    proc = run("triage", "qwxz zzkq")
    assert proc.returncode == 1 and "no route matches" in proc.stderr
    ok = run("triage", "KubePodCrashLooping", "--json")
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["routes"][0]["id"] == "deployment_deadlock"


def test_a_failing_gate_target_is_evidence_for_its_route(tmp_path, monkeypatch, router):
    from console.gates import run_gate_set
    from console.site import load_config
    from console.triage import Evidence, gate_findings, triage

    monkeypatch.setenv("FIXMAP_SECRET_DEMO_ADMIN_TOKEN", TOKEN)
    with DemoService(faults=["duplicates"], admin_token=TOKEN) as svc:
        site = load_config(write_site_config(tmp_path, svc.url))
        run = run_gate_set(site, "readiness", record=False)
    found = gate_findings([run], site)
    assert [f.name for f in found] == ["idempotency"]
    assert found[0].kind == "exactly_once_share"
    ranked = triage(router, load_catalog(), "", Evidence(found))
    assert ranked.routes[0].id == "idempotency_dedupe"
    assert ranked.routes[0].reasons[0].startswith("gate readiness idempotency FAIL")


def _hanging_site(tmp_path):
    """A site whose one service accepts connections and never answers (closed by the test)."""
    import socket

    from console.site import load_config

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(
        '[site]\nname = "hangs"\n'
        f'[services.rag]\nbase_url = "http://127.0.0.1:{port}"\n'
        '[probes.health]\nkind = "http"\nurl = "/readyz"\ntimeout = "60s"\n',
        encoding="utf-8",
    )
    return load_config(cfg), server


def test_the_sweep_stops_at_its_deadline_and_says_so(tmp_path):
    import threading

    from console.triage import gather_evidence

    site, server = _hanging_site(tmp_path)
    mine = threading.Event()
    try:
        ev = gather_evidence(site, timeout=1.0, history=False, cancel=mine)
    finally:
        server.close()
    assert not mine.is_set()  # the caller's event is the caller's
    assert not ev.complete
    assert ev.findings == []  # nothing measured is nothing claimed
    assert any("no verdict in time" in p or "no answer within" in p for p in ev.problems), (
        ev.problems
    )


def test_the_sweep_stops_when_cancelled(tmp_path):
    import threading

    from console.triage import gather_evidence

    site, server = _hanging_site(tmp_path)
    cancel = threading.Event()
    done: list = []
    worker = threading.Thread(
        target=lambda: done.append(gather_evidence(site, timeout=60, cancel=cancel, history=False))
    )
    try:
        worker.start()
        cancel.set()
        worker.join(timeout=30)
    finally:
        server.close()
    assert not worker.is_alive() and done
    assert not done[0].complete


def test_every_probe_kind_and_known_metric_points_at_a_route():
    from console.history import KNOWN_METRICS
    from console.site.probe_spec import PROBE_KINDS
    from console.triage import evidence_map

    emap = evidence_map(load_catalog())
    for kind in PROBE_KINDS:
        if kind != "command":  # a command probe is whatever the site makes it: mapped by name
            assert emap.get(("probes", kind)), kind
    for metric in KNOWN_METRICS:
        assert emap.get(("metrics", metric)), metric
    # the heaviest route for each demo probe is the one that mitigates its fault
    assert emap[("probes", "index")][0][0] == "vector_index_build_and_swap"
    assert emap[("probes", "latency")][0][0] == "rollback_and_fast_recovery"


def test_evidence_says_when_it_was_taken_and_how_long_ago():
    from datetime import UTC, datetime

    from console.triage import Evidence

    ev = Evidence(started_at="2026-12-01T14:20:31+00:00")
    now = datetime(2026, 12, 1, 14, 23, 40, tzinfo=UTC)
    assert ev.taken(now) == "probed 14:20:31 UTC, 3m ago"
    assert Evidence().taken(now) == ""
