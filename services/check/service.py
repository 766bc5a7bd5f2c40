"""Read what the audit needs from a cluster's hosts and run the rules. Read-only: `db2 get db cfg` on each
db host and `crm configure show` on the first db host that answers; nothing is changed anywhere."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from services.check.finding import Finding, Severity
from services.check.hadr_timing import hadr_mismatch_findings, hadr_timing_findings
from services.check.overlay_rules import overlay_findings
from services.check.pacemaker_config import CrmConfig, read_crm_config
from services.check.versions import pacemaker_build_findings
from services.inventory.model import Cluster, Host
from services.parsers.dbcfg import parse_dbcfg_hadr
from services.ssh.runner import HostRunner

if TYPE_CHECKING:
    from services.check.aws_facts import AwsFacts

CRM_CONFIG = ("crm", "configure", "show")


def dbcfg_argv(database: str) -> tuple[str, ...]:
    return ("db2", "get", "db", "cfg", "for", database)


@dataclass
class CheckReport:
    cluster: str
    findings: list[Finding] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # "host: command: why", what could not be checked
    checked: list[str] = field(default_factory=list)  # the rule groups that ran

    @property
    def exit_code(self) -> int:
        """0 nothing found, 1 findings, 2 a source the rules need could not be read at all."""
        if any(u.startswith(("(all hosts)", "(aws)")) for u in self.unreadable):
            return 2
        return 1 if self.findings else 0

    def to_dict(self) -> dict[str, object]:
        order = {Severity.ERROR: 0, Severity.WARNING: 1}
        return {
            "schema_version": 1,
            "cluster": self.cluster,
            "exit_code": self.exit_code,
            "checked": list(self.checked),
            "unreadable": list(self.unreadable),
            "findings": [
                f.to_dict() for f in sorted(self.findings, key=lambda f: (order[f.severity], f.code))
            ],
        }


async def _read(runner: HostRunner, host: Host, argv: tuple[str, ...], timeout: float | None) -> str:
    """Return stdout of `argv` on `host`; raise RuntimeError with the reason when it gives no answer."""
    try:
        result = await asyncio.wait_for(runner.run(host, list(argv)), timeout)
    except TimeoutError:
        raise RuntimeError(f"no answer within {timeout:g} s") from None
    if result.exit_status != 0:
        why = (result.stderr or result.stdout).strip().splitlines()
        raise RuntimeError(f"exit {result.exit_status}: {why[-1] if why else 'no output'}")
    return result.stdout


async def run_check(cluster: Cluster, runner: HostRunner, *, timeout_s: float | None = 60.0) -> CheckReport:
    """Return the findings of `cluster`'s configuration audit."""
    report = CheckReport(cluster.name)
    hosts = cluster.db_hosts

    async def dbcfg(host: Host) -> dict[str, str] | None:
        try:
            text = await _read(runner, host, dbcfg_argv(cluster.database), timeout_s)
            return parse_dbcfg_hadr(text).params
        except Exception as exc:  # an SSH error, a refused command, a parse error: reported, never raised
            report.unreadable.append(f"{host.name}: {' '.join(dbcfg_argv(cluster.database))}: {exc}")
            return None

    async def crm_config() -> CrmConfig | None:
        for host in hosts:  # the CIB is shared: the first node that answers is enough
            try:
                return read_crm_config(await _read(runner, host, CRM_CONFIG, timeout_s))
            except Exception as exc:
                report.unreadable.append(f"{host.name}: {' '.join(CRM_CONFIG)}: {exc}")
        return None

    # No instance ids: not on EC2. A lab without moto (`db2ops lab --no-aws`) has placeholder instance ids:
    # never read a real account's EC2 instead.
    on_aws = any(h.instance_id for h in cluster.hosts) and not (cluster.lab and not cluster.aws.is_lab)
    aws_read = asyncio.ensure_future(_read_aws(cluster)) if on_aws else None  # alongside the hosts' reads
    cfgs, config = await asyncio.gather(asyncio.gather(*(dbcfg(h) for h in hosts)), crm_config())
    by_host = {h.name: p for h, p in zip(hosts, cfgs, strict=True) if p is not None}
    if not by_host:
        report.unreadable.append(
            "(all hosts): db2 get db cfg: no db host answered; check SSH and the instance"
        )
    if config is None:
        report.unreadable.append(
            "(all hosts): crm configure show: no db host answered; is Pacemaker running?"
        )
    if len(by_host) > 1:
        report.checked.append("hadr-cfg-consistency")
        report.findings += hadr_mismatch_findings(by_host)
    if config is not None and by_host:
        report.checked.append("hadr-vs-pacemaker-timing")
        seen: set[str] = set()
        for params in by_host.values():  # each host's values matter after a takeover; one finding per code
            for finding in hadr_timing_findings(params, config):
                if finding.code not in seen:
                    seen.add(finding.code)
                    report.findings.append(finding)
    if config is not None:
        report.checked.append("overlay-ip-resource")
        report.findings += overlay_findings(
            config, overlay_ip=cluster.aws.overlay_ip, db_nodes=tuple(h.name for h in hosts)
        )
        report.checked.append("pacemaker-build")
        report.findings += pacemaker_build_findings(config)
    if aws_read is not None:
        syncmodes = {p.get("HADR_SYNCMODE", "") for p in by_host.values()}
        ports = {
            h: int(p["HADR_LOCAL_SVC"]) for h, p in by_host.items() if p.get("HADR_LOCAL_SVC", "").isdigit()
        }
        facts = await aws_read
        if isinstance(facts, str):
            report.unreadable.append(f"(aws): EC2/IAM reads: {facts}")
        else:
            _check_aws(cluster, report, facts, syncmodes.pop() if len(syncmodes) == 1 else None, ports)
    return report


async def _read_aws(cluster: Cluster) -> AwsFacts | str:
    """The AWS facts, or why they could not be read (one sentence saying what to do)."""
    from services.aws_clients import describe_aws_error
    from services.check.aws_facts import read_aws_facts

    try:
        return await asyncio.to_thread(read_aws_facts, cluster)  # boto3 blocks: off the event loop
    except Exception as exc:  # botocore's errors: reported as not checked, never raised
        return describe_aws_error(exc)


def _check_aws(
    cluster: Cluster, report: CheckReport, facts: AwsFacts, syncmode: str | None, hadr_ports: dict[str, int]
) -> None:
    """`hadr_ports`: each db host's HADR_LOCAL_SVC when numeric (a service name is not resolved here)."""
    from services.check.aws_rules import aws_findings, hadr_port_findings, placement_findings

    report.checked.append("aws")
    report.findings += aws_findings(cluster, facts)
    report.findings += placement_findings(cluster, facts, syncmode)
    report.findings += hadr_port_findings(cluster, facts, hadr_ports)
