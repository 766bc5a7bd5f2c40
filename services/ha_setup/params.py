"""HaParams: the HA runbook's values (Db2 Pacemaker + qdevice + AWS overlay IP) as editable defaults,
validated before any step runs.

Every value ends up in an argv item, in the crm file loaded with `crm configure load update` (crmsh
parses it: a space or a quote there would add directives) or in an AWS parameter, so each one is held
to a strict character set here and a hostile value is refused with a message instead of reaching a host.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from services.inventory.model import Cluster

# The runbook's values (Field Notes: Set Up a Highly Available Database on AWS with IBM Db2 Pacemaker).
RUNBOOK_TARBALL = "Db2_v11.5.5.0_Pacemaker_20201118_RHEL8.1_x86_64.tar.gz"
RUNBOOK_EPEL_RPM = "https://dl.fedoraproject.org/pub/epel/epel-release-latest-8.noarch.rpm"
RUNBOOK_OVERLAY_IP = "192.168.1.81"
# auto: by the Db2 level db2ls shows (services/ha_setup/pcmk_source.py) | tarball: runbook (Db2 11.5.5) |
# media: Db2 11.5.6+ install media
INSTALL_METHODS = ("auto", "tarball", "media")
SUPPORTED_OS = ("rhel", "sles", "sles_sap")  # runbook: RHEL 8.1 and SLES 15
QNETD_PORT = 5403
OCF_HEARTBEAT = "/usr/lib/ocf/resource.d/heartbeat"
DB2_AGENTS = ("db2hadr", "db2inst", "db2ethmon")  # what `db2cm -copy_resources` / `db2cppcmk -i` install
CLUSTER_PACKAGES = ("pacemaker", "corosync", "crmsh", "corosync-qdevice")

# Segments that end in "/" then an optional last one: the same paths as (?:[...]+/?)*, without its
# exponential backtracking on a near miss (a 40-character value with "=" took seconds).
_PATH = re.compile(r"^/(?:[A-Za-z0-9._+-]+/)*[A-Za-z0-9._+-]*$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$")
_DOMAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")  # corosync cluster_name, a crm property value
_NIC = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")  # Linux IFNAMSIZ: 15 characters
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_RTB = re.compile(r"^rtb-[0-9a-f]{8,17}$")
_PROFILE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_IAM_ROLE = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
_IAM_POLICY = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,128}$")
_RESOURCE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # a Pacemaker resource id
_LEVEL = re.compile(r"^\d+(?:\.\d+){1,3}$")
_URL = re.compile(r"^https://[A-Za-z0-9.-]+(?::\d+)?/[A-Za-z0-9._~/+-]*\.rpm$")


class HaParamError(ValueError):
    """An HA parameter is unusable; the message names it, shows the value and says what is allowed."""


@dataclass(frozen=True)
class HaParams:
    """Defaults from the runbook. None means "derive from the cluster" (see `resolve`)."""

    domain: str | None = None  # db2cm -domain; default: the cluster's name when it is a valid one
    nic: str = "eth0"  # -publicEthernet on both hosts, and the overlay IP's interface
    install_method: str = "auto"  # "auto" (by Db2 level), "tarball" (runbook, 11.5.5) or "media" (11.5.6+)
    media_dir: str = "/tmp"  # where the Pacemaker tarball was copied on every host
    pcmk_tarball: str = RUNBOOK_TARBALL
    epel_rpm: str = RUNBOOK_EPEL_RPM  # "" skips the EPEL repository install
    db2_image_dir: str = "/tmp/server_dec"  # media method: the unpacked Db2 install image
    db2_platform: str = "linuxamd64"  # media method: db2/<platform>/pcmk
    db2_install_path: str | None = None  # media method: db2cppcmk's install; default from db2ls
    min_db2_level: str = "11.5.5.0"
    instance_group: str = "db2iadm1"
    qdevice_host: str | None = None  # default: the inventory's qdevice host
    overlay_ip: str | None = None  # default: cluster.aws.overlay_ip, else the runbook's 192.168.1.81
    route_table_ids: tuple[str, ...] | None = None  # default: (cluster.aws.route_table_id,)
    agent_profile: str = "default"  # the AWS CLI profile aws-vpc-move-ip uses on the hosts (root's)
    iam_role: str | None = None  # default: the role of the db instances' instance profile
    iam_policy_name: str | None = None  # default: db2-<cluster>-overlay-ip
    oip_resource: str | None = None  # default: db2_<inst>_<inst>_<DB>_AWS_primary-OIP (runbook)
    crm_file: str = "/root/overlayip.txt"  # the runbook's overlayip.txt, loaded with crm configure load
    use_sudo: bool = True  # root commands run with `sudo -n` (resolve: not when every ssh user is root)
    allow_unsupported_os: bool = False
    max_clock_offset_s: float = 1.0

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> HaParams:
        """Return params with `values` over the defaults; raise HaParamError for an unknown key."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise HaParamError(
                f"unknown HA parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        values = dict(values)
        rtb = values.get("route_table_ids")
        if isinstance(rtb, str):  # "rtb-1,rtb-2" from --set or the wizard
            values["route_table_ids"] = tuple(p.strip() for p in rtb.split(",") if p.strip()) or None
        elif isinstance(rtb, list):
            values["route_table_ids"] = tuple(rtb)
        return cls(**values)

    def resolve(self, cluster: Cluster) -> HaParams:
        """Return a copy with every None filled from `cluster`, validated. Raises HaParamError."""
        qdev = cluster.qdevice_host
        rtb = self.route_table_ids
        if rtb is None and cluster.aws.route_table_id:
            rtb = (cluster.aws.route_table_id,)
        filled = replace(
            self,
            domain=self.domain or default_domain(cluster.name),
            qdevice_host=self.qdevice_host or (qdev.name if qdev else None),
            overlay_ip=self.overlay_ip or cluster.aws.overlay_ip or RUNBOOK_OVERLAY_IP,
            route_table_ids=rtb or (),
            iam_policy_name=self.iam_policy_name or default_policy_name(cluster.name),
            oip_resource=self.oip_resource or f"{hadr_resource(cluster)}_AWS_primary-OIP",
            # root's commands need no `sudo -n` when every host is reached as root (sudo may not exist)
            use_sudo=self.use_sudo and not (cluster.hosts and all(h.user == "root" for h in cluster.hosts)),
        )
        filled.validate(cluster)
        return filled

    # --- derived values ----------------------------------------------------------------------------
    @property
    def extract_dir(self) -> str:
        """The directory `tar -zxf` makes in media_dir (the tarball's name without .tar.gz)."""
        return f"{self.media_dir.rstrip('/')}/{self.pcmk_tarball.removesuffix('.tar.gz')}"

    @property
    def tarball_path(self) -> str:
        return f"{self.media_dir.rstrip('/')}/{self.pcmk_tarball}"

    @property
    def pcmk_media_dir(self) -> str:
        """media method: <image>/db2/<platform>/pcmk, where db2installPCMK is."""
        return f"{self.db2_image_dir.rstrip('/')}/db2/{self.db2_platform}/pcmk"

    @property
    def overlay_cidr(self) -> str:
        return f"{self.overlay_ip}/32"

    def validate(self, cluster: Cluster) -> None:
        """Return None when every value is usable; raise HaParamError naming the first bad one."""
        _check("domain", self.domain, _DOMAIN, "a letter, then up to 31 letters, digits, _ or -")
        _check("nic", self.nic, _NIC, "a network interface name like eth0 or ens5 (up to 15 characters)")
        if self.install_method not in INSTALL_METHODS:
            raise HaParamError(
                f"install_method {self.install_method!r} must be auto (by the Db2 level), tarball (the "
                "runbook's Pacemaker tarball, Db2 11.5.5) or media (db2installPCMK from the Db2 11.5.6+ "
                "install image)"
            )
        for name in ("media_dir", "db2_image_dir", "crm_file"):
            _path(name, getattr(self, name))
        if self.db2_install_path is not None:
            _path("db2_install_path", self.db2_install_path)
        _check("pcmk_tarball", self.pcmk_tarball, _FILE, "a file name of letters, digits and . _ + -")
        if not self.pcmk_tarball.endswith(".tar.gz"):
            raise HaParamError(f"pcmk_tarball {self.pcmk_tarball!r} must be the .tar.gz IBM ships")
        _check("db2_platform", self.db2_platform, _NIC, "a platform directory name like linuxamd64")
        if self.epel_rpm and not _URL.match(self.epel_rpm):
            raise HaParamError(
                f"epel_rpm {self.epel_rpm!r} must be an https:// URL of an .rpm (or empty to skip it)"
            )
        _check("min_db2_level", self.min_db2_level, _LEVEL, "a Db2 level like 11.5.5.0")
        _check("instance_group", self.instance_group, _USER, "a Linux group name like db2iadm1")
        names = {h.name for h in cluster.hosts}
        if not self.qdevice_host:
            raise HaParamError(
                f"cluster {cluster.name} has no qdevice host: add a host with role: qdevice to the "
                "inventory, or set qdevice_host"
            )
        if self.qdevice_host not in names or self.qdevice_host in {h.name for h in cluster.db_hosts}:
            raise HaParamError(
                f"qdevice_host {self.qdevice_host!r} must be a non-db host of cluster {cluster.name} "
                f"(inventory hosts: {', '.join(sorted(names))})"
            )
        try:
            ip = ipaddress.IPv4Address(self.overlay_ip or "")
        except ValueError:
            raise HaParamError(f"overlay_ip {self.overlay_ip!r} is not an IPv4 address") from None
        if not ip.is_private:
            raise HaParamError(
                f"overlay_ip {ip} must be a private (RFC 1918) address outside the VPC's range, "
                "e.g. 192.168.1.81 when the VPC uses 10.0.0.0/8 or 172.16.0.0/12"
            )
        if not self.route_table_ids:
            raise HaParamError(
                "route_table_ids is empty: set route_table_id under aws: in the inventory or "
                "--set route_table_ids=rtb-0123abcd (comma-separated for several)"
            )
        for rtb in self.route_table_ids:
            _check("route_table_ids", rtb, _RTB, "route table ids like rtb-0123abcd, comma-separated")
        _check("agent_profile", self.agent_profile, _PROFILE, "an AWS CLI profile name")
        if self.iam_role is not None:
            _check("iam_role", self.iam_role, _IAM_ROLE, "an IAM role name (letters, digits, +=,.@_-)")
        _check("iam_policy_name", self.iam_policy_name, _IAM_POLICY, "an IAM policy name")
        _check("oip_resource", self.oip_resource, _RESOURCE, "a Pacemaker resource id (letters, . _ -)")
        if not 0 < self.max_clock_offset_s <= 60:
            raise HaParamError("max_clock_offset_s must be between 0 and 60 seconds")
        if len(cluster.db_hosts) != 2:
            raise HaParamError(
                f"cluster {cluster.name} has {len(cluster.db_hosts)} db hosts; Db2 HADR with Pacemaker "
                "needs exactly two (role: db) in the inventory"
            )


def _check(name: str, value: object, pattern: re.Pattern[str], allowed: str) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        raise HaParamError(f"{name} {value!r} is not allowed: use {allowed}")


def _path(name: str, value: str) -> None:
    _check(name, value, _PATH, "an absolute path of letters, digits and . _ + - /")
    if "/../" in f"{value}/" or "/./" in f"{value}/":
        raise HaParamError(f"{name} {value!r} must not contain . or .. parts")


def default_domain(cluster_name: str) -> str:
    """Return the cluster's name when it is a valid db2cm domain name, else the corpus's db2domain."""
    return cluster_name if _DOMAIN.match(cluster_name) else "db2domain"


def default_policy_name(cluster_name: str) -> str:
    """Return the default IAM policy name for `cluster_name` (db2-<cluster>-overlay-ip)."""
    safe = re.sub(r"[^A-Za-z0-9+=,.@_-]", "-", cluster_name)[:100]
    return f"db2-{safe}-overlay-ip"


def hadr_resource(cluster: Cluster) -> str:
    """Return the name db2cm gives the HADR database resource: db2_<inst>_<inst>_<DB>."""
    return f"db2_{cluster.instance}_{cluster.instance}_{cluster.database.upper()}"


def route_table_arn(partition: str, region: str, account: str, route_table_id: str) -> str:
    return f"arn:{partition}:ec2:{region}:{account}:route-table/{route_table_id}"


def policy_document(
    partition: str, region: str, account: str, route_table_ids: tuple[str, ...]
) -> dict[str, object]:
    """Return the runbook's IAM policy: ec2:ReplaceRoute on the route table(s), DescribeRouteTables on *."""
    arns = [route_table_arn(partition, region, account, rtb) for rtb in route_table_ids]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Stmt0",
                "Effect": "Allow",
                "Action": "ec2:ReplaceRoute",
                "Resource": arns[0] if len(arns) == 1 else arns,
            },
            {"Sid": "Stmt1", "Effect": "Allow", "Action": "ec2:DescribeRouteTables", "Resource": "*"},
        ],
    }


def policy_json(document: Mapping[str, object]) -> str:
    """Return the policy as the JSON text sent to CreatePolicy (stable key order, 2-space indent)."""
    return json.dumps(document, indent=2)


def level_tuple(level: str) -> tuple[int, ...]:
    """Return "11.5.8.0" as (11, 5, 8, 0); raise ValueError for anything else."""
    parts = tuple(int(p) for p in level.split("."))
    return parts + (0,) * (4 - len(parts))
