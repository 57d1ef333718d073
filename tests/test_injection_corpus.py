"""No parameter value reaches a shell: 30+ wrapper and interpreter forms, each run for real.

For every form, a *control* first proves the form is a live injection vector on this machine:
the same action with the payload written literally into the site's template does write the
marker. Then the form is set up with a `{p}` parameter where the payload went, and an injecting
value is passed (a shell payload, and the path of a script that writes the marker): the marker is
never written. Both lines of defence are checked: with a default parameter (the safe character
set) and with `free_text = true` (the site vouching), the wrapper/interpreter check refuses the
template at load. The safe forms (the value as its own argv word) run, and keep the value data.

sudo and busybox are not installed here; where they are missing a stand-in script with their
dispatch (sudo [-u USER] CMD..., sudo -s CMD..., busybox APPLET ARGS...) runs the same argv.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from console.actions import ActionError, plan_action, run_action
from console.core import ConfigError
from console.site import load_config

P = "{p}"


@dataclass(frozen=True)
class Form:
    id: str
    argv: tuple[str, ...]
    """The template; '{p}' where the payload goes; @M@ marker, @E@ evil script, @D@ the folder."""
    payload: str
    """What the control writes literally where {p} goes (it writes the marker)."""
    needs: str | None = None
    """A program that must be on PATH (else the form is skipped, with the reason)."""
    env: tuple[tuple[str, str], ...] = ()


SHELL = "touch @M@"
FORMS = [
    Form("flock -c", ("flock", "@D@/lock", "-c", P), SHELL, "flock"),
    Form("flock --command", ("flock", "-w", "5", "@D@/lock", "--command", P), SHELL, "flock"),
    Form("env -S", ("env", "-S", P), "sh -c 'touch @M@'", "env"),
    Form("env --split-string=", ("env", "--split-string=" + P), "sh -c 'touch @M@'", "env"),
    Form("env PROGRAM", ("env", "A=1", P), "@E@", "env"),
    Form("script -qc", ("script", "-qc", P, "/dev/null"), SHELL, "script"),
    Form("su -c", ("su", "-c", P, "root"), SHELL, "su"),
    Form("runuser -c", ("runuser", "-c", P, "root"), SHELL, "runuser"),
    Form("tmux new -d", ("tmux", "-L", "fixmap-corpus", "new-session", "-d", P), SHELL, "tmux"),
    Form("watch", ("watch", "-n", "0.2", "-e", P), SHELL, "watch", (("TERM", "xterm"),)),
    Form("git -c alias", ("git", "-C", "@D@/repo", "-c", "alias.x=" + P, "x"), "!touch @M@", "git"),
    Form(
        "git -c core.fsmonitor",
        ("git", "-C", "@D@/repo", "-c", "core.fsmonitor=" + P, "status"),
        SHELL,
        "git",
    ),
    Form("make VAR=", ("make", "-s", "-f", "@D@/Makefile", "CMD=" + P), SHELL, "make"),
    Form(
        "make --eval",
        ("make", "-s", "-f", "@D@/Makefile", "--eval=" + P),
        "$(shell touch @M@)",
        "make",
    ),
    Form("make -C", ("make", "-s", "-C", P), "@D@/mk", "make"),
    Form("awk program", ("awk", P), 'BEGIN{system("touch @M@")}', "awk"),
    Form("sed e", ("sed", "-n", P, "@D@/one"), "1e touch @M@", "sed"),
    Form("perl -e", ("perl", "-e", P), "system('touch @M@')", "perl"),
    Form("python -c", (sys.executable, "-c", P), "open('@M@', 'w')"),
    Form("bash -lc", ("bash", "--norc", "-c", P), SHELL, "bash"),
    Form("dash -ec", ("dash", "-ec", P), SHELL, "dash"),
    Form(
        "ssh -o ProxyCommand",
        (
            "ssh",
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "ProxyCommand=" + P,
            "nohost",
            "true",
        ),
        SHELL,
        "ssh",
    ),
    Form("sudo sh -c", ("@SUDO@", "-u", "root", "sh", "-c", P), SHELL),
    Form("sudo -s", ("@SUDO@", "-s", P), SHELL),
    Form("busybox sh -c", ("@BUSYBOX@", "sh", "-c", P), SHELL),
    Form("find -exec PROGRAM", ("find", "@D@", "-maxdepth", "0", "-exec", P, ";"), "@E@", "find"),
    Form(
        "find -exec sh -c",
        ("find", "@D@", "-maxdepth", "0", "-exec", "sh", "-c", P, ";"),
        SHELL,
        "find",
    ),
    Form("xargs PROGRAM", ("xargs", P), "@E@", "xargs"),
    Form("xargs sh -c", ("xargs", "sh", "-c", P), SHELL, "xargs"),
    Form("nohup sh -c", ("nohup", "sh", "-c", P), SHELL, "nohup"),
    Form("timeout sh -c", ("timeout", "5", "sh", "-c", P), SHELL, "timeout"),
    Form("timeout PROGRAM", ("timeout", "-k", "1", "5", P), "@E@", "timeout"),
    Form("setsid PROGRAM", ("setsid", "-w", P), "@E@", "setsid"),
    Form("stdbuf PROGRAM", ("stdbuf", "-oL", P), "@E@", "stdbuf"),
    Form("nice PROGRAM", ("nice", "-n", "5", P), "@E@", "nice"),
    Form("ionice PROGRAM", ("ionice", "-c", "3", P), "@E@", "ionice"),
    Form("unshare PROGRAM", ("unshare", P), "@E@", "unshare"),
    Form("vim -c", ("vim", "-es", "-u", "NONE", "-c", P, "-c", "qa!"), "!touch @M@", "vim"),
    Form("gdb -ex", ("gdb", "-batch", "-nx", "-ex", P), "shell touch @M@", "gdb"),
    Form("tar --to-command", ("tar", "-xf", "@D@/a.tar", "--to-command=" + P), SHELL, "tar"),
    Form(
        "start-stop-daemon --exec",
        ("start-stop-daemon", "--start", "--exec", P),
        "@E@",
        "start-stop-daemon",
    ),
]


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    """The folder every form runs in: an evil script, a lock, a repo, Makefiles, a tarball."""
    marker = tmp_path / "MARKER"
    evil = tmp_path / "evil"
    evil.write_text(f"#!/bin/sh\ntouch {marker}\n")
    evil.chmod(0o755)
    (tmp_path / "lock").touch()
    (tmp_path / "one").write_text("a line\n")
    (tmp_path / "Makefile").write_text("all:\n\t@$(CMD)\n")
    (tmp_path / "mk").mkdir()
    (tmp_path / "mk" / "Makefile").write_text(f"all:\n\t@touch {marker}\n")
    if shutil.which("git"):
        subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    if shutil.which("tar"):
        (tmp_path / "f1").write_text("a\n")
        subprocess.run(["tar", "-cf", "a.tar", "f1"], cwd=tmp_path, check=True)
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir()
    # sudo's and busybox's dispatch, where the real ones are missing
    (stand_ins / "sudo").write_text(
        '#!/bin/sh\nif [ "$1" = -u ]; then shift 2; fi\n'
        'if [ "$1" = -s ]; then shift; exec /bin/sh -c "$*"; fi\nexec "$@"\n'
    )
    (stand_ins / "busybox").write_text('#!/bin/sh\nexec "$@"\n')
    for f in stand_ins.iterdir():
        f.chmod(0o755)
    return tmp_path


def _fill(word: str, d: Path) -> str:
    sudo = shutil.which("sudo") or str(d / "bin" / "sudo")
    busybox = shutil.which("busybox") or str(d / "bin" / "busybox")
    return (
        word.replace("@M@", str(d / "MARKER"))
        .replace("@E@", str(d / "evil"))
        .replace("@D@", str(d))
        .replace("@SUDO@", sudo)
        .replace("@BUSYBOX@", busybox)
    )


def _template(word: str) -> str:
    """A literal word as a template: its braces doubled, the {p} placeholder kept."""
    return P.join(part.replace("{", "{{").replace("}", "}}") for part in word.split(P))


def _site(d: Path, form: Form, argv: list[str], param: str | None):
    argv = [_template(w) for w in argv]
    env = ", ".join(f"{k} = {json.dumps(v)}" for k, v in form.env)
    body = (
        "[actions.a]\n"
        'kind = "custom"\n'
        "destructive = false\n"
        'timeout = "3s"\n'
        f"cwd = {json.dumps(str(d))}\n"
        f"argv = {json.dumps(argv)}\n"
        + (f"env = {{ {env} }}\n" if env else "")
        + (f"params.p = {param}\n" if param else "")
    )
    path = d / "fixmap.toml"
    path.write_text(body)
    site = load_config(path)
    site.config  # noqa: B018 - validation happens here
    return site


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        threading.Event().wait(0.05)
    return False


def _skip_if_missing(form: Form) -> None:
    if form.needs and shutil.which(form.needs) is None:
        pytest.skip(f"{form.needs} is not installed here")


@pytest.fixture(autouse=True)
def _no_tmux_left():
    yield
    if shutil.which("tmux"):
        subprocess.run(["tmux", "-L", "fixmap-corpus", "kill-server"], capture_output=True)


@pytest.mark.parametrize("form", FORMS, ids=[f.id for f in FORMS])
def test_the_form_is_a_live_vector_and_no_injected_value_runs(bench, form):
    _skip_if_missing(form)
    marker = bench / "MARKER"
    argv = [_fill(w, bench) for w in form.argv]

    # the control: the payload written into the site's own template does run here
    control = [w.replace(P, _fill(form.payload, bench)) for w in argv]
    site = _site(bench, form, control, None)
    run_action(site, plan_action(site, "a", {}, check_site=False), confirmed=True)
    assert _wait_for(marker.exists), f"control of {form.id} did not write the marker"
    marker.unlink()
    subprocess.run(["tmux", "-L", "fixmap-corpus", "kill-server"], capture_output=True)

    # the attack: the payload comes in as a parameter value, by every way there is
    values = [f"x; touch {marker}", f"$(touch {marker})", f"`touch {marker}`", str(bench / "evil")]
    for param in ('{ default = "x" }', '{ default = "x", free_text = true }'):
        with pytest.raises(ConfigError) as err:
            _site(bench, form, argv, param)
        assert "would be code, not data" in err.value.render(), err.value.render()
        # nothing to plan or run: the template is refused before any value is seen
        for value in values:
            assert not marker.exists(), (form.id, param, value)
    assert not marker.exists()


SAFE_FORMS = [
    ("flock", ["flock", "@D@/lock", "sh", "-c", 'printf %s "$1" > @D@/out', "sh", P]),
    ("timeout", ["timeout", "5", "sh", "-c", 'printf %s "$1" > @D@/out', "sh", P]),
    ("env", ["env", "A=1", "sh", "-c", 'printf %s "$1" > @D@/out', "sh", P]),
    ("xargs", ["xargs", "-0", "sh", "-c", 'printf %s "$1" > @D@/out', "sh", P]),
    (
        "find",
        [
            "find",
            "@D@",
            "-maxdepth",
            "0",
            "-exec",
            "sh",
            "-c",
            'printf %s "$1" > @D@/out',
            "sh",
            P,
            ";",
        ],
    ),
    ("perl", ["perl", "-e", "open(my $f, '>', shift); print $f shift", "@D@/out", P]),
    ("awk", ["awk", "-v", "v=" + P, 'BEGIN{printf "%s", v > "@D@/out"}']),
]


@pytest.mark.parametrize(("name", "template"), SAFE_FORMS, ids=[n for n, _ in SAFE_FORMS])
def test_a_value_passed_as_its_own_word_stays_data(bench, name, template):
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed here")
    marker = bench / "MARKER"
    argv = [_fill(w, bench) for w in template]
    form = Form(name, tuple(argv), "")
    attack = "x; touch MARKER && $(touch MARKER) `touch MARKER`"  # the action runs in bench

    strict = _site(bench, form, argv, '{ default = "x" }')
    with pytest.raises(ActionError) as err:  # the safe set refuses syntax before anything runs
        plan_action(strict, "a", {"p": attack}, check_site=False)
    assert "a parameter takes data only" in err.value.render()
    ok = run_action(
        strict, plan_action(strict, "a", {"p": "v1.2:eu/a=b@c+d"}, check_site=False), True
    )
    assert ok.status == "done", ok.reason
    assert (bench / "out").read_text() == "v1.2:eu/a=b@c+d"

    vouched = _site(bench, form, argv, '{ default = "x", free_text = true }')
    outcome = run_action(vouched, plan_action(vouched, "a", {"p": attack}, check_site=False), True)
    assert outcome.status == "done", outcome.reason
    assert (bench / "out").read_text() == attack  # the value arrived whole, as data
    assert not marker.exists()


def test_the_corpus_covers_at_least_25_forms():
    runnable = [f for f in FORMS if not f.needs or shutil.which(f.needs)]
    assert len(FORMS) >= 25 and len(runnable) >= 25, [f.id for f in FORMS if f not in runnable]


def test_a_default_parameter_takes_only_the_safe_set(tmp_path):
    path = tmp_path / "fixmap.toml"
    path.write_text(
        '[actions.a]\nkind = "custom"\ndestructive = false\n'
        f'argv = [{json.dumps(sys.executable)}, "-c", "pass", "{{p}}"]\nparams.p = {{}}\n'
    )
    site = load_config(path)
    for good in ("rag-api", "v41.2", "deployment/rag", "a=b", "user@host", "1+1", "10:30", ""):
        assert plan_action(site, "a", {"p": good}, check_site=False).params["p"] == good
    for bad in ("-rf", "a b", "a;b", "$(x)", "`x`", "a|b", "a&b", "'", '"', "a\\b", "*", "~", "é"):
        with pytest.raises(ActionError) as err:
            plan_action(site, "a", {"p": bad}, check_site=False)
        text = err.value.render()
        assert "param p" in text and ("free_text = true" in text or "option" in text), text
