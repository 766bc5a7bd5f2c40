"""Lab host answers for the HA runbook's cluster commands: db2cm (-list, -copy_resources, -create
-cluster/-instance/-db/-qdevice), `crm configure show|load update`, `crm resource manage`, and the status
tools (crm_mon, crm status, corosync-*) as a host answers while the cluster is being built.

On a seeded lab the status tools answer exactly as lab/commands.py's handlers do; on a fresh one
(lab/ha_state.start_fresh) a host without Pacemaker says "command not found", a host with Pacemaker but
no cluster says "not connected", and then only what db2cm and crm created shows (lab/ha_render.py).
db2cm's own messages are approximations (no capture of them in the corpus); error cases follow what
db2cm checks: the hosts, the interface, HADR in PEER, qnetd installed.
"""

from __future__ import annotations

import re

from lab import ha_render, render_corosync, render_db2, render_pacemaker
from lab import ha_state as ha
from lab.command_registry import CommandContext, Handler, Result, not_found, register_command
from lab.db2admin_state import normpath

DB = ("db",)
NOT_CONNECTED_TEXT = "ERROR: status: crm_mon (rc=102): Connection to cluster failed: Connection refused\n"
CIB_DOWN = (
    "ERROR: running cibadmin -Ql: Could not connect to the CIB: Transport endpoint is not connected\n"
    "ERROR: configure: Missing requirements\n"
)


def _state(ctx: CommandContext) -> ha.ClusterHa:
    return ha.cluster_ha(ctx.cluster)


def _gate(ctx: CommandContext, tool: str) -> Result | None:
    """Return the answer of a host where `tool` cannot report a cluster yet, or None when it can."""
    state = _state(ctx)
    host = ha.host_ha(ctx.cluster, ctx.host)
    if not state.fresh:
        return None
    if not host.pacemaker() and not (tool == "corosync-qnetd-tool" and "corosync-qnetd" in host.packages):
        return not_found(tool)
    if tool == "corosync-qnetd-tool" and state.qdevice != ctx.host.name:
        return 3, "", render_corosync.QNETD_DOWN
    if tool == "corosync-qdevice-tool" and state.qdevice is None:
        return 3, "", render_corosync.QDEVICE_DOWN
    if state.domain is None:
        if tool == "crm_mon":
            return 102, render_pacemaker.render_crm_mon_not_connected_xml(ctx.cluster, ctx.argv), ""
        if tool == "crm":
            return 1, "", NOT_CONNECTED_TEXT
        return 1, "", render_corosync.CMAP_DOWN
    return None


def _wants_xml(args: list[str]) -> bool:
    return any(a in ("--output-as=xml", "--as-xml", "-X") for a in args) or "--output-as xml" in " ".join(
        args
    )


def _crm_mon(ctx: CommandContext) -> Result:
    gated = _gate(ctx, "crm_mon")
    if gated is not None:
        return gated
    if _wants_xml(ctx.args):
        xml = render_pacemaker.render_crm_mon_xml(ctx.cluster, ctx.argv)
        return 0, ha_render.filter_crm_xml(ctx.cluster, _state(ctx), xml), ""
    return (
        0,
        ha_render.filter_crm_text(
            ctx.cluster, _state(ctx), render_pacemaker.render_crm_mon_text(ctx.cluster)
        ),
        "",
    )


def _crm_status(ctx: CommandContext) -> Result:
    gated = _gate(ctx, "crm")
    if gated is not None:
        return gated
    return (
        0,
        ha_render.filter_crm_text(
            ctx.cluster, _state(ctx), render_pacemaker.render_crm_mon_text(ctx.cluster)
        ),
        "",
    )


def _corosync(tool: str) -> Handler:
    def handler(ctx: CommandContext) -> Result:
        gated = _gate(ctx, tool)
        if gated is not None:
            return gated
        if tool == "corosync-quorumtool":
            status, out, err = render_corosync.render_quorumtool(ctx.cluster, ctx.host.name)
        elif tool == "corosync-cfgtool":
            status, out, err = render_corosync.render_cfgtool(ctx.cluster, ctx.host.name)
        elif tool == "corosync-qnetd-tool":
            status, out, err = render_corosync.render_qnetd_tool(ctx.cluster, ctx.args)
        else:
            verbose = any(a.startswith("-") and not a.startswith("--") and "v" in a for a in ctx.args)
            status, out, err = render_corosync.render_qdevice_tool(ctx.cluster, ctx.host.name, verbose)
        return status, ha_render.rename(ctx.cluster, _state(ctx), out), err

    return handler


# ---------------------------------------------------------------- db2cm


def _flag(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args[:-1] else None


def _db2cm(ctx: CommandContext) -> Result:
    path = f"/home/{ctx.cluster.instance}/sqllib/adm/db2cm"
    state, args = _state(ctx), ctx.args
    if path not in ctx.host.files:
        return 127, "", f"bash: {path}: No such file or directory\n"
    if args[:1] == ["-list"]:
        if state.domain is None:
            return 1, "", "Error: Could not list the cluster: no cluster is configured on this host.\n"
        status, out, err = render_db2.render_db2cm_list(ctx.cluster, ctx.host.name)
        return status, ha_render.filter_db2cm_list(ctx.cluster, state, out), err
    if args[:1] == ["-copy_resources"]:
        return _copy_resources(ctx, args)
    if args[:1] == ["-create"] and len(args) > 1:
        create = {
            "-cluster": _create_cluster,
            "-instance": _create_instance,
            "-db": _create_db,
            "-qdevice": _create_qdevice,
        }
        if args[1] in create:
            return create[args[1]](ctx, args[1:])
    return 1, "", f"db2cm {' '.join(args)}: not emulated by the db2ops lab (see db2cm -h)\n"


def _copy_resources(ctx: CommandContext, args: list[str]) -> Result:
    source, host = (args[1] if len(args) > 1 else ""), _flag(args, "-host")
    if host not in ctx.cluster.db_nodes:
        return 1, "", f"Error: Host {host} is not a valid host name.\n"
    if not any(p.startswith(normpath(source) + "/db2") for p in ctx.host.files):
        return 1, "", f"Error: Directory {source} does not contain the Db2 resource agents.\n"
    target = ha.host_ha(ctx.cluster, ctx.cluster.hosts[host])
    if not target.pacemaker():
        return 1, "", f"Error: Pacemaker is not installed on {host}.\n"
    target.agents = True
    return 0, f"Db2 resource agents copied to /usr/lib/ocf/resource.d/heartbeat on {host}.\n", ""


def _create_cluster(ctx: CommandContext, args: list[str]) -> Result:
    state, cluster = _state(ctx), ctx.cluster
    domain = _flag(args, "-domain")
    hosts = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-host"]
    nics = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-publicEthernet"]
    if state.domain is not None:
        return 1, "", f"Error: A cluster domain {state.domain} already exists.\n"
    if not domain or not re.match(r"^[A-Za-z][A-Za-z0-9_-]*$", domain):
        return 1, "", f"Error: Invalid domain name {domain!r}.\n"
    if sorted(hosts) != sorted(cluster.db_nodes) or len(nics) != len(hosts):
        return 1, "", "Error: Specify -publicEthernet and -host for both hosts of the HADR pair.\n"
    for host, nic in zip(hosts, nics, strict=True):
        if nic != ha.NIC:
            return 1, "", f"Error: Network interface {nic} does not exist on host {host}.\n"
        host_state = ha.host_ha(cluster, cluster.hosts[host])
        if not host_state.pacemaker() or not host_state.agents:
            return 1, "", f"Error: Pacemaker or the Db2 resource agents are not installed on {host}.\n"
    state.domain = domain
    lines = [f"Created db2_{h}_{n} resource." for h, n in zip(hosts, nics, strict=True)]
    return 0, "\n".join([*lines, "Cluster created successfully."]) + "\n", ""


def _create_instance(ctx: CommandContext, args: list[str]) -> Result:
    state, cluster = _state(ctx), ctx.cluster
    instance, host = (args[1] if len(args) > 1 else ""), _flag(args, "-host")
    if state.domain is None:
        return 1, "", "Error: Create the cluster first (db2cm -create -cluster).\n"
    if instance != cluster.instance or host not in cluster.db_nodes:
        return 1, "", f"Error: Instance {instance} does not exist on host {host}.\n"
    if host in state.instances:
        return 1, "", f"Error: Resource {cluster.instance_rsc(host)} already exists.\n"
    state.instances.add(host)
    return (
        0,
        f"Created {cluster.instance_rsc(host)} resource.\nInstance resource for {instance} on {host} created successfully.\n",
        "",
    )


def _create_db(ctx: CommandContext, args: list[str]) -> Result:
    state, cluster = _state(ctx), ctx.cluster
    database, instance = (args[1] if len(args) > 1 else ""), _flag(args, "-instance")
    if set(state.instances) != set(cluster.db_nodes):
        return 1, "", "Error: Create the instance resources on both hosts first (db2cm -create -instance).\n"
    if database.upper() != cluster.database.upper() or instance != cluster.instance:
        return 1, "", f"Error: Database {database} is not an HADR database of instance {instance}.\n"
    if state.database:
        return 1, "", f"Error: Resource {cluster.hadr_rsc} already exists.\n"
    if cluster.hadr_state(cluster.clock()) != "PEER":
        return 1, "", f"Error: HADR database {database} is not in PEER state.\n"
    state.database = True
    return (
        0,
        f"Created {cluster.hadr_rsc} resource.\nDatabase resource for {database} created successfully.\n",
        "",
    )


def _create_qdevice(ctx: CommandContext, args: list[str]) -> Result:
    state, cluster = _state(ctx), ctx.cluster
    qhost = args[1] if len(args) > 1 else ""
    if state.domain is None:
        return 1, "", "Error: Create the cluster first (db2cm -create -cluster).\n"
    if qhost != cluster.qdevice_name:
        return 1, "", f"Error: Could not connect to host {qhost}.\n"
    if "corosync-qnetd" not in ha.host_ha(cluster, cluster.hosts[qhost]).packages:
        return 1, "", f"Error: corosync-qnetd is not installed on {qhost}.\n"
    if state.qdevice is not None:
        return 1, "", f"Error: A quorum device is already configured ({state.qdevice}).\n"
    state.qdevice = qhost
    nodes = " ".join(cluster.db_nodes)
    return (
        0,
        f"Successfully configured qdevice on nodes {nodes}\nSuccessfully configured qnetd on node {qhost}\n",
        "",
    )


# ---------------------------------------------------------------- crm configure / resource manage


def _crm_configure(ctx: CommandContext) -> Result:
    state, args = _state(ctx), ctx.args[1:]
    gated = _gate(ctx, "crm")
    if gated is not None or state.domain is None:
        return 1, "", CIB_DOWN
    if args == ["show"]:
        from lab.check_seeds import apply_crm_edits  # the audit's seeded misconfigurations, if any

        return 0, apply_crm_edits(ctx.cluster, ha_render.render_crm_config(ctx.cluster, state)), ""
    if args[:2] == ["load", "update"] and len(args) == 3:
        if args[2] not in ctx.host.files:
            return 1, "", f"ERROR: configure.load: No such file or directory: {args[2]}\n"
        return _load(ctx, ctx.host.files[args[2]])
    return 1, "", f"ERROR: crm configure {' '.join(args)}: not emulated by the db2ops lab\n"


def _load(ctx: CommandContext, text: str) -> Result:
    state, cluster = _state(ctx), ctx.cluster
    new_oip: tuple[str, dict[str, str]] | None = None
    constraints: dict[str, str] = {}
    for line in re.sub(r"\\\s*\n\s*", " ", text).splitlines():
        words = line.split()
        if not words:
            continue
        kind, ident = words[0], words[1] if len(words) > 1 else ""
        if kind == "primitive":
            if len(words) < 3 or words[2] not in ("ocf:heartbeat:aws-vpc-move-ip", "aws-vpc-move-ip"):
                agent = words[2] if len(words) > 2 else "?"
                return 1, "", f"ERROR: {agent}: got no meta-data, does this RA exist?\n"
            end = next((i for i, w in enumerate(words[4:], 4) if w in ("op", "meta")), len(words))
            new_oip = (ident, dict(w.split("=", 1) for w in words[4:end] if "=" in w))
        elif kind in ("colocation", "order", "location"):
            constraints[ident] = " ".join(words)
        else:
            return 1, "", f"ERROR: syntax in {kind}: unknown object type\n"
    known = {cluster.clone_rsc, *(cluster.instance_rsc(n) for n in state.instances)}
    known.add(new_oip[0] if new_oip else (state.oip_name or ""))
    for ident, line in constraints.items():
        refs = [w.split(":", 1)[0] for w in line.split()[2:] if w.startswith("db2_")]
        missing = [r for r in refs if r not in known]
        if missing:
            return 1, "", f"ERROR: {ident}: object {missing[0]} does not exist\n"
    if new_oip is not None:
        if state.oip_name != new_oip[0]:
            state.oip_managed = False  # a new resource starts unmanaged (rsc_defaults is-managed=false)
        state.oip_name, state.oip_params = new_oip
    state.constraints.update(constraints)
    return 0, "", ""


def _crm_resource_manage(ctx: CommandContext) -> Result:
    state = _state(ctx)
    name = ctx.args[2] if len(ctx.args) == 3 else ""
    gated = _gate(ctx, "crm")
    if gated is not None:
        return gated
    if name != state.oip_name and name not in (ctx.cluster.clone_rsc, ctx.cluster.hadr_rsc):
        return 1, "", f"ERROR: resource {name} does not exist\n"
    if name == state.oip_name:
        state.oip_managed = True
    return 0, "", ""


def register() -> None:
    """Register every handler of this module with lab/commands.py (done once, on import)."""
    register_command("db2cm", _db2cm, roles=DB)
    register_command("crm_mon", _crm_mon, roles=DB)
    register_command("crm", _crm_status, roles=DB, match=lambda argv: argv[1:2] == ["status"])
    # `crm config show`: the AWS runbook's spelling (crmsh takes an unambiguous prefix of a level's name)
    register_command(
        "crm", _crm_configure, roles=DB, match=lambda argv: argv[1:2] in (["configure"], ["config"])
    )
    register_command(
        "crm", _crm_resource_manage, roles=DB, match=lambda argv: argv[1:3] == ["resource", "manage"]
    )
    for tool, roles in (
        ("corosync-quorumtool", DB),
        ("corosync-cfgtool", DB),
        ("corosync-qdevice-tool", ("db", "qdevice")),
        ("corosync-qnetd-tool", ("qdevice",)),
    ):
        register_command(tool, _corosync(tool), roles=roles)


register()
