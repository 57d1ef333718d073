"""Which argv words a program will run as code: the second line of defence behind typed
parameters (a placeholder inside such a word would be code, not data)."""

from __future__ import annotations

import os
import re

# Programs that run their next word as code: a parameter in that word would be code, not data.
_SHELLS = {
    "sh",
    "bash",
    "rbash",
    "zsh",
    "dash",
    "ksh",
    "mksh",
    "lksh",
    "oksh",
    "pdksh",
    "yash",
    "posh",
    "ash",
    "busybox",
    "toybox",
    "fish",
    "csh",
    "tcsh",
}
# Options of a shell that take the next word as their argument (not a script path).
_SHELL_OPTION_ARGS = {"-o", "+o", "-O", "+O", "--rcfile", "--init-file"}
# Interpreters and the flags after which the next word is code. A short flag may be
# combined with others (perl -ne, python -uc) or carry its code attached (-e'...').
_INTERPRETERS: dict[str, set[str]] = {
    "python": {"-c", "-m"},
    "pypy": {"-c", "-m"},
    "perl": {"-e", "-E"},
    "ruby": {"-e"},
    "node": {"-e", "--eval", "-p", "--print"},
    "nodejs": {"-e", "--eval", "-p", "--print"},
    "bun": {"-e", "--eval", "-p", "--print"},
    "deno": {"eval"},
    "php": {"-r", "-B", "-R", "-E"},
    "lua": {"-e"},
    "luajit": {"-e"},
    "pwsh": {"-c", "-command", "-encodedcommand", "-ec"},
    "powershell": {"-c", "-command", "-encodedcommand", "-ec"},
    "osascript": {"-e"},
    "tclsh": set(),
    "wish": set(),
    "rscript": {"-e"},
    "julia": {"-e", "-E", "--eval", "--print"},
    "groovy": {"-e"},
    "elixir": {"-e", "--eval"},
    "erl": {"-eval"},
    "racket": {"-e", "--eval"},
    "guile": {"-c"},
    "awk": {"-e", "--source"},
    "gawk": {"-e", "--source"},
    "mawk": set(),
    "nawk": set(),
    "sed": {"-e", "--expression"},
    "jq": set(),
}
# Programs whose first operand (not a script path but) the program text itself.
_PROGRAM_TEXT_FIRST = {"awk", "gawk", "mawk", "nawk", "sed", "jq"}
# Options of those programs, and of interpreters, that take the next word(s) as argument.
_OPTION_ARGS: dict[str, dict[str, int]] = {
    "awk": {"-v": 1, "-F": 1, "-f": 1},
    "gawk": {"-v": 1, "-F": 1, "-f": 1},
    "mawk": {"-v": 1, "-F": 1, "-f": 1},
    "nawk": {"-v": 1, "-F": 1, "-f": 1},
    "sed": {"-f": 1, "-l": 1},
    "jq": {"--arg": 2, "--argjson": 2, "--slurpfile": 2, "--rawfile": 2, "--indent": 1, "-L": 1},
    "python": {"-W": 1, "-X": 1},
    "pypy": {"-W": 1, "-X": 1},
    "node": {"-r": 1, "--require": 1, "--import": 1},
    "nodejs": {"-r": 1, "--require": 1, "--import": 1},
}
_WRAPPERS = {
    "env",
    "sudo",
    "doas",
    "nice",
    "nohup",
    "timeout",
    "stdbuf",
    "setsid",
    "exec",
    "command",
    "chroot",
}
_SHELL_META_PROBES = (
    "a;b",
    "a|b",
    "a&b",
    "$(x)",
    "`x`",
    "a b",
    "a>b",
    "a<b",
    "'",
    '"',
    "\\",
    "a\tb",
    "*",
    "?",
    "~",
    "!",
    "#",
)


def program_name(word: str) -> str:
    base = os.path.basename(word).lower()
    base = re.sub(r"\.exe$", "", base)
    return re.sub(r"[0-9.]+$", "", base) or base


def _unwrap(argv: list[str]) -> int:
    """Index of the program that really runs, past env/sudo/nice... and their options."""
    i = 0
    while i < len(argv) and program_name(argv[i]) in _WRAPPERS:
        i += 1
        while i < len(argv) and (
            argv[i].startswith("-")
            or "=" in argv[i]
            or re.fullmatch(r"[0-9]+(\.[0-9]+)?[smhd]?", argv[i])
        ):
            i += 1
    return i


def runs_code(word: str) -> bool:
    prog = program_name(word)
    return prog in _SHELLS or prog in _INTERPRETERS


def _code_flag(prog: str, word: str) -> tuple[bool, bool]:
    """For `word` somewhere after `prog`: (the next word is code, this word carries code)."""
    if prog in _SHELLS:
        if word == "--command":
            return True, False
        if word.startswith("--command="):
            return False, True
        m = re.match(r"-[A-Za-z]*c", word)
        if m is None:
            return False, False
        return True, len(word) > m.end() and not word[m.end() :].isalpha()
    flags = _INTERPRETERS.get(prog, set())
    if prog in ("pwsh", "powershell"):
        low = word.lower()
        if low in flags or (
            len(low) > 2
            and low.startswith("-")
            and ("-command".startswith(low) or "-encodedcommand".startswith(low))
        ):
            return True, False
        if ":" in low and low.split(":", 1)[0] in flags:
            return False, True
        return False, False
    if word in flags:
        return True, False
    if word.startswith("--"):
        return False, "=" in word and word.split("=", 1)[0] in flags
    letters = {f[1] for f in flags if len(f) == 2 and f[0] == "-"}
    if not letters or not re.match(r"-[A-Za-z]", word):
        return False, False
    for n, ch in enumerate(word[1:], start=1):  # a cluster: perl -ne, python -uc, -e'code'
        if ch in letters:
            return n + 1 == len(word), n + 1 < len(word)
        if not ch.isalpha():
            break
    return False, False


def _first_operand(argv: list[str], j: int) -> int | None:
    """Index of the script path (or program text) given to the shell/interpreter at argv[j]."""
    prog = program_name(argv[j])
    takes = _OPTION_ARGS.get(prog, {})
    i = j + 1
    while i < len(argv):
        w = argv[i]
        nxt, here = _code_flag(prog, w)
        if nxt or here:
            return None  # inline code: the code-flag rule covers it
        if w == "--":
            return i + 1 if i + 1 < len(argv) else None
        if prog in _SHELLS and w in _SHELL_OPTION_ARGS:
            i += 2
        elif w in takes:
            i += 1 + takes[w]
        elif len(w) > 1 and (w.startswith("-") or (prog in _SHELLS and w.startswith("+"))):
            i += 1
        else:
            return i
    return None


def code_owners(argv: list[str]) -> dict[int, int]:
    """argv words a shell or an interpreter will run as code, each with the index of its runner.

    The whole argv is scanned, not only the program it starts with: wrappers (timeout 30s,
    sudo -u x, env -u X, kubectl exec ... --, ssh host) put the shell anywhere. Where a word
    is a shell or an interpreter, a later code flag (-c, -lc, -euc, -e, --eval, ...) makes the
    word after it code; without one, its first operand (a script path, awk/sed/jq program text)
    is code. The name ($0) that follows a shell's -c script is not a program.
    """
    runners = [j for j, w in enumerate(argv) if runs_code(w)]
    out: dict[int, int] = {}
    names: set[int] = set()
    for j in runners:
        prog = program_name(argv[j])
        for k in range(j + 1, len(argv)):
            nxt, here = _code_flag(prog, argv[k])
            if here:
                out.setdefault(k, j)
            if nxt and k + 1 < len(argv):
                out.setdefault(k + 1, j)
                if prog in _SHELLS and not here:
                    names.add(k + 2)
    for j in runners:
        if j in names:
            continue
        op = _first_operand(argv, j)
        if op is not None:
            out.setdefault(op, j)
    return dict(sorted(out.items()))


def code_words(argv: list[str]) -> list[int]:
    """Indexes of argv words that a shell or an interpreter will run as code."""
    return list(code_owners(argv))


def admits_shell_syntax(regex: str) -> bool:
    rx = re.compile(regex)
    return any(rx.fullmatch(probe) for probe in _SHELL_META_PROBES)
