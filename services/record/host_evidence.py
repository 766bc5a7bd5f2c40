"""Host-side evidence for a bundle, read through SSH (read-only): what `crm report` would gather for the
span (the Pacemaker and corosync journal, the scheduler's pe-input files), the db2diag.log records of the
span, and `db2pd -hadr` now.

In the plan style: `evidence_plan` lists every command as argv (the dry run shows them as Actions before
anything runs); `gather_evidence` runs them with the runner's plain read (never the guarded write) and
returns texts for the bundle. A host that does not answer, or a tool that is missing, gives a text that
says so: the other hosts' evidence still comes. The pe-input files are read in a second round, by the
names the first listed, each name checked before it is used in a command.
"""

from __future__ import annotations

import math
import re
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from services.inventory.model import Cluster, Host
from services.plans.step import Action, ssh_action
from services.status.service import db2pd_argv

PENGINE_DIR = "/var/lib/pacemaker/pengine"
PE_INPUT = re.compile(r"pe-input-\d{1,9}\.bz2")
_DATABASE = re.compile(r"[A-Za-z][A-Za-z0-9_@#$]{0,7}")  # a Db2 database alias: 1-8 characters
MAX_SPAN_S = 7 * 86400.0
PE_LIMIT = 5  # the last pe-input files of the span read per host (each is a whole CIB)
MAX_TEXT = 2_000_000  # characters kept of one command's output


class EvidenceError(ValueError):
    """The evidence request cannot be planned (bad span or names); the message says what to change."""


class Runner(Protocol):
    async def run(
        self, host: Host, argv: Sequence[str], *, timeout: float | None = None, check: bool = False
    ) -> Any: ...


@dataclass(frozen=True)
class EvidenceCommand:
    host: str
    name: str  # the file the text goes to in the bundle: "db2b/pacemaker-journal.txt"
    argv: tuple[str, ...]
    why: str

    def action(self) -> Action:
        return ssh_action(self.host, self.argv, note=self.why)


@dataclass(frozen=True)
class EvidenceText:
    host: str
    name: str
    command: str  # the shell-quoted command line
    text: str  # stdout (with stderr after it when there was any), or "" when it did not run
    exit_status: int | None = None  # None: the command did not run (see error)
    error: str = ""  # why there is no answer (host unreachable, ...)


def _utc(epoch: float, fmt: str) -> str:
    return time.strftime(fmt, time.gmtime(epoch))


def evidence_plan(cluster: Cluster, since: float, until: float) -> list[EvidenceCommand]:
    """Return the reading commands for the span [since, until] (epoch seconds) on each Db2 host."""
    if not until > since:
        raise EvidenceError("the span ends before it starts: give --since before --until")
    if until - since > MAX_SPAN_S:
        raise EvidenceError("a span of more than 7 days: gather a shorter one (--since/--until)")
    if not _DATABASE.fullmatch(cluster.database):
        raise EvidenceError(
            f"database name {cluster.database!r} is not a Db2 database name (1-8 letters, digits, _@#$): "
            "fix it in the inventory"
        )
    # whole seconds (what the tools take), widened outwards: a promote 0.5 s before `until` is in the span
    since, until = float(math.floor(since)), float(math.ceil(until))
    plan: list[EvidenceCommand] = []
    for host in cluster.db_hosts:
        h = host.name
        plan += [
            EvidenceCommand(
                h,
                f"{h}/pacemaker-journal.txt",
                (
                    "journalctl",
                    "--no-pager",
                    "--utc",
                    "--output=short-iso",
                    f"--since={_utc(since, '%Y-%m-%d %H:%M:%S')}",
                    f"--until={_utc(until, '%Y-%m-%d %H:%M:%S')}",
                    "--unit=pacemaker.service",
                    "--unit=corosync.service",
                    "--unit=corosync-qdevice.service",
                ),
                "the Pacemaker and corosync log of the span (crm report's journal part)",
            ),
            EvidenceCommand(
                h,
                f"{h}/pe-inputs.txt",
                (
                    "find",
                    PENGINE_DIR,
                    "-maxdepth",
                    "1",
                    "-name",
                    "pe-input-*.bz2",
                    "-newermt",
                    f"@{int(since)}",
                    "!",
                    "-newermt",
                    f"@{int(until) + 1}",
                    "-printf",
                    "%T@ %f\\n",
                ),
                "the scheduler inputs Pacemaker wrote in the span (read next, the last few)",
            ),
            EvidenceCommand(
                h,
                f"{h}/db2diag.txt",
                (
                    "db2diag",
                    "-time",
                    f"{_utc(since, '%Y-%m-%d-%H.%M.%S')}:{_utc(until, '%Y-%m-%d-%H.%M.%S')}",
                ),
                "the db2diag.log records of the span (times as the host's clock shows them; UTC assumed)",
            ),
            EvidenceCommand(h, f"{h}/db2pd-hadr-now.txt", db2pd_argv(cluster.database), "HADR as it is now"),
        ]
    return plan


def describe(cluster: Cluster, since: float, until: float) -> list[Action]:
    """The dry run: every command the first round runs (the pe-input reads follow from its listing)."""
    return [c.action() for c in evidence_plan(cluster, since, until)]


def pe_input_names(listing: str, limit: int = PE_LIMIT) -> list[str]:
    """Return the last `limit` pe-input file names of a `find -printf '%T@ %f\\n'` listing, oldest
    first; lines that are not exactly "<time> pe-input-<n>.bz2" are ignored (never put in a command)."""
    found: list[tuple[float, str]] = []
    for line in listing.splitlines():
        stamp, _, name = line.strip().partition(" ")
        if not PE_INPUT.fullmatch(name):
            continue
        try:
            found.append((float(stamp), name))
        except ValueError:
            continue
    found.sort()
    return [name for _, name in found[-limit:]] if limit > 0 else []


async def _run(runner: Runner, host: Host, cmd: EvidenceCommand, timeout: float | None) -> EvidenceText:
    command = shlex.join(cmd.argv)
    try:
        result = await runner.run(host, list(cmd.argv), timeout=timeout, check=False)
    except Exception as exc:  # one host down: its evidence says why, the others still come
        return EvidenceText(cmd.host, cmd.name, command, "", None, f"{type(exc).__name__}: {exc}")
    text = str(result.stdout)
    if result.stderr:
        text += ("\n" if text and not text.endswith("\n") else "") + f"[stderr]\n{result.stderr}"
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"\n[cut at {MAX_TEXT} characters]\n"
    return EvidenceText(cmd.host, cmd.name, command, text, int(result.exit_status))


async def gather_evidence(
    cluster: Cluster,
    runner: Runner,
    since: float,
    until: float,
    *,
    pe_limit: int = PE_LIMIT,
    timeout: float | None = 60.0,
) -> list[EvidenceText]:
    """Run the plan host by host, then read the last `pe_limit` pe-input files each host listed
    (`bzcat -- <file>`: the CIB and status the scheduler decided on). Never raises for a host."""
    hosts = {h.name: h for h in cluster.db_hosts}
    out: list[EvidenceText] = []
    for cmd in evidence_plan(cluster, since, until):
        text = await _run(runner, hosts[cmd.host], cmd, timeout)
        out.append(text)
        if cmd.name.endswith("/pe-inputs.txt") and text.exit_status == 0:
            for name in pe_input_names(text.text, pe_limit):
                read = EvidenceCommand(
                    cmd.host,
                    f"{cmd.host}/pengine/{name.removesuffix('.bz2')}.xml",
                    ("bzcat", "--", f"{PENGINE_DIR}/{name}"),
                    "one scheduler input of the span",
                )
                out.append(await _run(runner, hosts[cmd.host], read, timeout))
    return out
