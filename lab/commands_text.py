"""The text filters of the runbooks' pipelines, as GNU coreutils and grep answer them.

`db2 get dbm cfg | grep -i audit`, `crm config show | grep primitive | grep DBNAME` and `ls ... | tail -1` are
what the DBA types; lab/shell_line.py cuts the line, lab/command_registry.py feeds each stage the one before's
output. Each filter reads its file operands from the lab host's files, or stdin when it has none. Exit statuses
are the real ones: grep answers 1 when nothing matched and 2 on an error, which scripts test.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lab.command_registry import CommandContext, Result, register_command

_GREP_USAGE = "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n"
_GREP_FLAGS = "ivEFcqnhH"
# A BRE's `\+ \? \| \( \) \{ \}` are ERE's `+ ? | ( ) { }` and the bare ones are literal (GNU grep).
_BRE_SWAP = set("+?|(){}")


def _lines(text: str) -> list[str]:
    """Return the lines of `text` (a last line without newline counts, as the tools read it)."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _bre_to_python(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(nxt if nxt in _BRE_SWAP else ch + nxt)
            i += 2
            continue
        out.append("\\" + ch if ch in _BRE_SWAP else ch)
        i += 1
    return "".join(out)


def _inputs(ctx: CommandContext, files: list[str], tool: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Return ([(name, text)], errors) for the operands, or stdin as "(standard input)" when there are none."""
    if not files:
        return [("(standard input)", ctx.stdin)], []
    found, errors = [], []
    for name in files:
        if name == "-":
            found.append(("(standard input)", ctx.stdin))
        elif name in ctx.host.files:
            found.append((name, ctx.host.files[name]))
        else:
            errors.append(f"{tool}: {name}: No such file or directory\n")
    return found, errors


def _grep(ctx: CommandContext) -> Result:
    flags: set[str] = set()
    patterns: list[str] = []
    args = ctx.args
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        arg = args[i]
        i += 1
        if arg == "--":
            break
        if arg in ("-e", "--regexp"):
            if i >= len(args):
                return 2, "", f"grep: option requires an argument -- 'e'\n{_GREP_USAGE}"
            patterns.append(args[i])
            i += 1
            continue
        if arg.startswith("--"):
            return 2, "", f"grep: unrecognized option '{arg}'\n{_GREP_USAGE}"
        for letter in arg[1:]:
            if letter not in _GREP_FLAGS:
                return 2, "", f"grep: invalid option -- '{letter}'\n{_GREP_USAGE}"
            flags.add(letter)
    operands = args[i:]
    if not patterns:
        if not operands:
            return 2, "", _GREP_USAGE
        patterns, operands = [operands[0]], operands[1:]
    alternatives = [p for pattern in patterns for p in pattern.split("\n")]
    if "F" in flags:
        source = "|".join(re.escape(p) for p in alternatives)
    else:
        source = "|".join(f"(?:{p if 'E' in flags else _bre_to_python(p)})" for p in alternatives)
    try:
        regex = re.compile(source, re.IGNORECASE if "i" in flags else 0)
    except re.error as exc:
        return 2, "", f"grep: {exc}\n"
    inputs, errors = _inputs(ctx, operands, "grep")
    named = ("H" in flags or len(operands) > 1) and "h" not in flags
    out: list[str] = []
    selected = 0
    for name, text in inputs:
        count = 0
        for number, line in enumerate(_lines(text), 1):
            if (regex.search(line) is not None) == ("v" not in flags):
                count += 1
                if not {"c", "q"} & flags:
                    prefix = (f"{name}:" if named else "") + (f"{number}:" if "n" in flags else "")
                    out.append(f"{prefix}{line}\n")
        selected += count
        if "c" in flags and "q" not in flags:
            out.append((f"{name}:" if named else "") + f"{count}\n")
    if "q" in flags and selected:
        return 0, "", ""
    status = 2 if errors else (0 if selected else 1)
    return status, "".join(out), "".join(errors)


def _count(args: list[str], tool: str, default: int) -> tuple[int | str, list[str]] | str:
    """Parse `-n N`, `-nN`, `-N` (and tail's `+N`): return (count, operands) or an error message."""
    count: int | str = default
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        arg = args[i]
        i += 1
        if arg == "--":
            break
        if arg in ("-n", "--lines"):
            if i >= len(args):
                return f"{tool}: option requires an argument -- 'n'\n"
            value, i = args[i], i + 1
        elif arg.startswith("-n"):
            value = arg[2:]
        elif arg[1:].isdigit():
            value = arg[1:]
        else:
            return f"{tool}: invalid option -- '{arg[1:2]}'\nTry '{tool} --help' for more information.\n"
        if not (value.lstrip("+").isdigit() and (tool == "tail" or not value.startswith("+"))):
            return f"{tool}: invalid number of lines: '{value}'\n"
        count = value if value.startswith("+") else int(value)
    return count, args[i:]


def _head_tail(tool: str) -> Callable[[CommandContext], Result]:
    def handler(ctx: CommandContext) -> Result:
        parsed = _count(ctx.args, tool, 10)
        if isinstance(parsed, str):
            return 1, "", parsed
        count, files = parsed
        inputs, errors = _inputs(ctx, files, tool)
        out = []
        for number, (name, text) in enumerate(inputs):
            if len(files) > 1:
                out.append(("\n" if number else "") + f"==> {name} <==\n")
            lines = _lines(text)
            if isinstance(count, str):  # tail -n +N: from line N on
                picked = lines[max(int(count) - 1, 0) :]
            elif tool == "head":
                picked = lines[:count]
            else:
                picked = lines[len(lines) - count :] if count else []
            out.extend(line + "\n" for line in picked)
        return (1 if errors else 0), "".join(out), "".join(errors)

    return handler


def _wc(ctx: CommandContext) -> Result:
    files = [a for a in ctx.args if not a.startswith("-") or a == "-"]
    options = [a for a in ctx.args if a.startswith("-") and a != "-"]
    if options != ["-l"]:
        return 1, "", "wc: the db2ops lab emulates only `wc -l`\n"
    inputs, errors = _inputs(ctx, files, "wc")
    out = [f"{len(_lines(text))}" + (f" {name}" if files else "") + "\n" for name, text in inputs]
    if len(files) > 1:
        out.append(f"{sum(len(_lines(t)) for _, t in inputs)} total\n")
    return (1 if errors else 0), "".join(out), "".join(errors)


def _numeric_key(line: str) -> float:
    match = re.match(r"\s*(-?\d+(?:\.\d*)?)", line)
    return float(match.group(1)) if match else 0.0


def _sort(ctx: CommandContext) -> Result:
    flags: set[str] = set()
    files = []
    for arg in ctx.args:
        if arg.startswith("-") and arg != "-":
            for letter in arg[1:]:
                if letter not in "rnu":
                    return 2, "", "sort: the db2ops lab emulates only `sort [-r] [-n] [-u]`\n"
                flags.add(letter)
        else:
            files.append(arg)
    inputs, errors = _inputs(ctx, files, "sort")
    if errors:
        return 2, "", errors[0].replace("sort: ", "sort: cannot read: ", 1)
    lines = [line for _, text in inputs for line in _lines(text)]
    # Byte order, as `LC_ALL=C sort`: the lab's hosts have no locale collation tables.
    lines.sort(key=(lambda s: (_numeric_key(s), s)) if "n" in flags else None, reverse="r" in flags)
    if "u" in flags:
        lines = list(dict.fromkeys(lines))
    return 0, "".join(line + "\n" for line in lines), ""


def _operand_count(argv: list[str], takes_value: tuple[str, ...] = ()) -> int:
    """Return how many non-option operands argv has (the values of `takes_value` options skipped)."""
    count, i, args = 0, 1, argv
    options_done = False
    while i < len(args):
        arg = args[i]
        if not options_done and arg == "--":
            options_done = True
        elif not options_done and arg in takes_value:
            i += 1
        elif options_done or not arg.startswith("-") or arg == "-":
            count += 1
        i += 1
    return count


def _grep_reads_files(argv: list[str]) -> bool:
    has_e = any(a in ("-e", "--regexp") for a in argv[1:])
    return _operand_count(argv, ("-e", "--regexp")) > (0 if has_e else 1)


def _register(
    name: str, handler: Callable[[CommandContext], Result], files: Callable[[list[str]], bool]
) -> None:
    # Registered twice: with file operands it reads no stdin (the SSH server must not wait for an EOF).
    register_command(name, handler, reads_stdin=True)
    register_command(name, handler, match=files)


def register() -> None:
    """Register the filters (done once, on import of lab/commands.py)."""
    _register("grep", _grep, _grep_reads_files)
    _register("head", _head_tail("head"), lambda argv: _operand_count(argv, ("-n", "--lines")) > 0)
    _register("tail", _head_tail("tail"), lambda argv: _operand_count(argv, ("-n", "--lines")) > 0)
    _register("wc", _wc, lambda argv: _operand_count(argv) > 0)
    _register("sort", _sort, lambda argv: _operand_count(argv) > 0)


register()
