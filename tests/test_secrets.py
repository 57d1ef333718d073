"""Secrets resolve from keyring, else the environment; keyring never prompts or hangs; redaction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from console.core import secrets
from console.core.redact import (
    MASK,
    forget_all_for_tests,
    redact,
    redact_json,
    redact_obj,
    register_secret,
)


@pytest.fixture(autouse=True)
def fresh_secrets():
    secrets.reset_for_tests()
    forget_all_for_tests()
    yield
    secrets.reset_for_tests()
    forget_all_for_tests()


def _backend_module(tmp_path: Path, monkeypatch, body: str, name: str = "fxkr") -> Path:
    """A real keyring backend in a module of its own, selected by PYTHON_KEYRING_BACKEND."""
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return tmp_path


FILE_BACKEND = """
    import json, os
    from keyring.backend import KeyringBackend

    class FileKeyring(KeyringBackend):
        priority = 1
        def _data(self):
            try:
                with open(os.environ["FXKR_FILE"]) as fh:
                    return json.load(fh)
            except FileNotFoundError:
                return {}
        def get_password(self, service, username):
            return self._data().get(service + "/" + username)
        def set_password(self, service, username, password):
            raise NotImplementedError
        def delete_password(self, service, username):
            raise NotImplementedError
"""


def test_env_var_name():
    assert secrets.env_var("demo_admin_token") == "FIXMAP_SECRET_DEMO_ADMIN_TOKEN"
    assert secrets.env_var("vec.api-key") == "FIXMAP_SECRET_VEC_API_KEY"


def test_fail_backend_falls_back_to_env_and_registers_for_redaction(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("FIXMAP_SECRET_TOK", "canary-env-value-1")
    assert secrets.resolve("tok") == "canary-env-value-1"
    assert not secrets.keyring_status().usable
    assert "canary-env-value-1" not in redact("token is canary-env-value-1 here")


def test_missing_secret_names_both_places(monkeypatch):
    with pytest.raises(secrets.SecretError) as err:
        secrets.resolve("demo_admin_token")
    text = err.value.render()
    assert "demo_admin_token" in text
    assert "keyring set fixmap demo_admin_token" in text
    assert "FIXMAP_SECRET_DEMO_ADMIN_TOKEN" in text
    assert err.value.exit_code == 2


def test_short_and_badly_named_secrets_are_refused(monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_PIN", "123")
    with pytest.raises(secrets.SecretError, match="shorter than 4"):
        secrets.resolve("pin")
    with pytest.raises(secrets.SecretError, match="not a valid secret name"):
        secrets.resolve("a b")


def test_keyring_wins_over_env_with_a_usable_backend(tmp_path, monkeypatch):
    _backend_module(tmp_path, monkeypatch, FILE_BACKEND)
    store = tmp_path / "kr.json"
    store.write_text(json.dumps({"fixmap/tok": "from-keyring-value"}))
    monkeypatch.setenv("FXKR_FILE", str(store))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "fxkr.FileKeyring")
    monkeypatch.setenv("FIXMAP_SECRET_TOK", "from-env-value")
    assert secrets.resolve("tok") == "from-keyring-value"
    assert secrets.keyring_status().usable
    assert secrets.source("tok") == "keyring"
    with pytest.raises(secrets.SecretError, match=r"keyring backend: fxkr\.FileKeyring"):
        secrets.resolve("missing_one")


def test_encrypted_file_style_backend_is_skipped_without_being_called(tmp_path, monkeypatch):
    """keyrings.alt's encrypted file asks for a password via getpass: such a backend is never called."""
    _backend_module(
        tmp_path,
        monkeypatch,
        """
        import getpass, os
        from keyring.backend import KeyringBackend

        class EncryptedKeyring(KeyringBackend):
            priority = 0.6
            def _unlock(self):
                self.keyring_key = getpass.getpass("Please enter password for encrypted keyring: ")
            def get_password(self, service, username):
                open(os.environ["FXKR_CALLED"], "w").write("called")
                self._unlock()
                return "never"
            def set_password(self, *a):
                raise NotImplementedError
            def delete_password(self, *a):
                raise NotImplementedError
    """,
    )
    called = tmp_path / "called"
    monkeypatch.setenv("FXKR_CALLED", str(called))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "fxkr.EncryptedKeyring")
    monkeypatch.setenv("FIXMAP_SECRET_TOK", "env-fallback-value")
    assert secrets.resolve("tok") == "env-fallback-value"
    status = secrets.keyring_status()
    assert not status.usable and "password" in status.reason
    assert not called.exists()


def test_unknown_prompting_backend_cannot_prompt(tmp_path, monkeypatch):
    """A backend fixmap does not recognise still cannot read a password: prompts are refused."""
    _backend_module(
        tmp_path,
        monkeypatch,
        """
        import getpass
        from keyring.backend import KeyringBackend

        class Asker(KeyringBackend):
            priority = 1
            def get_password(self, service, username):
                return getpass.getpass("password: ") or input("again: ")
            def set_password(self, *a):
                raise NotImplementedError
            def delete_password(self, *a):
                raise NotImplementedError
    """,
    )
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "fxkr.Asker")
    monkeypatch.setenv("FIXMAP_SECRET_TOK", "env-fallback-value")
    started = time.monotonic()
    assert secrets.resolve("tok") == "env-fallback-value"
    assert time.monotonic() - started < secrets.KEYRING_TIMEOUT


def test_hanging_backend_costs_its_timeout_then_env(tmp_path, monkeypatch):
    _backend_module(
        tmp_path,
        monkeypatch,
        """
        import threading
        from keyring.backend import KeyringBackend

        class Stuck(KeyringBackend):
            priority = 1
            def get_password(self, service, username):
                threading.Event().wait()  # a locked Secret Service that never answers
            def set_password(self, *a):
                raise NotImplementedError
            def delete_password(self, *a):
                raise NotImplementedError
    """,
    )
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "fxkr.Stuck")
    monkeypatch.setenv("FIXMAP_SECRET_TOK", "env-fallback-value")
    monkeypatch.setattr(secrets, "KEYRING_TIMEOUT", 1.5)
    started = time.monotonic()
    assert secrets.resolve("tok") == "env-fallback-value"
    assert time.monotonic() - started < 5
    assert "did not answer" in secrets.keyring_status().reason
    # the verdict is kept: the next secret costs nothing
    monkeypatch.setenv("FIXMAP_SECRET_TWO", "second-value")
    started = time.monotonic()
    assert secrets.resolve("two") == "second-value"
    assert time.monotonic() - started < 0.5


def test_chainer_with_no_usable_backend_is_skipped(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.chainer.ChainerBackend")
    monkeypatch.setenv("FIXMAP_SECRET_TOK", "env-fallback-value")
    # make sure no real desktop keyring of this machine takes part
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert secrets.resolve("tok") == "env-fallback-value"
    status = secrets.keyring_status()
    assert not status.usable and "chainer" in status.reason


def test_fail_backend_in_a_process_with_stdin_closed_never_hangs(tmp_path):
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "FIXMAP_SECRET_TOK": "env-value-in-child",
    }
    code = "from console.core.secrets import resolve; print(len(resolve('tok')))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(len("env-value-in-child"))
    assert "password" not in (proc.stderr + proc.stdout).lower()


# ---------------------------------------------------------------- redaction


def test_redact_known_value_in_every_encoding():
    value = 's3cr3t/value+with "quotes"'
    register_secret(value)
    from urllib.parse import quote, quote_plus

    for form in (value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]):
        assert form not in redact(f"before {form} after"), form
    assert value not in redact_json({"a": [value], value: 1})


def test_redact_multiline_secret_line_by_line():
    register_secret("first-line-secret\nsecond-line-secret")
    assert "second-line-secret" not in redact("output: second-line-secret")


def test_redact_shapes_and_keeps_placeholders():
    text = (
        'Authorization: Bearer abcdefghijklmnop password=hunter22x api_key: "zzzzzzzzzz" '
        "https://bob:pa55word@example.com/x {secret:demo_admin_token}"
    )
    out = redact(text)
    for leaked in ("abcdefghijklmnop", "hunter22x", "zzzzzzzzzz", "pa55word"):
        assert leaked not in out
    assert "{secret:demo_admin_token}" in out
    assert (
        redact('"Authorization": "Bearer {secret:tok}"') == '"Authorization": "Bearer {secret:tok}"'
    )


def test_redact_env_named_credentials(monkeypatch):
    monkeypatch.setenv("SOME_SERVICE_TOKEN", "env-token-never-resolved")
    monkeypatch.setenv("FIXMAP_SECRET_X", "fixmap-secret-in-env")
    monkeypatch.setenv("FIXMAP_SECRET_Y", "tiny")
    monkeypatch.setenv("OTHER_TOKEN", "short")
    out = redact("env-token-never-resolved and fixmap-secret-in-env, tiny, short")
    assert "env-token-never-resolved" not in out and "fixmap-secret-in-env" not in out
    assert "tiny" not in out and "short" in out  # short values mask only when named as fixmap's
    assert out.count(MASK) == 3


def test_redact_obj_keys_and_nested():
    register_secret("nested-secret")
    got = redact_obj({"nested-secret": ["x nested-secret", ("nested-secret",)], "n": 3})
    assert "nested-secret" not in json.dumps(got)
    assert got[MASK][1] == [MASK] and got["n"] == 3


def test_short_values_are_not_registered():
    assert register_secret("abc") is False
    assert redact("abc abc") == "abc abc"


# ------------------------------------------------------------------ one file per secret


def test_secret_files_come_after_keyring_and_env(tmp_path, monkeypatch):
    folder = tmp_path / "secrets"
    path = secrets.store_in_dir(folder, "admin_token", "from-the-file-0123\n")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    secrets.use_secrets_dir(folder)
    assert secrets.resolve("admin_token") == "from-the-file-0123"  # trailing newline dropped
    assert secrets.source("admin_token") == f"file {path}"
    assert redact("x from-the-file-0123 y") == f"x {MASK} y"
    monkeypatch.setenv("FIXMAP_SECRET_ADMIN_TOKEN", "from-the-environment")
    assert secrets.resolve("admin_token") == "from-the-environment"


def test_credentials_directory_is_read_after_secrets_dir(tmp_path, monkeypatch):
    site_dir, creds = tmp_path / "site", tmp_path / "creds"
    secrets.store_in_dir(creds, "db_password", "systemd-credential-value")
    secrets.store_in_dir(creds, "shared", "from-credentials-dir")
    secrets.store_in_dir(site_dir, "shared", "from-the-site-dir")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    secrets.use_secrets_dir(site_dir)
    assert secrets.resolve("db_password") == "systemd-credential-value"
    assert secrets.resolve("shared") == "from-the-site-dir"
    assert secrets.secret_dirs() == [site_dir, creds]


def test_a_world_readable_secret_file_is_refused_with_the_fix(tmp_path):
    folder = tmp_path / "secrets"
    path = secrets.store_in_dir(folder, "api_key", "readable-by-all-1234")
    path.chmod(0o644)
    secrets.use_secrets_dir(folder)
    with pytest.raises(secrets.SecretError) as info:
        secrets.resolve("api_key")
    text = str(info.value)
    assert "readable by every user" in text and "0644" in text and f"chmod 600 {path}" in text
    assert secrets.source("api_key") is None
    assert redact("readable-by-all-1234") == "readable-by-all-1234"  # never registered


def test_a_missing_secret_names_the_secrets_dir_file_too(tmp_path):
    secrets.use_secrets_dir(tmp_path / "secrets")
    with pytest.raises(
        secrets.SecretError, match=r"write it to .*secrets/nothing_here \(chmod 600\)"
    ):
        secrets.resolve("nothing_here")
    with pytest.raises(secrets.SecretError):
        secrets.resolve("..")  # a folder, never a secret


def test_the_config_names_its_secrets_dir_relative_to_itself(tmp_path):
    from console.site import load_config

    secrets.store_in_dir(tmp_path / "conf" / "creds", "tok", "relative-dir-secret")
    cfg = tmp_path / "conf" / "fixmap.toml"
    cfg.write_text('secrets_dir = "creds"\n')
    assert load_config(cfg).config.secrets_dir == Path("creds")
    assert secrets.resolve("tok") == "relative-dir-secret"
    (tmp_path / "other.toml").write_text("")
    load_config(tmp_path / "other.toml")
    with pytest.raises(secrets.SecretError):
        secrets.resolve("tok")  # another config, without secrets_dir: the folder is not read


def test_child_environ_drops_every_fixmap_secret(monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_ONE", "one-secret-value")
    monkeypatch.setenv("PATH_LIKE_THING", "kept")
    env = secrets.child_environ()
    assert "FIXMAP_SECRET_ONE" not in env and env["PATH_LIKE_THING"] == "kept"
