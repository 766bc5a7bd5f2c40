"""Outputs of the HA lab that the base renderers do not make: `crm configure show` (layout of
corpus/crm-config/db2-hadr-vip-v1155.txt), and the partial pictures of a fresh cluster that is being
built: crm_mon / crm status / db2cm -list show only the resources the plan created so far, under the
names it gave them (domain, overlay-IP resource), with the overlay resource Stopped until it is managed.

The filters work on the base renderers' text (one element or object per line), so the base renderers
stay the single source of the layout; a seeded (already built) cluster is returned unchanged.
"""

from __future__ import annotations

import re

from lab.ha_state import ClusterHa, oip_placeable
from lab.state import LabCluster


def rename(cluster: LabCluster, state: ClusterHa, text: str) -> str:
    """Return `text` with the lab's overlay resource id and domain replaced by what the plan created."""
    if state.oip_name and state.oip_name != cluster.oip_rsc:
        text = text.replace(cluster.oip_rsc, state.oip_name)
    if state.domain and state.domain != cluster.name:
        text = text.replace(f'Cluster "{cluster.name}":', f'Cluster "{state.domain}":')
        text = text.replace(f"Cluster name:\t\t{cluster.name}", f"Cluster name:\t\t{state.domain}")
        text = re.sub(r"^(Domain name\s+= ).*$", rf"\g<1>{state.domain}", text, flags=re.MULTILINE)
    return text


def _count(cluster: LabCluster, state: ClusterHa) -> int:
    ethmon = len(cluster.db_nodes) if state.domain else 0
    return ethmon + len(state.instances) + (2 if state.database else 0) + (1 if state.oip_name else 0)


def filter_crm_xml(cluster: LabCluster, state: ClusterHa, xml: str) -> str:
    """Return crm_mon XML without the resources that do not exist yet (unmanaged overlay: Stopped)."""
    if not state.fresh:
        return xml
    configured = state.configured(cluster)
    stopped = _oip_stopped(cluster, state)
    out: list[str] = []
    skip_until: str | None = None
    for line in xml.splitlines():
        stripped = line.strip()
        if skip_until is not None:
            if stripped == skip_until:
                skip_until = None
            continue
        match = re.match(r'<(resource|resource_history) id="([^"]+)"', stripped)
        if match and match.group(2) not in configured:
            skip_until = None if stripped.endswith("/>") else f"</{match.group(1)}>"
            continue
        if match and match.group(1) == "resource" and match.group(2) == cluster.oip_rsc and stopped:
            out.append(re.sub(r'<resource id="[^"]+".*', _stopped(cluster, state.oip_managed), line))
            skip_until = None if stripped.endswith("/>") else "</resource>"
            continue
        if stripped.startswith("<clone ") and cluster.hadr_rsc not in configured:
            skip_until = "</clone>"
            continue
        if stripped.startswith(f'<attribute name="master-{cluster.hadr_rsc}"') and not state.database:
            continue
        if stripped.startswith('<attribute name="db2ethmon-') and not state.domain:
            continue
        inst = re.match(rf'<attribute name="db2inst-(\S+)_{re.escape(cluster.instance)}_0"', stripped)
        if inst and cluster.instance_rsc(inst.group(1)) not in configured:
            continue
        out.append(
            re.sub(
                r'resources_configured number="\d+"',
                f'resources_configured number="{_count(cluster, state)}"',
                line,
            )
        )
    return rename(cluster, state, "\n".join(out) + "\n")


def _oip_stopped(cluster: LabCluster, state: ClusterHa) -> bool:
    """The overlay resource is Stopped while unmanaged, or when it may not run on the promoted node (on a
    release whose db2cm sets symmetric-cluster=false: no location constraint allows that node)."""
    promoted = cluster.promoted
    return not state.oip_managed or promoted is None or not oip_placeable(cluster, state, promoted)


def stopped_text(managed: bool) -> str:
    """A stopped primitive's state in crm_mon text. Pacemaker 2.0.x and 2.1.x print it alike: the role, then
    the resource's flags in parentheses, "unmanaged" when is-managed=false (lib/pengine/native.c,
    native_output_string / pcmk__native_output_string: add_output_flag(outstr, "unmanaged", ...)); the
    release only changes the agent's spelling before it (lab/release.py text_agent)."""
    return "Stopped" if managed else "Stopped (unmanaged)"


def _stopped(cluster: LabCluster, managed: bool) -> str:
    return (
        f'<resource id="{cluster.oip_rsc}" resource_agent="ocf:heartbeat:aws-vpc-move-ip" role="Stopped" '
        f'active="false" orphaned="false" blocked="false" managed="{str(managed).lower()}" failed="false" '
        'failure_ignored="false" nodes_running_on="0"/>'
    )


def filter_crm_text(cluster: LabCluster, state: ClusterHa, text: str) -> str:
    """Return `crm status` text without the resources that do not exist yet."""
    if not state.fresh:
        return text
    configured = state.configured(cluster)
    hidden = {cluster.instance_rsc(n) for n in cluster.db_nodes} | {cluster.hadr_rsc, cluster.oip_rsc}
    hidden |= {cluster.ethmon_rsc(n) for n in cluster.db_nodes}
    hidden -= configured
    stopped = _oip_stopped(cluster, state)
    out = []
    for line in text.splitlines():
        if stopped and f"* {cluster.oip_rsc}\t" in line:
            line = re.sub(r"\t (?:Started \S+|Stopped)$", "\t " + stopped_text(state.oip_managed), line)
        if any(f"* {rsc}\t" in line or f"[{rsc}]" in line for rsc in hidden):
            continue
        if cluster.hadr_rsc in hidden and line.startswith("    * "):  # the clone's Masters/Slaves/Stopped
            continue
        out.append(
            re.sub(
                r"\* \d+ resource instances configured",
                f"* {_count(cluster, state)} resource instances configured",
                line,
            )
        )
    if out and out[-1] == "Full List of Resources:":
        out.append("  * No resources")
    return rename(cluster, state, "\n".join(out) + "\n")


def filter_db2cm_list(cluster: LabCluster, state: ClusterHa, text: str) -> str:
    """Return `db2cm -list` without the resources (and qdevice) that do not exist yet."""
    if not state.fresh:
        return text
    configured = state.configured(cluster)
    blocks = text.split("\n \n")
    kept = []
    for block in blocks:
        match = re.match(r"Resource Name\s+= (\S+)", block)
        if match and match.group(1) not in configured:
            continue
        kept.append(block)
    text = "\n \n".join(kept)
    text = re.sub(r"(Number of resources\s+= )\d+", rf"\g<1>{_count(cluster, state)}", text)
    if state.qdevice is None and "Quorum Information:" in text:
        # approximation: db2cm's wording for a cluster without a quorum device is not in the corpus
        text = text.split("Quorum Information:")[0] + "Quorum Information:\n  Two-node quorum\n"
    return rename(cluster, state, text)


def _db2cm_constraints(cluster: LabCluster, state: ClusterHa) -> list[str]:
    """The constraints db2cm creates with the domain, instances and database (corpus/crm-config): the
    clone follows db2ethmon and db2inst attributes, per-host resources are never probed elsewhere, and
    each resource has a location preference where it may run (both captures have them, whatever their
    symmetric-cluster)."""
    hadr, clone, nic, inst = cluster.hadr_rsc, cluster.clone_rsc, cluster.nic, cluster.instance
    rules: list[str] = []
    prefer: list[str] = []
    if state.database:
        for node in cluster.db_nodes:
            rules.append(
                f"location loc-rule-{hadr}-{nic}-{node} {clone} \\\n        rule -inf: db2ethmon-{nic} eq 0"
            )
        for node in cluster.db_nodes:
            rules.append(
                f"location loc-rule-{hadr}-node-{node} {clone} \\\n"
                f"        rule -inf: db2inst-{node}_{inst}_0 eq 0"
            )
    probes: dict[str, str] = {}
    for node in cluster.db_nodes:
        owned = ([cluster.ethmon_rsc(node)] if state.domain else []) + (
            [cluster.instance_rsc(node)] if node in state.instances else []
        )
        for rsc in owned:
            probes[rsc] = (
                f"location no-probe-{rsc} {rsc} resource-discovery=never -inf: {cluster.other(node)}"
            )
            prefer.append(f"location prefer-{rsc} {rsc} 100: {node}")
    rules += [probes[k] for k in sorted(probes)]
    if state.database:
        prefer += [f"location prefer-{node}-{inst}-{clone} {clone} 100: {node}" for node in cluster.db_nodes]
    return rules + sorted(prefer)


def render_crm_config(cluster: LabCluster, state: ClusterHa) -> str:
    """Return `crm configure show` for what exists (db2cm's objects, then what crm load added)."""
    inst, db, hadr, clone = cluster.instance, cluster.database, cluster.hadr_rsc, cluster.clone_rsc
    reint = f"db2hadr-{inst}_{inst}_{db}_reint=-1"
    lines: list[str] = []
    for node in cluster.db_nodes:
        node_id = cluster.hosts[node].node_id
        lines.append(
            f"node {node_id}: {node}" + (f" \\\n        attributes {reint}" if state.database else "")
        )
    primitives: dict[str, str] = {}
    if state.database:
        primitives[hadr] = (
            f"primitive {hadr} db2hadr \\\n"
            f'        params instance="{inst},{inst}" dbname={db} \\\n'
            "        op demote interval=0s timeout=900s \\\n"
            "        op monitor interval=9s role=Master timeout=60s \\\n"
            "        op monitor interval=10s role=Slave timeout=60s \\\n"
            "        op promote interval=0s timeout=900s \\\n"
            "        op start interval=0s timeout=900s \\\n"
            "        op stop interval=0s timeout=900s \\\n"
            "        meta resource-stickiness=5000 migration-threshold=0"
        )
    if state.oip_name:
        params = " ".join(f"{k}={v}" for k, v in state.oip_params.items())
        primitives[state.oip_name] = (
            f"primitive {state.oip_name} aws-vpc-move-ip \\\n"
            f"        params {params} \\\n"
            "        op start interval=0 timeout=180s \\\n"
            "        op stop interval=0 timeout=180s \\\n"
            "        op monitor interval=30s timeout=60s"
            + (" \\\n        meta is-managed=true" if state.oip_managed else "")
        )
    if state.domain:  # db2cm -create -cluster: one db2ethmon per host (corpus/crm-config)
        for node in cluster.db_nodes:
            primitives[cluster.ethmon_rsc(node)] = (
                f"primitive {cluster.ethmon_rsc(node)} db2ethmon \\\n"
                f"        params interface={cluster.nic} hostname={node} repeat_count=4 repeat_interval=4 \\\n"
                "        op monitor timeout=30s interval=4 \\\n"
                "        op start timeout=60s interval=0s \\\n"
                "        op stop interval=0s timeout=20s \\\n"
                "        meta is-managed=true"
            )
    for node in sorted(state.instances):
        primitives[cluster.instance_rsc(node)] = (
            f"primitive {cluster.instance_rsc(node)} db2inst \\\n"
            f"        params instance={inst} hostname={node} \\\n"
            "        op monitor timeout=120s interval=10s on-fail=restart \\\n"
            "        op start interval=0s timeout=900s \\\n"
            "        op stop interval=0s timeout=900s \\\n"
            "        meta migration-threshold=0 is-managed=true"
        )
    lines += [primitives[k] for k in sorted(primitives)]
    if state.database:
        lines.append(
            f"ms {clone} {hadr} \\\n"
            "        meta resource-stickiness=5000 migration-threshold=0 ordered=true promotable=true is-managed=true"
        )
    lines += _db2cm_constraints(cluster, state)
    order = {"colocation": 0, "location": 1, "order": 2}
    lines += [
        v
        for _, v in sorted(state.constraints.items(), key=lambda kv: (order.get(kv[1].split()[0], 3), kv[0]))
    ]
    rel = cluster.release  # db2cm's properties of this release (lab/release.py), never a mix of two
    lines.append(
        "property cib-bootstrap-options: \\\n"
        "        stonith-enabled=false \\\n"
        f"        no-quorum-policy={rel.no_quorum_policy} \\\n"
        "        stop-all-resources=false \\\n"
        "        cluster-recheck-interval=60 \\\n"
        f"        symmetric-cluster={str(rel.symmetric_cluster).lower()} \\\n"
        "        have-watchdog=false \\\n"
        f"        dc-version={rel.dc_version} \\\n"
        "        cluster-infrastructure=corosync \\\n"
        f"        cluster-name={state.domain}"
    )
    lines.append(f"rsc_defaults rsc-options: \\\n        failure-timeout={rel.failure_timeout}")
    lines.append("rsc_defaults rsc_defaults-options: \\\n        is-managed=false")
    return "\n".join(lines) + "\n"
