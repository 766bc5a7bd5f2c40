"""The lab's `nc -z [-w SECS] [--] HOST PORT` (nmap-ncat, as on RHEL): a port probe between lab hosts.

A port a test blocks (`block_port`) answers as a dropped packet does (a time-out); a port with nothing
behind it answers "Connection refused", the SSH port and a running qnetd's 5403 connect.
"""

from __future__ import annotations

from lab.command_registry import CommandContext, Result, register_command
from lab.state import LabCluster

_ATTR = "_blocked_ports"


def blocked_ports(cluster: LabCluster) -> set[tuple[str, str, int]]:
    """Return (from host, to host, port) the lab's network drops (tests add to it)."""
    ports: set[tuple[str, str, int]] = cluster.__dict__.setdefault(_ATTR, set())
    return ports


def _nc(ctx: CommandContext) -> Result:
    args = [a for a in ctx.args if a != "--"]
    if "-z" not in args:
        return 2, "", "Ncat: only -z (port probe) is simulated by the lab.\n"
    operands, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-w", "-p", "-s"):
            skip = True
        elif not arg.startswith("-"):
            operands.append(arg)
    if len(operands) != 2 or not operands[1].isdigit():
        return 2, "", "Ncat: usage: nc -z [-w SECS] HOST PORT\n"
    name, port = operands[0].split(".", 1)[0], int(operands[1])
    target = ctx.cluster.hosts.get(name)
    if target is None:
        return (
            2,
            "",
            f'Ncat: Could not resolve hostname "{operands[0]}": Name or service not known. QUITTING.\n',
        )
    if not target.up or (ctx.host.name, target.name, port) in blocked_ports(ctx.cluster):
        return 1, "", "Ncat: TIMEOUT.\n"
    if port == 22:
        return 0, "", ""
    return 1, "", "Ncat: Connection refused.\n"


register_command("nc", _nc)
