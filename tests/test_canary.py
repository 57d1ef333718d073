"""A canary secret echoed back in every form a target or a command can give it, through every
output fixmap has: stdout, stderr, --json, the journal, probe records, every DuckDB table, the
incident timeline and its exports, and the console's screen. Real loopback servers, real
subprocesses, a real Textual app; zero occurrences anywhere."""

from __future__ import annotations

import base64
import html
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tests.conftest import FIXMAP

PY = sys.executable
CANARY = "fxC4nary/Q9&zK+7mW<p>Lr2=vX8tN~e4Y"
"""Every encoding below changes at least one of its characters."""
USERINFO_PW = "pW-userinfo-Zq81x7Lm2Rt9"
"""A password given in a Prometheus URL (http://admin:PW@host)."""


def encoded(value: str) -> dict[str, str]:
    """The eight forms of the issue, as a target or a command would echo them."""
    raw = value.encode()
    return {
        "base64": base64.b64encode(raw).decode(),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "upper_case": value.upper(),
        "prefix": value[: len(value) // 2 + 1],
        "json_slash": json.dumps(value)[1:-1].replace("/", "\\/"),
        "json_u0026": json.dumps(value)[1:-1]
        .replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e"),
        "html_entities": html.escape(value),
        "url_quoted": quote(value, safe=""),
    }


FORMS = {"raw": CANARY, **encoded(CANARY), "pw": USERINFO_PW}
FORMS["basic auth"] = base64.b64encode(b"admin:" + USERINFO_PW.encode()).decode()[:-4]
FORMS["bearer in basic"] = base64.b64encode(b"ops:" + CANARY.encode()).decode()[8:-8]
FORMS["pw prefix"] = USERINFO_PW[: len(USERINFO_PW) // 2 + 1]


WINDOW = 16
"""A piece of a form this long is a leak too (a cell or a line cut after 16 characters of a
base64 form still gives away 12 bytes of the secret)."""


def leaks(text: str) -> list[str]:
    """The forms found in the text, whole or as a piece of WINDOW characters, also with one
    level of JSON string escapes undone (inside a JSON string backslashes are doubled)."""
    unescaped = text.replace("\\\\", "\\")
    found = []
    for name, form in FORMS.items():
        pieces = {form[i : i + WINDOW] for i in range(max(len(form) - WINDOW, 0) + 1)}
        if any(p in text or p in unescaped for p in pieces):
            found.append(name)
    return found


# ---------------------------------------------------------------- the servers


def _token(headers) -> str:
    auth = headers.get("Authorization", "")
    return auth.split(" ", 1)[1] if " " in auth else auth


class Loopback:
    """A chatty target and a Prometheus that echo what they were sent, on 127.0.0.1."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: str, ctype: str = "application/json") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                token = _token(self.headers)
                outer.seen.append(token)
                forms = encoded(token)
                if self.path.startswith("/echo.txt"):
                    text = " ".join(f"{k}={v}" for k, v in forms.items())
                    self._send(200, f"<html>{forms['html_entities']} {text}</html>", "text/html")
                    return
                basic = base64.b64encode(b"ops:" + token.encode()).decode()
                body = {"status": "ok", "raw": token, "forms": forms, "header": f"Basic {basic}"}
                self._send(200, json.dumps(body))

            def do_POST(self):
                auth = self.headers.get("Authorization", "")
                outer.seen.append(auth)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/bad/"):
                    token = _token(self.headers)
                    forms = " ".join(encoded(token).values())
                    self._send(401, f"unauthorized: '{auth}' rejected ({forms})", "text/plain")
                    return
                now = time.time()
                result = {
                    "metric": {"__name__": "up", "job": "t", "echo": auth, "pw": USERINFO_PW},
                    "values": [[now - 120 + i * 60, "1"] for i in range(3)],
                }
                data = {"resultType": "matrix", "result": [result]}
                self._send(200, json.dumps({"status": "success", "data": data}))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


COMMAND = r"""
import base64, html, json, os, sys
from urllib.parse import quote
t = os.environ["TOK"]
forms = dict(
    b64=base64.b64encode(t.encode()).decode(),
    b64url=base64.urlsafe_b64encode(t.encode()).decode().rstrip("="),
    upper=t.upper(),
    prefix=t[: len(t) // 2 + 1] + "...",
    slash=json.dumps(t)[1:-1].replace("/", "\\/"),
    u0026=json.dumps(t)[1:-1].replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"),
    html=html.escape(t),
    url=quote(t, safe=""),
)
if sys.argv[1] == "json":
    print(json.dumps(dict(status="fail", raw=t, forms=forms)))
else:
    for k, v in forms.items():
        print(k, v)
    print("Authorization: Basic " + base64.b64encode(("ops:" + t).encode()).decode())
    print(json.dumps(dict(token=t)).replace("/", "\\/"))
"""


def s(value: str) -> str:
    return json.dumps(value)


def site_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "fixmap.toml"
    path.write_text(
        f"""
[site]
name = "canary"

[services.t]
base_url = {s(url)}

[probes.echo]
kind = "http"
service = "t"
url = "/echo"
headers = {{ Authorization = "Bearer {{secret:canary}}" }}
checks = [
    {{ path = "raw", equals = "something else" }},
]

[probes.forms]
kind = "http"
service = "t"
url = "/echo"
bearer_secret = "canary"
checks = [
{"".join(f'    {{ path = "forms.{k}", exists = true }},{chr(10)}' for k in encoded("x"))}
    {{ path = "header", exists = true }},
]

[probes.page]
kind = "http"
service = "t"
url = "/echo.txt"
bearer_secret = "canary"
expect_json = {{ status = "ok" }}

[probes.script]
kind = "command"
argv = [{s(PY)}, "-c", {s(COMMAND)}, "json"]
secret_env = {{ TOK = "canary" }}
judge = "json"

[actions.echo]
kind = "custom"
description = "print the token in every form"
destructive = false
argv = [{s(PY)}, "-c", {s(COMMAND)}, "lines"]
env = {{ TOK = "{{secret:canary}}" }}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def loopback():
    servers = Loopback()
    yield servers
    servers.close()


@pytest.fixture
def canary_env(monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_CANARY", CANARY)
    monkeypatch.setenv("FIXMAP_NO_KEYRING", "1")
    return {**os.environ}


def fixmap(*args: str, env: dict) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FIXMAP, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def dump_duckdb(path: Path) -> str:
    """Every row of every table of a history file, as text."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
        out = []
        for t in tables:
            out.append(f"-- {t}")
            out.extend(repr(r) for r in con.execute(f'SELECT * FROM "{t}"').fetchall())
        return "\n".join(out)
    finally:
        con.close()


def test_the_canary_in_every_encoded_form_appears_nowhere(
    tmp_path, loopback, canary_env, fixmap_home
):
    cfg = site_config(tmp_path, loopback.url)
    c = ["--config", str(cfg)]
    host = urlsplit(loopback.url).netloc
    outputs: dict[str, subprocess.CompletedProcess[str]] = {}

    def run(name: str, *args: str, codes=(0,)) -> subprocess.CompletedProcess[str]:
        proc = fixmap(*args, env=canary_env)
        assert proc.returncode in codes, (name, proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr, (name, proc.stderr)
        outputs[name] = proc
        return proc

    run("incident open", "incident", "open", "canary drill", *c)
    run("probe", "probe", "--all", *c, codes=(1,))
    probe_json = json.loads(run("probe --json", "probe", "--all", "--json", *c, codes=(1,)).stdout)
    statuses = {r["name"]: r["status"] for r in probe_json["results"]}
    assert statuses["echo"] == "fail" and statuses["forms"] == "pass", statuses
    assert statuses["script"] == "fail" and statuses["page"] == "error", statuses
    run("act", "act", "echo", "--yes", *c)
    acted = json.loads(
        run("act --json", "act", "echo", "--yes", "--json", "--key", "k2", *c).stdout
    )
    assert acted["status"] == "done", acted
    run("journal", "journal")
    journal = json.loads(run("journal --json", "journal", "--json").stdout)
    assert journal["entries"][0]["output_tail"], journal  # the command's lines are kept, masked
    # a Prometheus that echoes the bearer token in its 401 body
    bad = run(
        "ingest 401",
        "history",
        "ingest",
        "--prometheus",
        f"{loopback.url}/bad",
        "--query",
        "up",
        "--token-secret",
        "canary",
        *c,
        codes=(2,),
    )
    assert "401" in bad.stderr and "token" in bad.stderr
    # userinfo in the URL: used to log in, never printed or stored
    good = run(
        "ingest userinfo",
        "history",
        "ingest",
        "--prometheus",
        f"http://admin:{USERINFO_PW}@{host}/ok",
        "--query",
        "up",
        "--since",
        "10m",
        "--step",
        "60s",
        "--json",
        *c,
    )
    assert json.loads(good.stdout)["rows"] == 3
    run("ingest userinfo text", "history", "ingest", "--prometheus", f"http://admin:{USERINFO_PW}@{host}/ok", "--query", "up", "--since", "10m", "--step", "60s", *c)  # fmt: skip
    assert any(a.startswith("Basic ") for a in loopback.seen)  # the userinfo really logged in
    for table in ("probe_results", "ingests", "samples", "events"):
        run(f"query {table}", "history", "query", f"SELECT * FROM {table}", *c)
        run(f"query {table} --json", "history", "query", f"SELECT * FROM {table}", "--json", *c)
    run("incident show", "incident", "show")
    run("incident show --json", "incident", "show", "--json")
    export_md = tmp_path / "exports" / "pm.md"
    export_md.parent.mkdir()
    run("export md", "incident", "export", "-o", str(export_md), *c)
    run("export json", "incident", "export", "--format", "json", *c)

    assert CANARY in loopback.seen  # the target was really sent the secret
    problems = []
    for name, proc in outputs.items():
        for stream in ("stdout", "stderr"):
            found = leaks(getattr(proc, stream))
            if found:
                problems.append(f"{name} {stream}: {found}")
    files = [p for p in fixmap_home.rglob("*") if p.is_file()] + [export_md]
    assert any(p.name == "journal.jsonl" for p in files)
    assert any(p.name == "probe_runs.jsonl" for p in files)
    assert any(p.parent.name == "incidents" for p in files)
    for path in files:
        if ".duckdb" in path.name:
            if path.name.endswith(".duckdb"):
                text = dump_duckdb(path)
                assert "-- probe_results" in text and "-- ingests" in text
                found = leaks(text)
            else:
                continue
        else:
            found = leaks(path.read_text(encoding="utf-8", errors="replace"))
        if found:
            problems.append(f"{path.relative_to(tmp_path.parent)}: {found}")
    assert not problems, "\n".join(problems)


async def test_the_console_screen_never_shows_the_canary(tmp_path, loopback, canary_env):
    from textual.widgets import DataTable

    from console.site import load_config
    from screens.app import FixmapApp
    from screens.probes import ProbesScreen

    cfg = site_config(tmp_path, loopback.url)
    app = FixmapApp(load_config(cfg))
    seen: list[str] = []

    def screen_text() -> str:
        strips = app.screen._compositor.render_strips()
        text = "\n".join(strip.text for strip in strips)
        seen.append(text)
        return text

    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("f2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProbesScreen)
        await pilot.press("a")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert set(screen.results) == {"echo", "forms", "page", "script"}
        table = screen.query_one(DataTable)
        for row in range(table.row_count):  # each probe's detail, as the engineer reads it
            table.move_cursor(row=row)
            await pilot.pause()
            screen_text()
        await pilot.press("f3")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen_text()
    assert CANARY in loopback.seen
    assert any("echo" in text for text in seen)
    found = {name for text in seen for name in leaks(text)}
    assert not found, found
