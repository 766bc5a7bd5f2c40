"""What a bundle's host-side evidence reads (services/record/host_evidence.py), answered as the real tools do.

- `journalctl --since=… --until=… --unit=…`: the lab's Pacemaker writes one pacemaker-controld line per
  resource operation it records on this node ("Result of promote operation for RSC on NODE: ok", as
  Pacemaker 2.1 logs it), in `--output=short-iso --utc` form; "-- No entries --" when none falls in the span.
- `find /var/lib/pacemaker/pengine … -printf '%T@ %f\\n'`: the lab runs no scheduler, so it has no pe-input
  file: nothing listed, status 0, as find on an empty directory. Other `find` forms are
  lab/commands_ha.py's.
- `bzcat -- FILE`: no such file (see above).
- `db2diag -time START:END`: the lab keeps no db2diag.log on its hosts (its records go straight to
  CloudWatch): no record in the span prints nothing, as db2diag does.
"""

from __future__ import annotations

import calendar
import time

from lab.command_registry import CommandContext, Result, command

_JOURNAL_TIME = "%Y-%m-%d %H:%M:%S"
_CONTROLD_PID = 2301  # pacemaker-controld's pid in the lab's journal lines


def _option(args: list[str], name: str) -> str | None:
    for arg in args:
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return None


def _epoch(text: str) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(text, _JOURNAL_TIME)))
    except ValueError:
        return None


@command("journalctl", roles=("db",))
def _journalctl(ctx: CommandContext) -> Result:
    since_text, until_text = _option(ctx.args, "--since"), _option(ctx.args, "--until")
    since = _epoch(since_text) if since_text else 0.0
    until = _epoch(until_text) if until_text else float("inf")
    if since is None or until is None:
        bad = since_text if since is None else until_text
        return 1, "", f"Failed to parse timestamp: {bad}\n"
    units = [a.split("=", 1)[1] for a in ctx.args if a.startswith("--unit=")]
    if units and "pacemaker.service" not in units:
        return 0, "-- No entries --\n", ""
    node = ctx.host.name
    lines = []
    for rsc, ops in ctx.cluster.history.get(node, {}).items():
        for op in ops:
            if op.interval_ms or not since <= op.at <= until:
                continue  # recurring monitors log only on a change of result
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(op.at))
            lines.append(
                (
                    op.at,
                    f"{stamp} {node} pacemaker-controld[{_CONTROLD_PID}]: notice: Result of {op.task} "
                    f"operation for {rsc} on {node}: {op.rc_text}",
                )
            )
    if not lines:
        return 0, "-- No entries --\n", ""
    return 0, "".join(f"{text}\n" for _, text in sorted(lines)), ""


@command("find", roles=("db",), match=lambda argv: argv[1:2] == ["/var/lib/pacemaker/pengine"])
def _find_pe_inputs(ctx: CommandContext) -> Result:
    return 0, "", ""  # the lab's Pacemaker runs no scheduler: no pe-input file


@command("bzcat", roles=("db",))
def _bzcat(ctx: CommandContext) -> Result:
    files = [a for a in ctx.args if a != "--"]
    err = "".join(f"bzcat: Can't open input file {f}: No such file or directory.\n" for f in files)
    return 1, "", err


@command("db2diag", roles=("db",))
def _db2diag(ctx: CommandContext) -> Result:
    if ctx.args[:1] != ["-time"] or len(ctx.args) < 2:
        return (
            1,
            "",
            f"db2diag {' '.join(ctx.args)}: the db2ops lab emulates only `db2diag -time START:END`\n",
        )
    return 0, "", ""
