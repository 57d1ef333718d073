"""`fixmap route`: the JSON contract, ranking from the seed table, errors."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import FIXMAP


def route(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FIXMAP, "route", *args], capture_output=True, text=True, timeout=60)


def test_route_json_contract_best_first():
    proc = route("Deploy points to old snippets", "--json", "--top", "3")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["query"] == "Deploy points to old snippets"
    results = payload["results"]
    assert len(results) == 3
    assert set(results[0]) == {"id", "title", "score", "why"}
    assert results[0]["id"] == "vector_index_build_and_swap"
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(s, float) for s in scores)


def test_route_uses_and_survives_its_cache(fixmap_home):
    for f in (fixmap_home / "cache").glob("router-*"):
        f.unlink()  # cold, as after an install without `make`
    first = json.loads(route("users were charged twice after retries", "--json").stdout)
    assert list((fixmap_home / "cache").glob("router-*"))
    second = json.loads(route("users were charged twice after retries", "--json").stdout)
    assert first == second
    for f in (fixmap_home / "cache").glob("router-*"):
        f.write_text("garbage", encoding="utf-8")
    third = json.loads(route("users were charged twice after retries", "--json").stdout)
    assert third == first
    assert third["results"][0]["id"] == "idempotency_dedupe"


def test_route_human_output_and_empty_query():
    proc = route("429 storm and timeouts")
    assert proc.returncode == 0
    assert proc.stdout.startswith("1. rate_limit_backpressure")
    assert "why:" in proc.stdout
    empty = route("   ")
    assert empty.returncode == 2
    assert "empty" in empty.stderr


def test_route_bad_top_is_usage_error():
    assert route("x", "--top", "0").returncode == 2


def test_a_typo_in_a_command_suggests_the_right_one():
    for typo, meant in (("gaet", "gate"), ("playbok", "playbooks"), ("jornal", "journal")):
        proc = subprocess.run([FIXMAP, typo], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2
        assert proc.stderr.count(f"Did you mean '{meant}'?") == 1, proc.stderr
