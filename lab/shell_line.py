"""How the lab's SSH hosts read a command line: POSIX-shell word splitting plus `|` pipelines.

Nothing is ever run by a shell. A line is cut at each `|` outside quotes and escapes (a quoted or escaped
`|`, as shlex.join writes an argv holding one, stays an argument), then each stage is split as shlex.split
does. Only plain pipelines are understood: `||` and `|&` are refused as not emulated, and an empty stage is
bash's syntax error.
"""

from __future__ import annotations

import re
import shlex

__all__ = ["ShellLineError", "split_command", "split_pipeline"]

# A line of words shlex.quote leaves bare, one space apart (what shlex.join makes of plain arguments): split
# on spaces gives exactly shlex.split's answer, ~30x cheaper. Anything else goes through shlex.
_PLAIN_LINE = re.compile(r"[\w@%+=:,./-]+(?: [\w@%+=:,./-]+)*", re.ASCII)


class ShellLineError(ValueError):
    """A line the lab will not split: `message` is what bash would print, `status` its exit status."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def split_command(command: str) -> list[str]:
    """Return the argv a POSIX shell would make of `command`. Raises ValueError (unclosed quote...)."""
    return command.split(" ") if _PLAIN_LINE.fullmatch(command) else shlex.split(command)


def _pipe_positions(line: str) -> list[int]:
    """Return the offsets of the `|` characters outside quotes and backslash escapes."""
    out: list[int] = []
    i, quote = 0, ""
    while i < len(line):
        ch = line[i]
        if quote == "'":
            quote = "" if ch == "'" else quote
        elif ch == "\\":
            i += 1  # the next character is literal (in double quotes too, for the purpose of finding `|`)
        elif quote == '"':
            quote = "" if ch == '"' else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "|":
            out.append(i)
        i += 1
    return out


def split_pipeline(line: str) -> list[list[str]]:
    """Return the argv of each stage of `line` (one stage when it holds no pipe).

    Raises ShellLineError for `||`, `|&` and empty stages, ValueError for an unclosed quote."""
    if _PLAIN_LINE.fullmatch(line):
        return [line.split(" ")]
    cuts = _pipe_positions(line)
    if not cuts:
        return [shlex.split(line)]
    for at in cuts:
        after = line[at + 1 : at + 2]
        if after in ("|", "&"):
            raise ShellLineError(
                f"db2ops lab: `|{after}` is not emulated: the lab's hosts run plain pipelines (a | b | c) only\n"
            )
    stages, start = [], 0
    for at in [*cuts, len(line)]:
        argv = shlex.split(line[start:at])
        if not argv:
            raise ShellLineError("bash: -c: line 1: syntax error near unexpected token `|'\n")
        stages.append(argv)
        start = at + 1
    return stages
