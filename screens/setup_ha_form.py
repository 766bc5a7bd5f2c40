"""The HA wizard's parameter form: which HaParams field is edited on which page, the text each field
shows, turning what the DBA typed back into validated HaParams, and the page previews (what the plan
will run, built from the plan's own steps and the runbook's file).

Pure (no widgets), so the rules are tested without a screen.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from screens.wizard_form import FieldSpec, WizardForm, convert_text, field_types
from services.ha_setup.oip_steps import render_crm_file
from services.ha_setup.params import INSTALL_METHODS, HaParamError, HaParams, policy_document
from services.inventory.model import Cluster

PAGES: tuple[tuple[str, str], ...] = (
    ("prereq", "1 Prerequisites"),
    ("install", "2 Pacemaker install"),
    ("cluster", "3 db2cm cluster"),
    ("qdevice", "4 Quorum device"),
    ("overlay", "5 Overlay IP"),
    ("iam", "6 IAM policy"),
    ("plan", "Plan: check · apply"),
)

PAGE_INTRO: dict[str, str] = {
    "prereq": "Runbook prerequisites, checked on every host before anything changes: supported OS, every "
    "host name in /etc/hosts, clocks in sync, the instance owner and group, Db2 level, HADR in PEER, the "
    "Pacemaker media, password-less root ssh, root's AWS CLI profile; ksh is installed (yum install ksh -y). "
    "A failed check says what to fix on which host.",
    "install": "Runbook installation steps, as root on both Db2 hosts: unpack the IBM Db2 Pacemaker tarball, "
    "install EPEL and every rpm of RPMS/*/, copy db2cm into sqllib/adm, copy the Db2 resource agents "
    "(db2cm -copy_resources). install_method auto follows the Db2 level: 11.5.6+ installs from the Db2 media "
    "(db2installPCMK -i, db2cppcmk -i), 11.5.5 from the tarball; the media must match the Db2 level and OS.",
    "cluster": 'Runbook "Configuring Pacemaker", from the HADR primary as root: db2cm -create -cluster, an '
    "instance resource per host, the HADR database resource; then crm status on both hosts.",
    "qdevice": "Runbook quorum device: only corosync-qnetd on the third host, then db2cm -create -qdevice "
    "from a Db2 host. The Db2 hosts must reach it on TCP 5403 (security group, firewalld).",
    "overlay": "Runbook overlay IP: source/destination check off on both instances, a /32 route to the HADR "
    "primary's instance in the route table(s), the IP on the primary, and the aws-vpc-move-ip resource "
    "(overlayip.txt, crm configure load update, crm resource manage) that moves both on failover.",
    "iam": "Runbook IAM policy for the aws-vpc-move-ip agent: ec2:ReplaceRoute on the route table(s) and "
    "ec2:DescribeRouteTables, attached to the Db2 instances' role (found from their instance profile "
    "unless you name it).",
    "plan": "Check reads every host and AWS (no change). The dry run lists every command with its host and "
    "every AWS call with its parameters. Apply asks first, then applies and verifies step by step and "
    "stops at the first failure; run it again to resume: steps already done are skipped. The last step "
    "reads the cluster status and wants no verdict.",
}

PAGE_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "prereq": (
        FieldSpec("instance_group", "Instance group", "the instance owner's group (runbook: db2iadm1)"),
        FieldSpec("min_db2_level", "Minimum Db2 level", "Db2 Pacemaker needs 11.5.5 or later"),
        FieldSpec("max_clock_offset_s", "Max clock offset (s)", "chronyc tracking: System time"),
        FieldSpec(
            "allow_unsupported_os", "Allow other OS", "RHEL 8.1+ / SLES 15 are supported", ("true", "false")
        ),
        FieldSpec("use_sudo", "Use sudo -n", "true: root commands run with sudo -n", ("true", "false")),
    ),
    "install": (
        FieldSpec(
            "install_method",
            "Install method",
            "auto: by Db2 level; tarball: 11.5.5; media: 11.5.6+",
            INSTALL_METHODS,
        ),
        FieldSpec("media_dir", "Media directory", "where the tarball was copied on every host"),
        FieldSpec("pcmk_tarball", "Pacemaker tarball", "from the IBM download site"),
        FieldSpec("epel_rpm", "EPEL release rpm", "empty: skip (the hosts already have EPEL)"),
        FieldSpec("db2_image_dir", "Db2 image (media)", "the unpacked Db2 install image"),
        FieldSpec("db2_platform", "Platform (media)", "db2/<platform>/pcmk"),
    ),
    "cluster": (
        FieldSpec("domain", "Domain name", "db2cm -domain (the corosync cluster name)"),
        FieldSpec("nic", "Public ethernet", "-publicEthernet on both hosts and the overlay IP's interface"),
    ),
    "qdevice": (FieldSpec("qdevice_host", "QDevice host", "a host with role qdevice in the inventory"),),
    "overlay": (
        FieldSpec("overlay_ip", "Overlay IP", "RFC 1918, outside the VPC's range (runbook: 192.168.1.81)"),
        FieldSpec("route_table_ids", "Route table(s)", "comma-separated; the clients' subnets use them"),
        FieldSpec("agent_profile", "AWS CLI profile", "root's profile aws-vpc-move-ip uses on the hosts"),
        FieldSpec("oip_resource", "Resource name", "runbook: <HADR resource>_AWS_primary-OIP"),
        FieldSpec("crm_file", "crm file", "the runbook's overlayip.txt, written with tee"),
    ),
    "iam": (
        FieldSpec("iam_role", "Instance role", "empty: the role of the Db2 instances' instance profile"),
        FieldSpec("iam_policy_name", "Policy name", "created once, attached to the role"),
    ),
}

_TYPES = field_types(HaParams)
_SPECS = {spec.name: spec for specs in PAGE_FIELDS.values() for spec in specs}


def convert(name: str, text: str) -> Any:
    """Return `text` as the value HaParams wants for `name` ("" -> None for optional fields;
    route_table_ids: a comma-separated list).

    Raises HaParamError naming the field when the text is not of its type or not one of its choices.
    """
    if name == "route_table_ids":
        return tuple(p.strip() for p in text.strip().split(",") if p.strip()) or None
    return convert_text(name, text, _TYPES[name], _SPECS.get(name), HaParamError)


class HaForm(WizardForm[HaParams]):
    """What the DBA typed, per field, over the runbook's HA defaults for `cluster`."""

    params_type = HaParams
    error_type = HaParamError

    def convert(self, name: str, text: str) -> Any:
        """Return `text` as the value of field `name` (see convert); raise HaParamError."""
        return convert(name, text)


# ------------------------------------------------------------------ previews (plain text)


def _sudo(p: HaParams, *argv: str) -> str:
    return shlex.join(("sudo", "-n", *argv) if p.use_sudo else argv)


PRIMARY_NOTE = "primary$ = on the HADR primary, which db2pd names when the plan runs"


def preview(page: str, cluster: Cluster, p: HaParams) -> str:
    """Return what the plan runs for the values of `page`, one `host$ command` a line."""
    db = [h.name for h in cluster.db_hosts]
    db2cm = f"/home/{cluster.instance}/sqllib/adm/db2cm"
    if page == "prereq":
        lines = [f"{h}$ cat /etc/os-release; hostname -s; cat /etc/hosts; chronyc tracking" for h in db]
        lines.append(f"{p.qdevice_host}$ cat /etc/os-release; hostname -s; cat /etc/hosts; chronyc tracking")
        lines += [
            f"{h}$ id {cluster.instance}; db2ls; db2pd -hadr -db {cluster.database}; "
            f"{_sudo(p, 'ssh', '-o', 'BatchMode=yes', '<other host>', '-l', 'root', 'ls')}"
            for h in db
        ]
        lines += [
            f"{h}$ {_sudo(p, 'yum', 'install', 'ksh', '-y')}   # only when rpm -q ksh fails" for h in db
        ]
        return "\n".join(lines)
    if page == "install":
        media = [
            line
            for h in db
            for line in (
                f"{h}$ {_sudo(p, f'{p.pcmk_media_dir}/db2installPCMK', '-i')}",
                f"{h}$ {_sudo(p, '<Db2 install path, from db2ls>/install/pcmk/db2cppcmk', '-i')}",
            )
        ]
        tarball = []
        for h in db:
            tarball.append(f"{h}$ {_sudo(p, 'tar', '-zxf', p.tarball_path, '-C', p.media_dir)}")
            if p.epel_rpm:
                tarball.append(f"{h}$ {_sudo(p, 'dnf', 'install', '-y', p.epel_rpm)}")
            tarball += [
                f"{h}$ {_sudo(p, 'dnf', 'install', '-y')} {p.extract_dir}/RPMS/*/*.rpm   # each file, as tar -tzf lists",
                f"{h}$ {_sudo(p, 'cp', f'{p.extract_dir}/Db2/db2cm', db2cm)}",
                f"{h}$ {_sudo(p, 'chmod', '755', db2cm)}",
                f"{h}$ {_sudo(p, db2cm, '-copy_resources', f'{p.extract_dir}/Db2agents', '-host', h)}",
            ]
        if p.install_method == "media":
            return "\n".join(media)
        if p.install_method == "tarball":
            return "\n".join(tarball)
        return "\n".join(
            ["# Db2 11.5.6+ (db2ls shows the level): Pacemaker from the Db2 install media", *media]
            + ["# Db2 11.5.5: IBM's separate Pacemaker tarball", *tarball]
        )
    if page == "cluster":
        create = ["-create", "-cluster", "-domain", p.domain or "", "-publicEthernet", p.nic, "-host", db[0]]
        lines = [
            PRIMARY_NOTE,
            f"primary$ {_sudo(p, db2cm, *create, '-publicEthernet', p.nic, '-host', db[1])}",
        ]
        lines += [
            f"primary$ {_sudo(p, db2cm, '-create', '-instance', cluster.instance, '-host', h)}" for h in db
        ]
        lines.append(
            f"primary$ {_sudo(p, db2cm, '-create', '-db', cluster.database, '-instance', cluster.instance)}"
        )
        return "\n".join(lines)
    if page == "qdevice":
        return "\n".join(
            [
                PRIMARY_NOTE,
                f"{p.qdevice_host}$ {_sudo(p, 'dnf', 'install', '-y')} <the corosync-qnetd rpm of the media>",
                f"primary$ {_sudo(p, db2cm, '-create', '-qdevice', p.qdevice_host or '')}",
                *(f"{h}$ {_sudo(p, 'corosync-qdevice-tool', '-s')}   # verify: State Connected" for h in db),
                f"{p.qdevice_host}$ {_sudo(p, 'corosync-qnetd-tool', '-l')}   # verify: both nodes",
            ]
        )
    if page == "overlay":
        lines = [PRIMARY_NOTE]
        lines += [
            f"aws ec2 ModifyInstanceAttribute InstanceId={h.instance_id} SourceDestCheck=false"
            for h in cluster.db_hosts
        ]
        lines += [
            f"aws ec2 CreateRoute RouteTableId={rtb} DestinationCidrBlock={p.overlay_cidr} InstanceId=<primary's>"
            for rtb in p.route_table_ids or ()
        ]
        lines += [
            f"primary$ {_sudo(p, 'ip', 'address', 'add', p.overlay_cidr, 'dev', p.nic)}",
            f"primary$ {_sudo(p, 'tee', p.crm_file)}   # stdin:",
            *("| " + line for line in render_crm_file(cluster, p, db[0], db[1]).splitlines()),
            f"primary$ {_sudo(p, 'crm', 'configure', 'load', 'update', p.crm_file)}",
            f"primary$ {_sudo(p, 'crm', 'resource', 'manage', p.oip_resource or '')}",
        ]
        return "\n".join(lines)
    if page == "iam":
        document = policy_document("aws", cluster.aws.region, "<account>", p.route_table_ids or ())
        role = p.iam_role or "<the role of the Db2 instances' instance profile>"
        return "\n".join(
            [
                f"aws iam CreatePolicy PolicyName={p.iam_policy_name} PolicyDocument=",
                *("| " + line for line in json.dumps(document, indent=2).splitlines()),
                f"aws iam AttachRolePolicy RoleName={role}",
            ]
        )
    return ""
