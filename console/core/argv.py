"""Which argv words a program will run as code: the second line of defence behind typed
parameters (a placeholder inside such a word would be code, not data).

Three kinds of program put a word where code goes:

- shells and interpreters (sh -c, perl -e, awk 'PROGRAM', a script path);
- wrappers that run a command line or a program they are given (flock -c, env -S, script -c,
  su -c, sudo -s, watch, tmux, timeout PROGRAM, find -exec PROGRAM, xargs PROGRAM, ...);
- programs whose settings are code (git -c core.pager=..., make VAR=..., vim -c, gdb -ex, tar
  --to-command, ssh -o ProxyCommand=...).

The whole argv is scanned, not only the program it starts with, so a shell or a wrapper behind
another (timeout 30s sudo -u x sh -c ...) is found wherever it sits. Where the scan cannot tell,
it errs towards code: a word refused here is one the site can always pass as its own argv word.
"""

from __future__ import annotations

import os
import re

from console.core.argv_programs import (
    ANYWHERE,
    INTERPRETERS,
    OPTION_ARGS,
    SHELL_OPTION_ARGS,
    SHELLS,
    WRAPPERS,
    Use,
    Wrapper,
)

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*=")
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


def runs_code(word: str) -> bool:
    prog = program_name(word)
    return prog in SHELLS or prog in INTERPRETERS


# ---------------------------------------------------------------- shells and interpreters


def _code_flag(prog: str, word: str) -> tuple[bool, bool]:
    """For `word` somewhere after `prog`: (the next word is code, this word carries code)."""
    if prog in SHELLS:
        if word == "--command":
            return True, False
        if word.startswith("--command="):
            return False, True
        m = re.match(r"-[A-Za-z]*c", word)
        if m is None:
            return False, False
        return True, len(word) > m.end() and not word[m.end() :].isalpha()
    flags = INTERPRETERS.get(prog, set())
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
    takes = OPTION_ARGS.get(prog, {})
    i = j + 1
    while i < len(argv):
        w = argv[i]
        nxt, here = _code_flag(prog, w)
        if nxt or here:
            return None  # inline code: the code-flag rule covers it
        if w == "--":
            return i + 1 if i + 1 < len(argv) else None
        if prog in SHELLS and w in SHELL_OPTION_ARGS:
            i += 2
        elif w in takes:
            i += 1 + takes[w]
        elif len(w) > 1 and (w.startswith("-") or (prog in SHELLS and w.startswith("+"))):
            i += 1
        else:
            return i
    return None


def _interpreter_code(argv: list[str]) -> dict[int, int]:
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
                if prog in SHELLS and not here:
                    names.add(k + 2)
    for j in runners:
        if j in names:
            continue
        op = _first_operand(argv, j)
        if op is not None:
            out.setdefault(op, j)
    return out


# ---------------------------------------------------------------- wrappers


def _option(w: Wrapper, word: str, anywhere_only: bool) -> tuple[Use | int | None, str | None]:
    """What an option word means to wrapper `w`: (its use or how many words it takes, the
    argument carried in the word itself, if any)."""
    table_uses = w.anywhere if anywhere_only else {**w.uses, **w.anywhere}
    takes = {} if anywhere_only else w.takes
    if word.startswith("--"):
        name, eq, value = word.partition("=")
        if name in table_uses:
            return table_uses[name], value if eq else None
        if name in takes:
            return takes[name], value if eq else None
        return None, None
    if word in table_uses:
        return table_uses[word], None
    if word in takes:
        return takes[word], None
    # a short option in a cluster after others (-qc), or with its argument attached (-n5)
    for n, ch in enumerate(word[1:], start=1):
        opt = "-" + ch
        if opt in table_uses or opt in takes:
            attached = word[n + 1 :]
            use = table_uses.get(opt, takes.get(opt))
            return use, attached or None
        if not ch.isalpha():
            break
    return None, None


def _wrapper_uses(argv: list[str], j: int, w: Wrapper) -> dict[int, str]:
    """The words the wrapper at argv[j] runs as code or as a program."""
    out: dict[int, str] = {}
    i = j + 1
    operands = 0
    options = True
    rest = w.rest
    while i < len(argv):
        word = argv[i]
        if options and word == "--" and "--" not in w.uses and "--" not in w.anywhere:
            options = False
            i += 1
            continue
        if options and len(word) > 1 and word.startswith("-"):
            use, attached = _option(w, word, anywhere_only=False)
            if isinstance(use, int):
                i += 1 + (0 if attached is not None else use)
                continue
            if use in ("code", "program"):
                if attached is not None:
                    out[i] = use
                    i += 1
                elif i + 1 < len(argv):
                    out[i + 1] = use
                    i += 2
                else:
                    i += 1
                continue
            if use == "shell_rest":
                rest = "code"
            elif use == "exec_mode":
                rest = "program"
            i += 1
            continue
        if word in w.anywhere and w.anywhere[word] in ("code", "program"):
            if i + 1 < len(argv):
                out[i + 1] = w.anywhere[word]
            i += 2
            continue
        if w.plus_words and word.startswith("+"):
            out[i] = "code"
            i += 1
            continue
        if w.assignments != "none" and _ASSIGNMENT.match(word):
            if w.assignments == "code":
                out[i] = "code"
            i += 1
            continue
        if operands < w.operands_before:
            operands += 1
            i += 1
            continue
        if rest == "program":
            out[i] = "program"
        elif rest == "code":
            out.update(dict.fromkeys(range(i, len(argv)), "code"))
        elif rest == "remote":
            first = word.split(None, 1)[0] if word.strip() else word
            if "{" in first:  # the remote program itself would come from a value
                out[i] = "program"
        if rest != "none":
            break
        i += 1  # an operand that runs nothing (a target, a path): options may follow
    if rest == "none" or w.anywhere:
        # options that matter wherever they sit (find -exec, git clone -c, tar --to-command)
        for k in range(j + 1, len(argv)):
            use, attached = (
                _option(w, argv[k], anywhere_only=True) if argv[k].startswith("-") else (None, None)
            )
            if use in ("code", "program"):
                if attached is not None:
                    out.setdefault(k, use)
                elif k + 1 < len(argv):
                    out.setdefault(k + 1, use)
    return out


def code_uses(argv: list[str]) -> dict[int, tuple[int, str]]:
    """argv words run as code, each with the index of the program that runs it and how
    ('code': a command line or program text; 'program': a program it starts).

    A wrapper counts where a program starts: argv[0] and each program a wrapper starts (the
    chain); names no action passes as data (flock, sudo, nohup, xargs, tmux...) count anywhere.
    """
    out: dict[int, tuple[int, str]] = {k: (j, "code") for k, j in _interpreter_code(argv).items()}
    todo = [0, *(j for j, w in enumerate(argv) if program_name(w) in ANYWHERE)]
    seen: set[int] = set()
    while todo:
        j = todo.pop()
        if j in seen or j >= len(argv):
            continue
        seen.add(j)
        w = WRAPPERS.get(program_name(argv[j]))
        if w is None:
            continue
        for k, how in _wrapper_uses(argv, j, w).items():
            out.setdefault(k, (j, how))
            if how == "program":
                todo.append(k)
    return dict(sorted(out.items()))


def code_owners(argv: list[str]) -> dict[int, int]:
    """argv words a shell, an interpreter or a wrapper will run as code (or start as a program),
    each with the index of its runner.

    Where a word is a shell or an interpreter, a later code flag (-c, -lc, -euc, -e, --eval, ...)
    makes the word after it code; without one, its first operand (a script path, awk/sed/jq
    program text) is code. The name ($0) that follows a shell's -c script is not a program.
    Where a word is a wrapper (the table above), its rule says which words it runs.
    """
    return {k: j for k, (j, _how) in code_uses(argv).items()}


def code_words(argv: list[str]) -> list[int]:
    """Indexes of argv words that a shell, an interpreter or a wrapper will run as code."""
    return list(code_owners(argv))


def admits_shell_syntax(regex: str) -> bool:
    rx = re.compile(regex)
    return any(rx.fullmatch(probe) for probe in _SHELL_META_PROBES)
