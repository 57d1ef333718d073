"""The simulated RAG service behind `fixmap demo`: real HTTP on loopback, its faults and admin."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from console.demo import FAULTS, HEALTHY_PINS, DemoError, DemoService, corpus

TOKEN = "test-admin-token-1234"


@pytest.fixture
def demo():
    with DemoService(admin_token=TOKEN) as svc:
        yield svc


def call(url, method="GET", body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
            return resp.status, dict(resp.headers), _decode(raw)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), _decode(err.read())


def _decode(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode()


def admin(svc, action, body=None, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return call(f"{svc.url}/admin/{action}", "POST", body if body is not None else {}, headers)


def test_health_readiness_and_manifest(demo):
    assert call(demo.url + "/healthz")[:1] == (200,)
    status, _h, ready = call(demo.url + "/readyz")
    assert status == 200
    assert (
        ready["status"] == "ready" and ready["phase"] == "ready" and ready["mode"] == "read-write"
    )
    _s, _h, manifest = call(demo.url + "/manifest")
    assert manifest["pins"] == HEALTHY_PINS
    assert manifest["chunk_count"] == len(corpus.CURRENT)
    assert manifest["index_hash"] == corpus.index_hash(corpus.CURRENT)
    _s, _h, live = call(demo.url + "/index/stats")
    assert (live["index_hash"], live["doc_count"], live["chunk_count"]) == (
        manifest["index_hash"],
        manifest["doc_count"],
        manifest["chunk_count"],
    )


def test_retrieve_is_deterministic_and_cites_the_index(demo):
    url = demo.url + "/retrieve?q=how+do+I+roll+back+a+bad+release&k=5"
    _s, headers, a = call(url + "&seed=1")
    _s, _h, b = call(url + "&seed=2")
    assert [r["id"] for r in a["results"]] == [r["id"] for r in b["results"]]
    first = a["results"][0]
    assert set(first) >= {"id", "anchor", "section", "text", "score", "index_hash"}
    assert first["section"] == "rollback"
    assert a["index_hash"] == corpus.index_hash(corpus.CURRENT)
    assert headers["X-Cache"] in ("HIT", "MISS")
    status, _h, body = call(demo.url + "/retrieve", "POST", {"query": "rate limit 429", "k": 2})
    assert status == 200 and len(body["results"]) == 2
    assert call(demo.url + "/retrieve")[0] == 400


def test_writes_honour_idempotency_keys_and_read_only(demo):
    key = {"Idempotency-Key": "k-1"}
    assert call(demo.url + "/write", "POST", {"x": 1}, key)[0] == 201
    status, _h, body = call(demo.url + "/write", "POST", {"x": 1}, key)
    assert status == 200 and body["replayed"] is True
    assert call(demo.url + "/effects?key=k-1")[2]["effects"] == 1
    assert admin(demo, "read-only")[0] == 200
    status, headers, _b = call(demo.url + "/write", "POST", {"x": 2}, {"Idempotency-Key": "k-2"})
    assert status == 423 and headers["Retry-After"]
    assert call(demo.url + "/readyz")[2]["mode"] == "read-only"
    admin(demo, "read-write")
    assert call(demo.url + "/write", "POST", {"x": 2}, {"Idempotency-Key": "k-2"})[0] == 201


def test_admin_needs_the_bearer_token(demo):
    assert admin(demo, "freeze", token=None)[0] == 401
    assert admin(demo, "freeze", token="wrong")[0] == 403
    assert call(demo.url + "/admin/state", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200


def test_flag_change_during_a_freeze_is_recorded_as_such(demo):
    """fixmap refuses it unless an engineer breaks glass; the service notes that it happened."""
    first = admin(demo, "flag", {"name": "rerank", "value": False})[2]
    assert first["flags"]["rerank"] is False and first["changed_during_freeze"] is False
    assert admin(demo, "freeze")[2]["frozen"] is True
    status, _h, during = admin(demo, "flag", {"name": "rerank", "value": True})
    assert status == 200 and during["changed_during_freeze"] is True
    admin(demo, "unfreeze")
    assert (
        admin(demo, "flag", {"name": "rerank", "value": True})[2]["changed_during_freeze"] is False
    )


def test_faults_switch_at_run_time_and_rollback_clears_a_bad_release(demo):
    for fault in ("stale-index", "model-drift", "duplicates", "latency", "rate-limit"):
        assert admin(demo, "fault", {"name": fault, "on": True})[0] == 200
    state = admin(demo, "state")[2]
    assert set(state["faults"]) == {
        "stale-index",
        "model-drift",
        "duplicates",
        "latency",
        "rate-limit",
    }
    assert call(demo.url + "/manifest")[2]["pins"]["model"] != HEALTHY_PINS["model"]
    assert call(demo.url + "/index/stats")[2]["index_hash"] != corpus.index_hash(corpus.CURRENT)
    status, body = admin(demo, "rollback")[0], admin(demo, "state")[2]
    assert status == 200
    assert body["faults"] == ["rate-limit"]  # not a release's fault: rollback leaves it
    assert call(demo.url + "/manifest")[2]["pins"] == HEALTHY_PINS
    assert admin(demo, "fault", {"name": "no-such"})[0] == 400


def test_stale_index_serves_old_snippets():
    with DemoService(["stale-index"], admin_token=TOKEN) as svc:
        _s, _h, body = call(svc.url + "/retrieve?q=canary+stages+percent&k=3")
        assert body["index_hash"] == corpus.index_hash(corpus.PREVIOUS)
        texts = [r["text"] for r in body["results"]]
        assert any("10 percent" in t for t in texts)


def test_rate_limit_fault_answers_429_with_retry_after_and_counts_it():
    with DemoService(["rate-limit"], admin_token=TOKEN) as svc:
        statuses = [call(svc.url + "/retrieve?q=same+question")[0:2] for _ in range(9)]
        limited = [h for s, h in statuses if s == 429]
        assert [s for s, _h in statuses].count(429) == 3 and all(h["Retry-After"] for h in limited)
        assert statuses[0][0] == 200  # the first call of a query always gets through
        metrics = call(svc.url + "/metrics")[2]
        assert 'demo_requests_total{path="/retrieve",status="429"} 3' in metrics
        assert "# TYPE demo_request_duration_seconds histogram" in metrics


def test_duplicates_fault_breaks_dedupe():
    with DemoService(["duplicates"], admin_token=TOKEN) as svc:
        for _ in range(3):
            call(svc.url + "/write", "POST", {}, {"Idempotency-Key": "dup"})
        assert call(svc.url + "/effects?key=dup")[2]["effects"] == 3
        assert "demo_side_effects_total 3" in call(svc.url + "/metrics")[2]


def test_cold_cache_misses_until_the_cache_is_warmed():
    with DemoService(["cold-cache"], admin_token=TOKEN) as svc:
        q = svc.url + "/retrieve?q=" + corpus.POPULAR_QUERIES[0].replace(" ", "+")
        # the skipped warm-up is the only writer: traffic (or a probe) does not warm it
        assert [call(q)[2]["cache"] for _ in range(3)] == ["miss"] * 3
        assert admin(svc, "cache/warm")[0] == 200
        assert call(q)[2]["cache"] == "hit"
        metrics = call(svc.url + "/metrics")[2]
        assert "demo_cache_misses_total 3" in metrics and "demo_cache_hits_total 1" in metrics
        svc.set_fault("cold-cache", False)  # off at run time: warm again, misses fill it
        other = svc.url + "/retrieve?q=a+query+nobody+warmed"
        assert [call(other)[2]["cache"] for _ in range(2)] == ["miss", "hit"]


def test_unknown_fault_is_refused():
    with pytest.raises(DemoError):
        DemoService(["slow"])
    assert set(FAULTS) == {
        "stale-index",
        "latency",
        "rate-limit",
        "duplicates",
        "model-drift",
        "cold-cache",
    }
