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
from lab.state import LabCluster, LabHost

_ATTR = "_ha_state"
TARBALL_DIR = "Db2_v11.5.5.0_Pacemaker_20201118_RHEL8.1_x86_64"  # the runbook's media
TARBALL = f"/tmp/{TARBALL_DIR}.tar.gz"
IMAGE_PCMK = "/tmp/server_dec/db2/linuxamd64/pcmk"  # the Db2 11.5.6+ image (install_method=media)
OCF_HEARTBEAT = "/usr/lib/ocf/resource.d/heartbeat"
DB2_AGENTS = ("db2ethmon", "db2hadr", "db2inst")
NIC = "eth0"  # the lab hosts' only interface (EC2 Xen naming, as in the runbook)
DB2_INSTALL = "/opt/ibm/db2/V11.5"
DB2_LEVEL = "11.5.8.0"

# The rpms of the tarball: a plausible listing (IBM's db2pcmk builds), not a capture. Versions follow
# what the lab's crm_mon prints (Pacemaker 2.1.5) and corosync 3.1.7 / qdevice 3.0.3.
PACKAGES: dict[str, tuple[str, str]] = {  # name -> (version-release, arch)
    "pacemaker": ("2.1.5-1.db2pcmk.el8", "x86_64"),
    "pacemaker-cli": ("2.1.5-1.db2pcmk.el8", "x86_64"),
    "pacemaker-libs": ("2.1.5-1.db2pcmk.el8", "x86_64"),
    "pacemaker-cluster-libs": ("2.1.5-1.db2pcmk.el8", "x86_64"),
    "pacemaker-schemas": ("2.1.5-1.db2pcmk.el8", "noarch"),
    "corosync": ("3.1.7-1.db2pcmk.el8", "x86_64"),
    "corosynclib": ("3.1.7-1.db2pcmk.el8", "x86_64"),
    "corosync-qdevice": ("3.0.3-1.db2pcmk.el8", "x86_64"),
    "corosync-qnetd": ("3.0.3-1.db2pcmk.el8", "x86_64"),
    "libknet1": ("1.25-1.db2pcmk.el8", "x86_64"),
    "libqb": ("2.0.6-1.db2pcmk.el8", "x86_64"),
    "resource-agents": ("4.12.0-1.db2pcmk.el8", "x86_64"),
    "crmsh": ("4.4.1-1.db2pcmk.el8", "noarch"),
    "crmsh-scripts": ("4.4.1-1.db2pcmk.el8", "noarch"),
    "python3-crmsh": ("4.4.1-1.db2pcmk.el8", "noarch"),
    "python3-parallax": ("1.0.6-1.db2pcmk.el8", "noarch"),
}
OS_PACKAGES = {"ksh": "20120801-257.el8", "epel-release": "8-19.el8", "chrony": "4.2-1.el8"}
QNETD_PACKAGES = ("corosync-qnetd",)


def rpm_file(name: str) -> str:
    """Return the rpm file name of package `name` (from PACKAGES)."""
    version, arch = PACKAGES[name]
    return f"{name}-{version}.{arch}.rpm"


def nvra(name: str) -> str:
    """Return what `rpm -q NAME` prints for an installed package."""
    if name in PACKAGES:
        version, arch = PACKAGES[name]
        return f"{name}-{version}.{arch}"
    return f"{name}-{OS_PACKAGES.get(name, '1.0-1.el8')}.{'noarch' if name == 'epel-release' else 'x86_64'}"


def tarball_members() -> list[str]:
    """Return `tar -tzf` of the runbook's tarball (directories end with /)."""
    top = f"{TARBALL_DIR}/"
    out = [top, f"{top}Db2/", f"{top}Db2/db2cm", f"{top}Db2agents/"]
    out += [f"{top}Db2agents/{agent}" for agent in DB2_AGENTS]
    out += [f"{top}RPMS/", f"{top}RPMS/noarch/", f"{top}RPMS/x86_64/"]
    out += [f"{top}RPMS/{arch}/{rpm_file(n)}" for n, (_, arch) in sorted(PACKAGES.items())]
    return out


def image_rpms() -> list[str]:
    """Return the rpm paths of the Db2 image's pcmk directory (install_method=media)."""
    return [f"{IMAGE_PCMK}/Linux/rhel/{arch}/{rpm_file(n)}" for n, (_, arch) in sorted(PACKAGES.items())]


@dataclass
class HostHa:
    """One host's HA-related facts."""

    packages: set[str] = field(default_factory=set)
    agents: bool = False  # Db2's resource agents in /usr/lib/ocf/resource.d/heartbeat
    addresses: list[str] = field(default_factory=list)  # CIDRs on eth0 (+ the overlay IP: see commands)
    aws_region: str = "us-east-1"  # root's AWS CLI profile "default"
    root_ssh: bool = True  # password-less root ssh to the other hosts works

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
        if self.database:
            out.add(cluster.hadr_rsc)
        if self.oip_name:
            out.add(cluster.oip_rsc)  # rendered under self.oip_name
        return out


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
        ha = HostHa(addresses=[f"{host.address}/28"])
        _seed_files(cluster, host)
        if not fresh:
            ha.packages = {"ksh", "chrony"}
            if host.role == "db":
                ha.packages |= set(PACKAGES) - {"corosync-qnetd"}
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
        state.constraints = {
            f"{hadr}_AWS_primary-colocation": f"colocation {hadr}_AWS_primary-colocation inf: {oip}:Started {clone}:Master",
            f"order-rule-{hadr}-then-primary-oip": f"order order-rule-{hadr}-then-primary-oip Mandatory: {clone} {oip}",
        }
    return state


def _seed_files(cluster: LabCluster, host: LabHost) -> None:
    st = host_state(cluster, host)
    for path in ("/root", "/root/.ssh", "/tmp/server_dec", IMAGE_PCMK, "/usr/lib/ocf/resource.d"):
        add_dir(st, path)
    host.files.setdefault(TARBALL, "(the runbook's Pacemaker tarball; listed by `tar -tzf`)\n")
    for rpm in image_rpms():
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
