"""The lab's `nc [-v] -z [-w SECS] [--] HOST PORT` (nmap-ncat, as on RHEL): a port probe between lab hosts.

A port a test blocks (`blocked_ports`) answers as a dropped packet does (a time-out); a port with nothing
behind it answers "Connection refused", the SSH port and a running qnetd's 5403 connect. As the real ncat
(checked on the real-Pacemaker lab), -z alone prints nothing: only -v says why (after a version banner).
"""

from __future__ import annotations

from lab.command_registry import CommandContext, Result, register_command
from lab.ha_state import cluster_ha
from lab.state import LabCluster, LabHost

_ATTR = "_blocked_ports"
_NCAT = {"el8": "7.70", "el9": "7.92"}  # nmap-ncat of RHEL 8 / RHEL 9


def blocked_ports(cluster: LabCluster) -> set[tuple[str, str, int]]:
    """Return (from host, to host, port) the lab's network drops (tests add to it)."""
    ports: set[tuple[str, str, int]] = cluster.__dict__.setdefault(_ATTR, set())
    return ports


def _qnetd_listens(cluster: LabCluster, host: LabHost) -> bool:
    """corosync-qnetd runs on `host`: the quorum host of a built cluster (db2cm -create -qdevice starts it)."""
    state = cluster_ha(cluster)
    return (
        host is cluster.qdevice_host and cluster.qnetd_up and (not state.fresh or state.qdevice == host.name)
    )


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
    verbose = "-v" in args
    banner = f"Ncat: Version {_NCAT[ctx.cluster.release.el]} ( https://nmap.org/ncat )\n" if verbose else ""
    if not target.up or (ctx.host.name, target.name, port) in blocked_ports(ctx.cluster):
        return 1, "", banner + ("Ncat: TIMEOUT.\n" if verbose else "")
    if port == 22 or (port == 5403 and _qnetd_listens(ctx.cluster, target)):
        said = f"Ncat: Connected to {target.name}:{port}.\nNcat: 0 bytes sent, 0 bytes received in 0.01 seconds.\n"
        return 0, "", banner + (said if verbose else "")
    return 1, "", banner + ("Ncat: Connection refused.\n" if verbose else "")


register_command("nc", _nc)
