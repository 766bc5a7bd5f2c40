"""Runbook "Steps to configure overlay IP", the host part, on the HADR primary as root: the overlay IP on
the interface, then the aws-vpc-move-ip resource written to overlayip.txt, loaded with
`crm configure load update` and managed with `crm resource manage`; verified with `crm status`.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from services.ha_setup.common import PrimaryHostStep, read_crm_config, root, standby_of
from services.ha_setup.params import HaParams, hadr_resource
from services.inventory.model import Cluster
from services.plans import HostCommand, PlanContext, StepFailed, StepState, VerifiedByCheck

AGENT = "aws-vpc-move-ip"
VERIFY_ATTEMPTS = 30  # x 2 s: the agent's start timeout is 180 s, a start takes a few seconds


@dataclass
class CrmEntry:
    """One object of `crm configure show`: kind (primitive, colocation, ...), id, the rest as tokens."""

    kind: str
    id: str
    tokens: list[str] = field(default_factory=list)

    def params(self) -> dict[str, str]:
        return dict(
            t.split("=", 1) for t in self.tokens if "=" in t and not t.startswith(("interval", "timeout"))
        )


def parse_crm_config(text: str) -> list[CrmEntry]:
    """Return the objects of `crm configure show` (continuation lines joined, quotes removed)."""
    joined = re.sub(r"\\\s*\n\s*", " ", text)
    entries = []
    for line in joined.splitlines():
        words = [w.strip('"') for w in line.split()]
        if len(words) >= 2 and not line.startswith((" ", "\t")):
            entries.append(CrmEntry(words[0], words[1].rstrip(":"), words[2:]))
    return entries


def _placeable(entries: list[CrmEntry], rsc: str, node: str) -> bool:
    """True when a `location ID RSC SCORE: NODE` entry with a positive score lets `rsc` run on `node`."""
    for entry in entries:
        t = entry.tokens
        if entry.kind == "location" and len(t) >= 3 and t[0] == rsc and t[-1] == node:
            score = t[-2].rstrip(":").lower()
            if score in ("inf", "infinity", "+inf", "+infinity") or (score.isdigit() and int(score) > 0):
                return True
    return False


def _symmetric(entries: list[CrmEntry]) -> bool:
    """The cluster's symmetric-cluster property (`property cib-bootstrap-options: ...`); Pacemaker's
    default, true, when it is not set."""
    for entry in entries:
        if entry.kind == "property":
            value = entry.params().get("symmetric-cluster")
            if value is not None:
                return value.lower() not in ("false", "no", "0", "off", "n")
    return True


def render_crm_file(
    cluster: Cluster, params: HaParams, primary: str, standby: str, *, awscli: str | None = None
) -> str:
    """Return the runbook's overlayip.txt for this cluster (primitive, colocation, order, locations).

    `awscli` (the agent's path to the aws CLI, default /usr/bin/aws) is for the real-Pacemaker lab, whose
    wrapper points the CLI at the lab's EC2 emulation; the wizard leaves it out."""
    hadr = hadr_resource(cluster)
    clone, oip = f"{hadr}-clone", params.oip_resource
    tables = ",".join(params.route_table_ids or ())
    cli = f" awscli={awscli}" if awscli else ""
    return (
        f"primitive {oip} ocf:heartbeat:{AGENT} \\\n"
        f"  params ip={params.overlay_ip} routing_table={tables} interface={params.nic} "
        f"profile={params.agent_profile}{cli} \\\n"
        "  op start interval=0 timeout=180s \\\n"
        "  op stop interval=0 timeout=180s \\\n"
        "  op monitor interval=30s timeout=60s\n"
        f"colocation {hadr}_AWS_primary-colocation inf: {oip}:Started {clone}:Master\n"
        f"order order-rule-{hadr}-then-primary-oip Mandatory: {clone} {oip}\n"
        f"location prefer-node1_{oip} {oip} 100: {primary}\n"
        f"location prefer-node2_{oip} {oip} 100: {standby}\n"
    )


class OverlayAddressStep(VerifiedByCheck, PrimaryHostStep):
    """ip address add OVERLAY/32 dev NIC on the primary (runbook step 2)."""

    def __init__(self, cluster: Cluster, params: HaParams) -> None:
        super().__init__(
            id="overlay-address",
            title=f"Overlay IP {params.overlay_cidr} on {params.nic} of the primary",
            cluster=cluster,
            explain="Runbook step 2: ip address add on the primary; after a failover the aws-vpc-move-ip "
            "agent adds it on the new primary itself.",
        )
        self.params = params

    async def check(self, ctx: PlanContext) -> StepState:
        await self._to_primary(ctx)
        result = await ctx.read(self.host, ["ip", "-o", "address", "show", "dev", self.params.nic])
        if result.exit_status != 0:
            raise StepFailed(
                f"{self.host.name} has no interface {self.params.nic}: set nic (see `ip -o link`)"
            )
        if re.search(rf"\sinet {re.escape(self.params.overlay_cidr)}\s", result.stdout):
            return StepState(True, f"{self.params.overlay_cidr} on {self.params.nic} of {self.host.name}")
        return StepState(False, f"{self.params.overlay_cidr} is not on {self.params.nic} of {self.host.name}")

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        p = self.params
        return [HostCommand(root(p, "ip", "address", "add", p.overlay_cidr, "dev", p.nic))]


class OipResourceStep(PrimaryHostStep):
    """The aws-vpc-move-ip primitive, colocated with the promoted HADR clone, managed and Started."""

    def __init__(self, cluster: Cluster, params: HaParams) -> None:
        super().__init__(
            id="oip-resource",
            title=f"Pacemaker resource {params.oip_resource} ({AGENT})",
            cluster=cluster,
            explain=f"Runbook steps 4-7: overlayip.txt ({params.crm_file}) loaded with crm configure load "
            "update, then crm resource manage (db2cm's rsc_defaults leave new resources unmanaged); the "
            "agent moves the route and the IP with the promoted HADR database.",
        )
        self.params = params

    async def check(self, ctx: PlanContext) -> StepState:
        await self._to_primary(ctx)
        config = await read_crm_config(ctx, self.host, self.params)
        if config is None:
            return StepState(False, f"no Pacemaker configuration on {self.host.name} yet")
        entries = parse_crm_config(config)
        name = self._primitive(entries)
        if name is None:
            return StepState(False, f"no {AGENT} resource for {self.params.overlay_ip}")
        ctx.facts[self.id] = {"name": name}
        clone = f"{hadr_resource(self.cluster)}-clone"
        texts = {
            kind: [" ".join(e.tokens) for e in entries if e.kind == kind] for kind in ("colocation", "order")
        }
        if not any(f"{name}:Started {clone}:" in t for t in texts["colocation"]):
            return StepState(False, f"{name} exists but is not colocated with {clone}")
        if not any(t.endswith(f"{clone} {name}") or f"{clone}:promote {name}" in t for t in texts["order"]):
            return StepState(False, f"{name} exists but has no order after {clone}")
        unplaced = [h.name for h in self.cluster.db_hosts if not _placeable(entries, name, h.name)]
        if unplaced and not _symmetric(entries):
            # an opt-in cluster (db2cm of 11.5.5 left symmetric-cluster=false): without a location
            # constraint the resource cannot run on that host, so the overlay IP would not follow a
            # failover there. A symmetric cluster (11.5.7's db2cm) runs it anywhere the colocation allows.
            return StepState(
                False,
                f"{name} has no location constraint for {', '.join(unplaced)}: the cluster is "
                "not symmetric (symmetric-cluster=false), so it cannot run there",
            )
        ctx.facts[self.id]["configured"] = True
        return await self._running(ctx, name)

    def _primitive(self, entries: list[CrmEntry]) -> str | None:
        p = self.params
        for entry in entries:
            if entry.kind != "primitive" or not entry.tokens or not entry.tokens[0].endswith(AGENT):
                continue
            values = entry.params()
            if values.get("ip") != p.overlay_ip:
                continue
            wanted = {
                "routing_table": ",".join(p.route_table_ids or ()),
                "interface": p.nic,
                "profile": p.agent_profile,
            }
            differ = {k: values.get(k) for k, v in wanted.items() if values.get(k) != v}
            if differ:
                raise StepFailed(
                    f"{entry.id} already moves {p.overlay_ip} with {differ}, wanted {wanted}: db2ops will not "
                    f"change it; edit it with `crm configure edit {entry.id}` or change the parameters"
                )
            return entry.id
        return None

    async def _running(self, ctx: PlanContext, name: str) -> StepState:
        from services.parsers.crm_mon_xml import parse_crm_mon_xml

        result = await ctx.read(self.host, root(self.params, "crm_mon", "-1", "--output-as=xml"))
        status = parse_crm_mon_xml(result.stdout)
        resource = next((r for r in status.resources if r.id == name), None)
        if resource is None:
            return StepState(False, f"{name} is configured but crm_mon does not show it")
        if not resource.managed:
            return StepState(False, f"{name} is not managed (crm resource manage {name})")
        if resource.role != "Started" or list(resource.nodes) != [self.host.name]:
            return StepState(False, f"{name} is {resource.role} on {', '.join(resource.nodes) or 'no node'}")
        return StepState(True, f"{name} Started on {self.host.name}")

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        p = self.params
        name = (ctx.facts.get(self.id) or {}).get("name") or p.oip_resource or ""
        text = render_crm_file(self.cluster, p, self.host.name, standby_of(self.cluster, self.host).name)
        return [
            HostCommand(root(p, "tee", "--", p.crm_file), input=text, note="the runbook's overlayip.txt"),
            HostCommand(root(p, "crm", "configure", "load", "update", p.crm_file)),
            HostCommand(root(p, "crm", "resource", "manage", name)),
        ]

    async def verify(self, ctx: PlanContext) -> bool | str:
        ctx.facts.pop(self.id, None)
        state = await self.check(ctx)
        for _ in range(VERIFY_ATTEMPTS):  # configured: give the agent time to start (only then wait)
            if state.done or not (ctx.facts.get(self.id) or {}).get("configured"):
                break
            await asyncio.sleep(2)
            state = await self.check(ctx)
        return True if state.done else f"{state.detail} (crm status on {self.host.name})"
