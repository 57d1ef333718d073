"""The programs the argv rule (console/core/argv.py) knows: shells, interpreters and their code
flags, and wrappers (what runs a command line or a program it is given), as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# Programs that run their next word as code: a parameter in that word would be code, not data.
SHELLS = {
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
SHELL_OPTION_ARGS = {"-o", "+o", "-O", "+O", "--rcfile", "--init-file"}
# Interpreters and the flags after which the next word is code. A short flag may be
# combined with others (perl -ne, python -uc) or carry its code attached (-e'...').
INTERPRETERS: dict[str, set[str]] = {
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
    "expect": {"-c"},
}
# Options of those programs, and of interpreters, that take the next word(s) as argument.
OPTION_ARGS: dict[str, dict[str, int]] = {
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

Use = Literal["code", "program", "shell_rest", "exec_mode"]
"""What an option does to the words after it: its argument is a command line ('code') or a
program that runs ('program'); every operand after it is code ('shell_rest': sudo -s);
the operands become a program and its arguments instead of a command line ('exec_mode': watch -x)."""


@dataclass(frozen=True)
class Wrapper:
    """How a program that runs other things reads its words."""

    takes: dict[str, int] = field(default_factory=dict)
    """Options whose argument(s) are data: how many words each takes."""
    uses: dict[str, Use] = field(default_factory=dict)
    """Options whose argument is code or a program (or that change what the operands are)."""
    operands_before: int = 0
    """Operands before the program or command (timeout DURATION, flock FILE, su USER)."""
    rest: Literal["program", "code", "none", "remote"] = "program"
    """What the first operand after those is: a program it runs, the start of a command line
    (every word from there on is code), nothing that runs, or ssh's remote command."""
    assignments: Literal["skip", "code", "none"] = "none"
    """NAME=VALUE operands: settings to skip (env), code (make: its variables expand in recipes)."""
    anywhere: dict[str, Use] = field(default_factory=dict)
    """Options recognised after the first operand too (find -exec, git -c after a subcommand)."""
    plus_words: bool = False
    """Words starting with '+' are commands (vim +cmd)."""


_VIM = Wrapper(
    takes={"-t": 1, "-q": 1, "-i": 1, "-w": 1, "-W": 1, "-T": 1, "--servername": 1},
    uses={"-c": "code", "--cmd": "code", "-S": "code", "-u": "code", "-U": "code"},
    rest="none",
    plus_words=True,
)
_GDB_CODE = {
    k: "code"
    for k in (
        "-ex",
        "--ex",
        "-iex",
        "--iex",
        "-eval-command",
        "--eval-command",
        "-init-eval-command",
        "--init-eval-command",
        "-x",
        "--command",
        "-ix",
        "--init-command",
    )
}
_TAR_CODE = {
    k: "code"
    for k in (
        "--to-command",
        "--use-compress-program",
        "-I",
        "--rsh-command",
        "--info-script",
        "--new-volume-script",
        "-F",
        "--checkpoint-action",
    )
}
_SSH_TAKES = {"-" + c: 1 for c in "bcDEeIiJLlmOpQRWwB"}

WRAPPERS: dict[str, Wrapper] = {
    "env": Wrapper(
        takes={"-u": 1, "--unset": 1, "-C": 1, "--chdir": 1},
        uses={"-S": "code", "--split-string": "code"},
        assignments="skip",
    ),
    "sudo": Wrapper(
        takes=dict.fromkeys(("-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"), 1)
        | dict.fromkeys(("--user", "--group", "--host", "--prompt", "--chdir"), 1),
        uses={
            "-s": "shell_rest",
            "-i": "shell_rest",
            "--shell": "shell_rest",
            "--login": "shell_rest",
        },
        assignments="skip",
    ),
    "doas": Wrapper(takes={"-u": 1, "-C": 1}, uses={"-s": "shell_rest"}),
    "su": Wrapper(
        takes={"-g": 1, "-G": 1, "-w": 1, "--group": 1, "--supp-group": 1},
        uses={
            "-c": "code",
            "--command": "code",
            "--session-command": "code",
            "-s": "program",
            "--shell": "program",
        },
        operands_before=1,
        rest="code",
    ),
    "flock": Wrapper(
        takes={"-w": 1, "--wait": 1, "--timeout": 1, "-E": 1, "--conflict-exit-code": 1},
        uses={"-c": "code", "--command": "code"},
        operands_before=1,
    ),
    "script": Wrapper(
        takes=dict.fromkeys(("-E", "--echo", "-I", "--log-in", "-O", "--log-out", "-B"), 1)
        | dict.fromkeys(("--log-io", "-T", "--log-timing", "-m", "--logging-format"), 1),
        uses={"-c": "code", "--command": "code"},
        rest="none",
    ),
    "watch": Wrapper(
        takes=dict.fromkeys(("-n", "--interval", "-q", "--equexit"), 1),
        uses={"-x": "exec_mode", "--exec": "exec_mode"},
        rest="code",
    ),
    "tmux": Wrapper(takes={"-L": 1, "-S": 1, "-f": 1, "-T": 1}, rest="code"),
    "screen": Wrapper(rest="code"),
    "parallel": Wrapper(rest="code"),
    "socat": Wrapper(rest="code"),
    "timeout": Wrapper(
        takes={"-s": 1, "--signal": 1, "-k": 1, "--kill-after": 1}, operands_before=1
    ),
    "nice": Wrapper(takes={"-n": 1, "--adjustment": 1}),
    "nohup": Wrapper(),
    "setsid": Wrapper(),
    "stdbuf": Wrapper(takes=dict.fromkeys(("-i", "-o", "-e", "--input", "--output", "--error"), 1)),
    "chroot": Wrapper(takes={"--userspec": 1, "--groups": 1}, operands_before=1),
    "ionice": Wrapper(takes=dict.fromkeys(("-c", "-n", "-p", "-P", "-u", "--class"), 1)),
    "taskset": Wrapper(operands_before=1),
    "chrt": Wrapper(takes=dict.fromkeys(("-T", "-P", "-D"), 1), operands_before=1),
    "unshare": Wrapper(
        takes=dict.fromkeys(("-S", "--setuid", "-G", "--setgid", "-R", "--root", "-w", "--wd"), 1)
    ),
    "nsenter": Wrapper(
        takes=dict.fromkeys(("-t", "--target", "-S", "--setuid", "-G", "--setgid"), 1)
    ),
    "runuser": Wrapper(
        takes={"-u": 1, "--user": 1, "-g": 1, "-G": 1, "--group": 1},
        uses={"-c": "code", "--command": "code", "-s": "program", "--shell": "program"},
        rest="code",
    ),
    "time": Wrapper(takes={"-f": 1, "--format": 1, "-o": 1, "--output": 1}),
    "strace": Wrapper(
        takes=dict.fromkeys(("-o", "-e", "-p", "-s", "-u", "-E", "-a", "-b", "-I", "-O"), 1)
        | dict.fromkeys(("-S", "-X", "-P"), 1)
    ),
    "systemd-run": Wrapper(
        takes=dict.fromkeys(("-u", "--unit", "-p", "--property", "-E", "--setenv", "--uid"), 1)
        | dict.fromkeys(("--gid", "--nice", "--working-directory", "-M", "-H", "--slice"), 1)
        | dict.fromkeys(("--description",), 1)
    ),
    "start-stop-daemon": Wrapper(
        rest="none",
        anywhere={"--exec": "program", "-x": "program", "--startas": "program", "-a": "program"},
    ),
    "command": Wrapper(),
    "exec": Wrapper(takes={"-a": 1}),
    "xargs": Wrapper(
        takes=dict.fromkeys(("-a", "--arg-file", "-d", "--delimiter", "-E", "-I", "-L"), 1)
        | dict.fromkeys(("-n", "--max-args", "-P", "--max-procs", "-s", "--max-chars"), 1)
        | dict.fromkeys(("--process-slot-var", "--eof", "--max-lines"), 1)
    ),
    "find": Wrapper(
        rest="none",
        anywhere={"-exec": "program", "-execdir": "program", "-ok": "program", "-okdir": "program"},
    ),
    "git": Wrapper(
        takes=dict.fromkeys(("-C", "--git-dir", "--work-tree", "--namespace"), 1),
        uses={"--exec-path": "code"},
        anywhere={
            "-c": "code",
            "--config": "code",
            "--config-env": "code",
            "--upload-pack": "code",
            "--receive-pack": "code",
            "--exec": "code",
        },
    ),
    "make": Wrapper(
        takes=dict.fromkeys(("-j", "--jobs", "-l", "--load-average", "-o", "-W"), 1),
        uses={
            k: "code"
            for k in ("-f", "--file", "--makefile", "-C", "--directory", "-E", "--eval", "-I")
        },
        rest="none",
        assignments="code",
        anywhere={"--eval": "code", "-E": "code"},
    ),
    "ssh": Wrapper(
        takes=_SSH_TAKES, uses={"-o": "code", "-F": "code"}, operands_before=1, rest="remote"
    ),
    "scp": Wrapper(
        takes=dict.fromkeys(("-c", "-i", "-l", "-P", "-J", "-D"), 1),
        uses={"-S": "program", "-o": "code", "-F": "code"},
        rest="none",
    ),
    "sftp": Wrapper(
        takes=dict.fromkeys(("-c", "-i", "-l", "-P", "-J", "-B", "-R", "-b"), 1),
        uses={"-S": "program", "-o": "code", "-F": "code", "-D": "program"},
        rest="none",
    ),
    "rsync": Wrapper(rest="none", anywhere={"-e": "code", "--rsh": "code", "--rsync-path": "code"}),
    "tar": Wrapper(rest="none", anywhere=_TAR_CODE),
    "gdb": Wrapper(rest="none", anywhere=_GDB_CODE),
    "vim": _VIM,
    "vi": _VIM,
    "nvim": _VIM,
    "ex": _VIM,
    "view": _VIM,
    "vimdiff": _VIM,
    "nc": Wrapper(rest="none", anywhere={"-e": "program", "-c": "code"}),
    "ncat": Wrapper(
        rest="none",
        anywhere={"-e": "program", "--exec": "program", "-c": "code", "--sh-exec": "code"}
        | {"--lua-exec": "code"},
    ),
    "ansible": Wrapper(rest="none", anywhere={"-a": "code", "--args": "code"}),
    "docker": Wrapper(rest="none", anywhere={"--entrypoint": "code"}),
    "podman": Wrapper(rest="none", anywhere={"--entrypoint": "code"}),
    "kubectl": Wrapper(rest="none", anywhere={"--": "program"}),
    "oc": Wrapper(rest="none", anywhere={"--": "program"}),
}
WRAPPERS["netcat"] = WRAPPERS["nc"]
ANYWHERE = frozenset(WRAPPERS) - {
    # words an action also passes as data (kubectl exec POD, a target named 'make'): these
    # count only where a program starts
    "env",
    "su",
    "exec",
    "command",
    "time",
    "find",
    "make",
    "script",
    "screen",
    "watch",
    "git",
    "tar",
    "ssh",
    "scp",
    "sftp",
    "nc",
    "netcat",
    "ex",
    "vi",
    "view",
    "nice",
    "docker",
    "podman",
    "kubectl",
    "oc",
}
