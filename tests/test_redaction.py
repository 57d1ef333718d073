"""The redaction funnel: every encoded form of a secret, value by value, the environment read
once per change; secrets valued like JSON literals or fixmap's own words break nothing."""

from __future__ import annotations

import base64
import html
import json
import os
import subprocess
import sys
from urllib.parse import quote

import pytest

from console.core import public_url, redact, redact_json, redact_obj
from console.core.redact import MASK, forget_all_for_tests, register_secret
from tests.conftest import FIXMAP

SECRET = "tok/3n&Value+With<Odd>=Chars~42"


@pytest.fixture(autouse=True)
def fresh():
    forget_all_for_tests()
    yield
    forget_all_for_tests()


def forms(value: str) -> dict[str, str]:
    raw = value.encode()
    return {
        "base64": base64.b64encode(raw).decode(),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "upper": value.upper(),
        "lower": value.lower(),
        "prefix": value[: len(value) // 2] + "…",
        "json slash": json.dumps(value)[1:-1].replace("/", "\\/"),
        "json u0026": json.dumps(value)[1:-1].replace("&", "\\u0026").replace("<", "\\u003c"),
        "html": html.escape(value),
        "html numeric": "".join(f"&#{ord(c)};" for c in value),
        "url": quote(value, safe=""),
        "url lower hex": quote(value, safe="").lower(),
    }


@pytest.mark.parametrize("name", list(forms(SECRET)))
def test_every_form_of_a_registered_secret_is_masked(name):
    register_secret(SECRET)
    form = forms(SECRET)[name]
    out = redact(f"the target said: {form} (end)")
    assert form.rstrip("…") not in out and MASK in out
    assert out.startswith("the target said: ") and out.endswith(" (end)")


def test_base64_at_any_offset_masks_the_whole_run():
    register_secret(SECRET)
    for user in ("a", "ab", "abc", "ops-team"):
        header = base64.b64encode(f"{user}:{SECRET}".encode()).decode()
        out = redact(f"Authorization: Basic {header}")
        assert header not in out and header[4:-4] not in out, user


def test_ordinary_text_is_left_alone():
    register_secret(SECRET)
    text = "p95 1234 ms over budget (http://127.0.0.1:8080/retrieve), 20 requests, tok/3"
    assert redact(text) == text


def test_url_userinfo_is_stripped_and_its_password_registered():
    shown = public_url("http://admin:s3cret-Passw0rd@127.0.0.1:9090/prom?x=1")
    assert shown == "http://127.0.0.1:9090/prom?x=1"
    assert "s3cret-Passw0rd" not in redact("login as s3cret-Passw0rd")
    assert redact("see https://bob:hunter2hunter2@example.com/x") == "see https://example.com/x"
    assert redact("https://{secret:u}:{secret:p}@host/x") == "https://{secret:u}:{secret:p}@host/x"


def test_structured_data_is_masked_value_by_value():
    for value in ("null", "false", "done", "true", "pass"):
        register_secret(value)
    record = {
        "type": "outcome",
        "status": "done",
        "exit_code": 0,
        "timed_out": False,
        "reason": None,
        "verdict": "pass",
        "output_tail": ["done in 3 s", "null pointer? false alarm"],
    }
    text = redact_json(record, separators=(",", ":"))
    back = json.loads(text)  # the secrets 'null' and 'false' cannot break the JSON
    assert back["status"] == "done" and back["verdict"] == "pass"  # fixmap's words stay words
    assert back["timed_out"] is False and back["reason"] is None and back["exit_code"] == 0
    assert back["output_tail"] == [f"{MASK} in 3 s", f"{MASK} pointer? {MASK} alarm"]


def test_keys_are_masked_too_and_values_nested_anywhere():
    register_secret("nested-secret-value")
    got = redact_obj({"nested-secret-value": [("x nested-secret-value",)], "n": 3})
    assert got == {MASK: [[f"x {MASK}"]], "n": 3}


def test_the_environment_is_read_again_only_when_it_changes(monkeypatch):
    monkeypatch.setenv("SERVICE_API_TOKEN", "env-only-credential-1")
    assert "env-only-credential-1" not in redact("printed env-only-credential-1")
    monkeypatch.setenv("SERVICE_API_TOKEN", "second-Credential-9x")
    out = redact("printed env-only-credential-1 and second-Credential-9x")
    assert out == f"printed env-only-credential-1 and {MASK}"  # the old value is no secret now
    monkeypatch.delenv("SERVICE_API_TOKEN")
    assert redact("second-Credential-9x") == "second-Credential-9x"


def test_a_text_masked_before_its_secret_was_known_is_masked_after(monkeypatch):
    """Masked texts are remembered; a new secret (registered or in the environment) must not
    be served the answer from before it was known."""
    text = "reason: upstream said tok-remembered-4711-abcdef"
    assert redact(text) == text
    assert redact_obj({"r": text}) == {"r": text}
    register_secret("tok-remembered-4711-abcdef")
    assert redact(text) == f"reason: upstream said {MASK}"
    assert redact_obj({"r": text}) == {"r": f"reason: upstream said {MASK}"}
    other = "reason: env said env-remembered-0815-xyz"
    assert redact(other) == other
    monkeypatch.setenv("SERVICE_API_TOKEN", "env-remembered-0815-xyz")
    assert redact(other) == f"reason: env said {MASK}"


def test_a_cut_secret_is_masked_from_half_of_it():
    register_secret("ghp_0123456789abcdefghijABCDEFGHIJ")
    assert "ghp_0123456789abcdef" not in redact("token ghp_0123456789abcdef… (cut)")
    assert redact("ghp_0123") == "ghp_0123"  # a quarter says little, and is common text


# ---------------------------------------------------------------- secrets like JSON literals


def test_secrets_named_and_valued_null_false_done_break_no_action(tmp_path, fixmap_home):
    marker = tmp_path / "ran"
    code = "import os, sys; open(sys.argv[1], 'a').write('x' + chr(10)); print('done')"
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(
        f"""
[actions.cmd]
kind = "custom"
destructive = false
argv = [{json.dumps(sys.executable)}, "-c", {json.dumps(code)}, {json.dumps(str(marker))}]
env = {{ A = "{{secret:null}}", B = "{{secret:false}}", C = "{{secret:done}}" }}
""",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "FIXMAP_SECRET_NULL": "null",
        "FIXMAP_SECRET_FALSE": "false",
        "FIXMAP_SECRET_DONE": "done",
        "FIXMAP_NO_KEYRING": "1",
    }

    def fixmap(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FIXMAP, *args],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )

    first = fixmap("act", "cmd", "--yes", "--json", "--config", str(cfg))
    assert first.returncode == 0, first.stderr
    done = json.loads(first.stdout)
    assert done["status"] == "done" and done["exit_code"] == 0
    plan = fixmap("act", "cmd", "--dry-run", "--key", "other", "--config", str(cfg)).stdout
    assert "A={secret:null}" in plan and "C={secret:done}" in plan  # names are no secrets
    journal = json.loads(fixmap("journal", "--json").stdout)
    assert journal["entries"][0]["status"] == "done"
    again = fixmap("act", "cmd", "--yes", "--json", "--config", str(cfg))
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "already_done"
    retry = fixmap("act", "cmd", "--yes", "--retry", "--config", str(cfg))
    assert retry.returncode in (0, 3), retry.stderr  # a key that succeeded never runs again
    assert marker.read_text().splitlines() == ["x"]
    for line in (fixmap_home / "journal.jsonl").read_text().splitlines():
        json.loads(line)  # every line still parses
