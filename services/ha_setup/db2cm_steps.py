"""Runbook "Configuring Pacemaker": db2cm creates the cluster, the instance resources and the HADR
database resource, from one host (db2ops uses the HADR primary) as root. Each step is checked with
`db2cm -list`, so a re-run skips what exists; a cluster with other nodes is never touched.
"""

from __future__ import annotations

from abc import abstractmethod

from services.cluster_model import Db2cmList
from services.ha_setup.common import PrimaryHostStep, db2cm_path, read_db2cm_list, root, standby_of
from services.ha_setup.params import HaParams, hadr_resource
from services.inventory.model import Cluster, Host
from services.inventory.names import database_operand, operand
from services.plans import HostCommand, PlanContext, StepFailed, StepState, VerifiedByCheck

LIST_FACT = "ha:db2cm-list"  # ctx.facts: the last db2cm -list read (Db2cmList or why there is none)


class _Db2cmStep(VerifiedByCheck, PrimaryHostStep):
    """A db2cm command run on the HADR primary (resolved on check)."""

    def __init__(self, *, id: str, title: str, cluster: Cluster, params: HaParams, explain: str) -> None:
        super().__init__(id=id, title=title, cluster=cluster, explain=explain)
        self.params = params

    async def _listing(self, ctx: PlanContext) -> Db2cmList | str:
        await self._to_primary(ctx)
        listing = await read_db2cm_list(ctx, self.host, self.params)
        ctx.facts[LIST_FACT] = listing
        if isinstance(listing, Db2cmList):
            wanted = {h.name for h in self.cluster.db_hosts}
            if set(listing.nodes) != wanted:
                raise StepFailed(
                    f"a Pacemaker domain {listing.domain_name!r} with nodes {', '.join(sorted(listing.nodes))} "
                    f"already exists on {self.host.name}, not {', '.join(sorted(wanted))}: db2ops will not "
                    "change it; remove it (db2cm -delete -cluster) or fix the inventory"
                )
        return listing

    async def check(self, ctx: PlanContext) -> StepState:
        listing = await self._listing(ctx)
        if isinstance(listing, str):
            return StepState(False, listing)
        return self._state(listing)

    @abstractmethod
    def _state(self, listing: Db2cmList) -> StepState:
        """Return what the existing cluster's `db2cm -list` says about this step."""

    def db2cm(self, *args: str) -> HostCommand:
        return HostCommand(root(self.params, db2cm_path(self.cluster), *args))

    async def apply(self, ctx: PlanContext) -> None:
        state = await self.check(ctx)  # the earlier steps of this run changed the cluster
        if not state.done:
            await super().apply(ctx)


class ClusterCreateStep(_Db2cmStep):
    """db2cm -create -cluster -domain D -publicEthernet NIC -host H1 -publicEthernet NIC -host H2."""

    def __init__(self, cluster: Cluster, params: HaParams) -> None:
        super().__init__(
            id="db2cm-cluster",
            title=f"Pacemaker cluster domain {params.domain}",
            cluster=cluster,
            params=params,
            explain=f"Runbook step 1: db2cm -create -cluster with -publicEthernet {params.nic} for both "
            "hosts (run `ip -o link` to find the interface name). Creates corosync + Pacemaker on both.",
        )

    def _state(self, listing: Db2cmList) -> StepState:
        detail = f"domain {listing.domain_name}: {', '.join(f'{n} {s}' for n, s in listing.nodes.items())}"
        if listing.domain_name != self.params.domain:
            detail += f" (kept: renaming a domain means re-creating it; wanted {self.params.domain})"
        return StepState(True, detail)

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        primary = self.host
        standby = standby_of(self.cluster, primary)
        nic = self.params.nic
        return [
            self.db2cm(
                "-create",
                "-cluster",
                "-domain",
                self.params.domain or "",
                "-publicEthernet",
                nic,
                "-host",
                operand(primary.name, "host name"),
                "-publicEthernet",
                nic,
                "-host",
                operand(standby.name, "host name"),
            )
        ]


class InstanceResourceStep(_Db2cmStep):
    """db2cm -create -instance INST -host H (one per host)."""

    def __init__(self, cluster: Cluster, params: HaParams, host: Host) -> None:
        super().__init__(
            id=f"db2cm-instance@{host.name}",
            title=f"Instance resource {cluster.instance} on {host.name}",
            cluster=cluster,
            params=params,
            explain="Runbook step 2: the instance resource model, one per host.",
        )
        self.instance_host = host

    def _state(self, listing: Db2cmList) -> StepState:
        for resource in listing.resources:
            if (
                resource.type == "Instance"
                and resource.fields.get("Node") == self.instance_host.name
                and resource.fields.get("Instance Name") == self.cluster.instance
            ):
                return StepState(True, f"{resource.name} {resource.fields.get('State', '')}".strip())
        return StepState(
            False, f"no instance resource for {self.cluster.instance} on {self.instance_host.name}"
        )

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        host = operand(self.instance_host.name, "host name")
        return [self.db2cm("-create", "-instance", self.cluster.instance, "-host", host)]


class DatabaseResourceStep(_Db2cmStep):
    """db2cm -create -db DB -instance INST: the HADR resource (a promotable clone)."""

    def __init__(self, cluster: Cluster, params: HaParams) -> None:
        super().__init__(
            id="db2cm-db",
            title=f"HADR database resource {cluster.database}",
            cluster=cluster,
            params=params,
            explain="Runbook step 3, then `crm status` on both hosts: the clone promoted on the HADR "
            "primary, unpromoted on the standby.",
        )

    def _state(self, listing: Db2cmList) -> StepState:
        for resource in listing.resources:
            if (
                resource.type == "HADR"
                and resource.fields.get("DB Name", "").upper() == self.cluster.database.upper()
            ):
                states = (
                    resource.fields.get("HADR Primary State"),
                    resource.fields.get("HADR Standby State"),
                )
                return StepState(True, f"{resource.name}: primary {states[0]}, standby {states[1]}")
        return StepState(False, f"no HADR resource for database {self.cluster.database}")

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        database = database_operand(self.cluster.database)
        return [self.db2cm("-create", "-db", database, "-instance", self.cluster.instance)]

    async def verify(self, ctx: PlanContext) -> bool | str:
        state = await self.check(ctx)
        if not state.done:
            return state.detail
        return await promoted_on_primary(ctx, self.cluster, self.params, self.host)


async def promoted_on_primary(
    ctx: PlanContext, cluster: Cluster, params: HaParams, primary: Host
) -> bool | str:
    """Return True when `crm_mon` on both hosts shows the HADR clone promoted on `primary`, else why not."""
    from services.parsers.crm_mon_xml import parse_crm_mon_xml

    clone_id = f"{hadr_resource(cluster)}-clone"
    for host in cluster.db_hosts:
        result = await ctx.read(host, root(params, "crm_mon", "-1", "--output-as=xml"))
        status = parse_crm_mon_xml(result.stdout)
        if not status.connected:
            return f"Pacemaker is not running on {host.name} (crm_mon: {status.status_message})"
        clone = next((c for c in status.clones if c.id == clone_id), None)
        promoted = [n for i in (clone.instances if clone else ()) if i.role == "Promoted" for n in i.nodes]
        if promoted != [primary.name]:
            return f"crm status on {host.name}: {clone_id} promoted on {promoted or 'no node'}, not {primary.name}"
    return True
