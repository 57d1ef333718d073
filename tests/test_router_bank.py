"""The example bank: what a team's on-call pastes teaches the router its route, a bank edit
rebuilds the cached router, and a broken bank file is named without losing the rest."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from console.playbooks import load_catalog
from console.routing import Router, build_router, get_router, rank_text
from console.routing.examples import load_examples
from console.site import load_config
from tests.conftest import FIXMAP

# a vendor's words no playbook, lexicon or bundled example uses
PASTE = "QuuxGateway: FrobnicatorWobbling upstream=zorblax shard=7"
TEAM_BANK = [
    "QuuxGateway FrobnicatorWobbling upstream=zorblax",
    "zorblax frobnicator wobbling again, quux gateway flapping",
    "[FIRING:1] FrobnicatorWobbling (service=zorblax)",
]


def _site(tmp_path: Path, bank: list[str] | None, pid: str = "shadow_traffic_mirroring"):
    team = tmp_path / "team"
    (team / "examples").mkdir(parents=True)
    if bank is not None:
        lines = "".join(f"- {json.dumps(t)}\n" for t in bank)
        (team / "examples" / f"{pid}.yaml").write_text(lines, encoding="utf-8")
    config = tmp_path / "fixmap.toml"
    config.write_text('playbook_dirs = ["team"]\n', encoding="utf-8")
    return load_config(config)


def test_a_team_bank_teaches_its_route_and_the_why_names_the_pasted_words(tmp_path, fixmap_home):
    without = rank_text(build_router(_site(tmp_path / "a", None)), PASTE)
    assert not without.matched or without.results[0].id != "shadow_traffic_mirroring"

    ranking = rank_text(build_router(_site(tmp_path / "b", TEAM_BANK)), PASTE)
    assert ranking.matched
    best = ranking.results[0]
    assert best.id == "shadow_traffic_mirroring"
    assert best.why.startswith("like its examples: ")
    assert "frobnicator" in best.why.lower() or "zorblax" in best.why.lower()


def test_editing_the_bank_rebuilds_the_cached_router(tmp_path, fixmap_home):
    site = _site(tmp_path, TEAM_BANK, pid="retry_backoff")
    assert get_router(site).route(PASTE, 1)[0].id == "retry_backoff"
    bank = tmp_path / "team" / "examples"
    (bank / "retry_backoff.yaml").rename(bank / "idempotency_dedupe.yaml")
    assert get_router(site).route(PASTE, 1)[0].id == "idempotency_dedupe"


def test_the_bundled_bank_is_what_a_bare_router_is_built_with():
    catalog = load_catalog()
    bundled, problems = load_examples([Path(__import__("playbooks").__file__).parent])
    assert problems == []
    assert set(bundled) <= {pb.id for pb in catalog}
    # each bundled playbook has a bank of its own, and the bank changes the ranking
    assert {pb.id for pb in catalog} == set(bundled)
    query = "stripe.error.IdempotencyError: Keys for idempotent requests can only be used once"
    with_bank = Router.from_playbooks(catalog).route(query, 1)[0]
    bare = Router.from_playbooks(catalog, {}).route(query, 1)[0]
    assert with_bank.id == "idempotency_dedupe"
    assert with_bank.score != bare.score


def test_a_broken_bank_file_is_named_and_the_rest_still_loads(tmp_path):
    bank = tmp_path / "examples"
    bank.mkdir()
    (bank / "retry_backoff.yaml").write_text('- "retry storm"\n- [1, 2]\n', encoding="utf-8")
    (bank / "idempotency_dedupe.yaml").write_text("- [unclosed\n", encoding="utf-8")
    (bank / "cache_warmup_invalidation.yaml").write_text("key: value\n", encoding="utf-8")
    texts, problems = load_examples([tmp_path])
    assert texts == {"retry_backoff": ["retry storm"]}
    said = {Path(p.file).name: p.message for p in problems}
    assert said["retry_backoff.yaml"] == "item 2 is not a text; skipped"
    assert said["idempotency_dedupe.yaml"].startswith("not readable YAML at line 2:")
    assert "must be a YAML list" in said["cache_warmup_invalidation.yaml"]


def test_validate_names_bank_problems_and_a_file_for_no_playbook(tmp_path, fixmap_home):
    bank = tmp_path / "examples"
    bank.mkdir()
    (bank / "retry_backof.yaml").write_text('- "retry storm"\n', encoding="utf-8")
    (bank / "rate_limit_backpressure.yaml").write_text('- "429s"\n- 42\n', encoding="utf-8")
    proc = subprocess.run(
        [FIXMAP, "playbooks", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "retry_backof.yaml: no playbook 'retry_backof' to teach; rename it to " in proc.stderr
    assert "retry_backoff.yaml" in proc.stderr
    assert "rate_limit_backpressure.yaml: item 2 is not a text; skipped" in proc.stderr
    assert "example bank: 2 texts for 2 playbooks" in proc.stdout


def test_the_bank_sits_beside_the_cached_router_and_a_lost_one_is_rebuilt(fixmap_home):
    from console.routing import cached_router, warm
    from console.site import Site

    cache = warm()
    bank_file = cache.with_suffix(".bank.state")
    assert bank_file.is_file()
    assert b"bank_features" not in cache.read_bytes()  # the first route reads it, not the frame
    query = "haproxy: be_llm/<NOSRV> 503 sQ-- 812/812/790 POST /v1/answer"
    fresh = [(r.id, r.score) for r in build_router(Site()).route(query, 3)]
    assert [(r.id, r.score) for r in cached_router(Site()).route(query, 3)] == fresh

    # (warm() wrote these files anew: damaging them leaves the other tests' links alone)
    for damage in (
        bank_file.unlink,
        lambda: bank_file.write_text("{", encoding="utf-8"),
        lambda: bank_file.write_bytes(bank_file.read_bytes()[:-1000]),  # a disk that filled up
    ):
        damage()
        router = cached_router(Site())
        assert router is not None  # the first frame still gets its routes
        assert [(r.id, r.score) for r in router.route(query, 3)] == fresh
        assert b"bank_features" in bank_file.read_bytes()
