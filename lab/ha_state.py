"""Lab-only state behind the HA runbook's host commands: per host (installed rpms, extracted media,
Db2 agents, addresses, root's AWS CLI profile) and per cluster (the db2cm domain, instance and HADR
resources, the qdevice, the aws-vpc-move-ip resource and its constraints as loaded with crm).

Two modes (the choice is documented in docs/ARCHITECTURE.md's lab section and in `start_fresh`):
- seeded (default): the cluster is already built, as every other lab test expects; the HA plan finds
  every step already done.
- fresh (`start_fresh(cluster)` before the first command, `LabRuntime.start(fresh_ha=True)`): Db2 HADR
  runs in PEER but nothing of the runbook exists yet; Pacemaker, corosync and db2cm answer like hosts
  without them until the plan installs and creates them, and the status tools only show what exists.

The state hangs off the LabCluster (like lab/db2admin_state.py), so it lives and dies with one lab.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lab.db2admin_state import add_dir, host_state
from lab.release import RELEASES, Db2Release
from lab.state import LabCluster, LabHost

_ATTR = "_ha_state"
TARBALL_DIR = "Db2_v11.5.5.0_Pacemaker_20201118_RHEL8.1_x86_64"  # the runbook's media
TARBALL = f"/tmp/{TARBALL_DIR}.tar.gz"
IMAGE_PCMK = "/tmp/server_dec/db2/linuxamd64/pcmk"  # the Db2 11.5.6+ image (install_method=media)
OCF_HEARTBEAT = "/usr/lib/ocf/resource.d/heartbeat"
DB2_AGENTS = ("db2ethmon", "db2hadr", "db2inst")
NIC = "eth0"  # the lab hosts' only interface (EC2 Xen naming, as in the runbook)
TARBALL_RELEASE = RELEASES["11.5.5"]  # the tarball holds the 11.5.5 build, whatever Db2 the host runs


def packages(rel: Db2Release) -> dict[str, tuple[str, str]]:
    """Return the db2pcmk rpms of `rel`: name -> (version-release, arch).

    Pacemaker, corosync, qdevice and crmsh follow the release model (lab/release.py), so `rpm -q` agrees
    with crm_mon and db2cm -list; the helper libraries are a plausible listing, not a capture."""
    el, new_stack = rel.el, not rel.pacemaker.startswith("2.0.")
    corosync = f"{rel.corosync}-1.db2pcmk.{el}"
    return {
        "pacemaker": (rel.pacemaker, "x86_64"),
        "pacemaker-cli": (rel.pacemaker, "x86_64"),
        "pacemaker-libs": (rel.pacemaker, "x86_64"),
        "pacemaker-cluster-libs": (rel.pacemaker, "x86_64"),
        "pacemaker-schemas": (rel.pacemaker, "noarch"),
        "corosync": (corosync, "x86_64"),
        "corosynclib": (corosync, "x86_64"),
        "corosync-qdevice": (rel.qdevice, "x86_64"),
        "corosync-qnetd": (rel.qdevice, "x86_64"),
        "libknet1": (f"{'1.25' if new_stack else '1.18'}-1.db2pcmk.{el}", "x86_64"),
        "libqb": (f"{'2.0.6' if new_stack else '1.0.6'}-1.db2pcmk.{el}", "x86_64"),
        "resource-agents": (f"{'4.10.0' if new_stack else '4.6.1'}-1.db2pcmk.{el}", "x86_64"),
        "crmsh": (rel.crmsh, "noarch"),
        "crmsh-scripts": (rel.crmsh, "noarch"),
        "python3-crmsh": (rel.crmsh, "noarch"),
        "python3-parallax": (f"1.0.6-1.db2pcmk.{el}", "noarch"),
    }


# Package names are the same in every build; this is the list the plan and the handlers iterate.
PACKAGES: tuple[str, ...] = tuple(packages(RELEASES["11.5.8"]))
OS_PACKAGES = {"ksh": "20120801-257.el8", "epel-release": "8-19.el8", "chrony": "4.2-1.el8"}
QNETD_PACKAGES = ("corosync-qnetd",)


def rpm_file(name: str, rel: Db2Release) -> str:
    """Return the rpm file name of package `name` in release `rel`'s build."""
    version, arch = packages(rel)[name]
    return f"{name}-{version}.{arch}.rpm"


def nvra(name: str, rel: Db2Release) -> str:
    """Return what `rpm -q NAME` prints for an installed package (db2pcmk rpms from build `rel`)."""
    if name in PACKAGES:
        version, arch = packages(rel)[name]
        return f"{name}-{version}.{arch}"
    version = (
        OS_PACKAGES.get(name, "1.0-1.el8").replace(".el8", f".{rel.el}").replace("8-19", rel.el[2:] + "-19")
    )
    return f"{name}-{version}.{'noarch' if name == 'epel-release' else 'x86_64'}"


def tarball_members() -> list[str]:
    """Return `tar -tzf` of the runbook's tarball (directories end with /): the 11.5.5 build's rpms."""
    top = f"{TARBALL_DIR}/"
    out = [top, f"{top}Db2/", f"{top}Db2/db2cm", f"{top}Db2agents/"]
    out += [f"{top}Db2agents/{agent}" for agent in DB2_AGENTS]
    out += [f"{top}RPMS/", f"{top}RPMS/noarch/", f"{top}RPMS/x86_64/"]
    built = packages(TARBALL_RELEASE)
    out += [f"{top}RPMS/{built[n][1]}/{rpm_file(n, TARBALL_RELEASE)}" for n in sorted(built)]
    return out


def image_rpms(rel: Db2Release) -> list[str]:
    """Return the rpm paths of the Db2 image's pcmk directory (install_method=media): `rel`'s build."""
    built = packages(rel)
    return [f"{IMAGE_PCMK}/Linux/rhel/{built[n][1]}/{rpm_file(n, rel)}" for n in sorted(built)]


@dataclass
class HostHa:
    """One host's HA-related facts."""

    packages: set[str] = field(default_factory=set)
    agents: bool = False  # Db2's resource agents in /usr/lib/ocf/resource.d/heartbeat
    addresses: list[str] = field(default_factory=list)  # CIDRs on eth0 (+ the overlay IP: see commands)
    aws_region: str = "us-east-1"  # root's AWS CLI profile "default"
    root_ssh: bool = True  # password-less root ssh to the other hosts works
    # Whose db2pcmk rpms are installed: the Db2 media's (the cluster's release) or the 11.5.5 tarball's.
    build: Db2Release | None = None

    def pacemaker(self) -> bool:
        return "pacemaker" in self.packages


@dataclass
class ClusterHa:
    """The runbook's cluster-wide objects, as far as they exist."""

    fresh: bool
    hosts: dict[str, HostHa]
    domain: str | None = None
    instances: set[str] = field(default_factory=set)  # hosts with an instance resource
    database: bool = False  # the HADR resource (promotable clone)
    qdevice: str | None = None  # qnetd host name once db2cm -create -qdevice ran
    oip_name: str | None = None
    oip_params: dict[str, str] = field(default_factory=dict)
    oip_managed: bool = False
    constraints: dict[str, str] = field(default_factory=dict)  # id -> `crm configure show` line
    route_table_id: str = ""  # set by lab/aws.py when it seeds moto

    def configured(self, cluster: LabCluster) -> set[str]:
        """Return the Pacemaker resource ids that exist (what crm_mon may show)."""
        out = {cluster.instance_rsc(n) for n in self.instances}
        if self.domain:  # db2cm -create -cluster makes each host's db2ethmon resource with the domain
            out |= {cluster.ethmon_rsc(n) for n in cluster.db_nodes}
        if self.database:
            out.add(cluster.hadr_rsc)
        if self.oip_name:
            out.add(cluster.oip_rsc)  # rendered under self.oip_name
        return out


def oip_placeable(cluster: LabCluster, state: ClusterHa, node: str) -> bool:
    """True when Pacemaker may run the overlay resource on `node`, as the release's db2cm leaves the
    cluster (lab/release.py symmetric_cluster).

    symmetric-cluster=false (11.5.5): an opt-in cluster, the resource runs only on a node a location
    constraint with a positive score names, so without the plan's prefer-node lines it stays Stopped.
    symmetric-cluster=true (11.5.7's capture): it may run on any node no -inf location constraint bans."""
    name = state.oip_name or cluster.oip_rsc
    scores = []
    for line in state.constraints.values():
        words = line.split()
        if words[:1] == ["location"] and len(words) >= 5 and words[2] == name and words[-1] == node:
            scores.append(words[-2].rstrip(":"))
    if any(score.lstrip("-").lower() in ("inf", "infinity") and score.startswith("-") for score in scores):
        return False  # a ban; a finite negative score only makes the node less preferred
    if cluster.release.symmetric_cluster:
        return True
    return any(
        score in ("inf", "INFINITY", "+INFINITY") or (score.isdigit() and int(score) > 0) for score in scores
    )


def start_fresh(cluster: LabCluster) -> ClusterHa:
    """Put `cluster` in the "not yet clustered" mode (before any command ran); return its HA state.

    Chosen over a LabCluster flag so lab/state.py and every renderer stay as they are: the HA handlers
    (lab/commands_ha*.py) answer for Pacemaker, corosync and db2cm, and show only what the plan created.
    """
    if _ATTR in cluster.__dict__:
        raise ValueError(f"lab cluster {cluster.name}: start_fresh must come before the first command")
    state = cluster.__dict__[_ATTR] = _new_state(cluster, fresh=True)
    return state


def cluster_ha(cluster: LabCluster) -> ClusterHa:
    """Return (creating on first use, seeded = already built) the HA state of `cluster`."""
    state = cluster.__dict__.get(_ATTR)
    if state is None:
        state = cluster.__dict__[_ATTR] = _new_state(cluster, fresh=False)
    return state


def host_ha(cluster: LabCluster, host: LabHost) -> HostHa:
    """Return the HA state of one host."""
    return cluster_ha(cluster).hosts[host.name]


def _new_state(cluster: LabCluster, *, fresh: bool) -> ClusterHa:
    hosts: dict[str, HostHa] = {}
    for host in cluster.hosts.values():
        ha = HostHa(addresses=[f"{host.address}/28"], build=cluster.release)
        _seed_files(cluster, host)
        if not fresh:
            ha.packages = {"ksh", "chrony"}
            if host.role == "db":
                ha.packages |= set(PACKAGES) - set(QNETD_PACKAGES)
                ha.agents = True
                install_db2cm(cluster, host)
            else:
                ha.packages |= {"corosync-qnetd", "libqb", "corosynclib"}
        else:
            ha.packages = {"chrony"}
        hosts[host.name] = ha
    state = ClusterHa(fresh=fresh, hosts=hosts)
    if not fresh:
        state.domain = cluster.name
        state.instances = set(cluster.db_nodes)
        state.database = True
        state.qdevice = cluster.qdevice_name
        state.oip_name = cluster.oip_rsc
        state.oip_params = {
            "ip": cluster.overlay_ip,
            "routing_table": "",
            "interface": NIC,
            "profile": "default",
        }
        state.oip_managed = True
        hadr, oip, clone = cluster.hadr_rsc, cluster.oip_rsc, cluster.clone_rsc
        a, b = cluster.db_nodes
        state.constraints = {  # what the HA plan's overlayip.txt loads (services/ha_setup/oip_steps.py)
            f"{hadr}_AWS_primary-colocation": f"colocation {hadr}_AWS_primary-colocation inf: {oip}:Started {clone}:Master",
            f"order-rule-{hadr}-then-primary-oip": f"order order-rule-{hadr}-then-primary-oip Mandatory: {clone} {oip}",
            f"prefer-node1_{oip}": f"location prefer-node1_{oip} {oip} 100: {a}",
            f"prefer-node2_{oip}": f"location prefer-node2_{oip} {oip} 100: {b}",
        }
    return state


def _seed_files(cluster: LabCluster, host: LabHost) -> None:
    st = host_state(cluster, host)
    for path in ("/root", "/root/.ssh", "/tmp/server_dec", "/usr/lib/ocf/resource.d"):
        add_dir(st, path)
    host.files.setdefault(TARBALL, "(the runbook's Pacemaker tarball; listed by `tar -tzf`)\n")
    if cluster.release.via_tarball:  # the Db2 11.5.5 image has no db2/<platform>/pcmk directory
        return
    add_dir(st, IMAGE_PCMK)
    for rpm in image_rpms(cluster.release):
        host.files.setdefault(rpm, "(rpm)\n")
    host.files.setdefault(f"{IMAGE_PCMK}/db2installPCMK", "#!/bin/sh\n# lab stand-in\n")


def install_db2cm(cluster: LabCluster, host: LabHost) -> None:
    """Put db2cm (mode 755) in the instance's sqllib/adm."""
    path = f"/home/{cluster.instance}/sqllib/adm/db2cm"
    add_dir(host_state(cluster, host), f"/home/{cluster.instance}/sqllib/adm")
    host.files.setdefault(path, "#!/bin/ksh\n# db2cm (lab stand-in)\n")
    host_state(cluster, host).modes[path] = "755"


def extract_tarball(cluster: LabCluster, host: LabHost, directory: str) -> None:
    """`tar -zxf TARBALL -C directory`: every member becomes a file / directory of the host."""
    st = host_state(cluster, host)
    for member in tarball_members():
        path = f"{directory.rstrip('/')}/{member}"
        if member.endswith("/"):
            add_dir(st, path)
        else:
            host.files[path] = "#!/bin/ksh\n# lab stand-in\n" if "/Db2" in member else "(rpm)\n"
            st.modes[path] = "755" if "/Db2" in member else "644"


def note_route_table(cluster: LabCluster, route_table_id: str) -> None:
    """Record the route table lab/aws.py made (the seeded aws-vpc-move-ip resource names it)."""
    state = cluster_ha(cluster)
    state.route_table_id = route_table_id
    if not state.fresh and state.oip_name:
        state.oip_params["routing_table"] = route_table_id
