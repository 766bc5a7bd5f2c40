"""Glue for the REAL Pacemaker lab (`db2ops lab --pacemaker`, tests/pacemaker/): lab/data/pcmk-lab.sh.

The script builds, as root, a two-node Pacemaker/corosync cluster (db2a, db2b) and a corosync-qnetd host
(qnetd) in network namespaces on a private bridge, with an sshd per host. This module checks the machine can
run it, runs `up`/`down`, and writes the inventory db2ops uses to reach the real hosts over real SSH (the
lab's key and known_hosts; host keys are verified like anywhere else). No Textual here.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.inventory.loader import dump_inventory
from services.inventory.model import AwsSettings, Cluster, Host, HostRole, Inventory

SCRIPT = Path(__file__).resolve().parent / "data" / "pcmk-lab.sh"
DEFAULT_ROOT = Path("/run/db2ops-pcmk")
ROOT_ENV = "DB2OPS_PCMK_ROOT"
CLUSTER_NAME = "pcmk"  # the inventory name; the lab's corosync cluster_name is the same
INSTANCE = "db2inst1"
DATABASE = "HADRDB"
CLONE = f"db2_{INSTANCE}_{INSTANCE}_{DATABASE}-clone"
DB_NODES = ("db2a", "db2b")
QNETD_HOST = "qnetd"
_HOST_SUFFIX = {"db2a": 11, "db2b": 12, "qnetd": 13}
AWS_PORT = 4566  # pcmk-lab.sh's AWS_PORT: the EC2 emulation on the bridge address

# command -> Debian package providing it (what pcmk-lab.sh needs); /usr/sbin is searched even off PATH
_COMMANDS = {
    "corosync": "corosync",
    "corosync-keygen": "corosync",
    "corosync-quorumtool": "corosync",
    "pacemakerd": "pacemaker",
    "crm_mon": "pacemaker-cli-utils",
    "cibadmin": "pacemaker-cli-utils",
    "crm_attribute": "pacemaker-cli-utils",
    "crm": "crmsh",
    "corosync-qnetd": "corosync-qnetd",
    "corosync-qnetd-certutil": "corosync-qnetd",
    "corosync-qdevice": "corosync-qdevice",
    "corosync-qdevice-net-certutil": "corosync-qdevice",
    "sshd": "openssh-server",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "ip": "iproute2",
    "nsenter": "util-linux",
    "unshare": "util-linux",
    "setpriv": "util-linux",
    "runuser": "util-linux",
    "ncat": "ncat",
    "nft": "nftables",
}
_FILES = {
    "/usr/lib/ocf/resource.d/heartbeat/Dummy": "resource-agents",
    "/usr/lib/ocf/resource.d/heartbeat/aws-vpc-move-ip": "resource-agents",
    "/usr/bin/aws": "awscli",
    "/usr/bin/curl": "curl",
    "/usr/bin/python3": "python3",
}
OVERLAY_IP = "192.168.1.81"  # the runbook's overlay IP
EC2_FACTS = "aws/lab-ec2.json"  # under the lab root: what lab.pcmk_aws.seed made
_SEARCH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])


class PacemakerLabError(RuntimeError):
    """The real Pacemaker lab could not be started or stopped; the message says what to do next."""


@dataclass(frozen=True)
class LabPaths:
    """Where a running lab keeps what a client needs."""

    root: Path

    @property
    def identity(self) -> Path:
        return self.root / "ssh" / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.root / "ssh" / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.root / "ssh" / "ssh_config"

    @property
    def inventory(self) -> Path:
        return self.root / "inventory.yaml"


def lab_root() -> Path:
    """Return the lab root directory: $DB2OPS_PCMK_ROOT or /run/db2ops-pcmk."""
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def pacemaker_lab_available() -> str | None:
    """Return None when this machine can run the real lab, else one sentence saying exactly what is missing."""
    if not sys.platform.startswith("linux"):
        return f"the real Pacemaker lab needs Linux (network namespaces); this is {sys.platform}"
    problems = []
    if os.geteuid() != 0:
        problems.append("root (network and mount namespaces need CAP_SYS_ADMIN: run it with sudo)")
    missing: dict[str, list[str]] = {}
    for command, package in _COMMANDS.items():
        if shutil.which(command, path=_SEARCH) is None:
            missing.setdefault(package, []).append(command)
    for path, package in _FILES.items():
        if not os.access(path, os.X_OK):
            missing.setdefault(package, []).append(path)
    if missing:
        what = "; ".join(f"{pkg} ({', '.join(items)})" for pkg, items in sorted(missing.items()))
        problems.append(
            f"the Debian packages {what} (install: apt-get install -y {' '.join(sorted(missing))})"
        )
    if not SCRIPT.is_file():
        problems.append(f"the lab script {SCRIPT} (reinstall db2ops)")
    if not problems:
        return None
    return "The real Pacemaker lab needs " + ", and ".join(problems) + "."


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, ROOT_ENV: str(root)}


def _lab_net(root: Path) -> str:
    """The /24 prefix the running lab uses (lab.env, written by `up`)."""
    try:
        for line in (root / "lab.env").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key == "NET":
                return shlex.split(value)[0]
    except (OSError, ValueError, IndexError):
        pass
    return "10.99.0"


def host_address(name: str, root: Path | None = None) -> str:
    """Return the namespace address of lab host `name` (db2a, db2b or qnetd)."""
    return f"{_lab_net(root or lab_root())}.{_HOST_SUFFIX[name]}"


def lab_cluster(root: Path | None = None, aws: dict[str, Any] | None = None) -> Cluster:
    """Return the inventory Cluster for the running lab at `root` (see write_inventory for `aws`)."""
    paths = LabPaths(root or lab_root())
    aws = dict(aws or {})
    instance_ids = aws.pop("instance_ids", None) or {}
    unknown = set(aws) - {f for f in AwsSettings.__dataclass_fields__}
    if unknown:
        raise ValueError(f"unknown aws settings {sorted(unknown)}; use the fields of AwsSettings")

    def host(name: str, role: HostRole) -> Host:
        return Host(
            name=name,
            address=host_address(name, paths.root),
            role=role,
            user="root",
            port=22,
            identity=str(paths.identity),
            known_hosts=str(paths.known_hosts),
            instance_id=instance_ids.get(name),
        )

    return Cluster(
        name=CLUSTER_NAME,
        environment="lab-pacemaker",
        read_only=False,  # a disposable lab: actions are allowed
        instance=INSTANCE,
        database=DATABASE,
        hosts=(*(host(n, "db") for n in DB_NODES), host(QNETD_HOST, "qdevice")),
        aws=AwsSettings(**aws),
        lab=False,  # real hosts over real SSH, not the simulated ones
    )


def write_inventory(root: Path | None = None, aws: dict[str, Any] | None = None) -> Path:
    """Write the inventory of the running lab to <root>/inventory.yaml and return its path.

    `aws` holds AwsSettings fields (e.g. the simulated lab's moto `endpoint_url`, `route_table_id`,
    `overlay_ip`) plus optionally `instance_ids` {host name: EC2 instance id}. Raises ValueError for
    unknown keys.
    """
    paths = LabPaths(root or lab_root())
    text = dump_inventory(Inventory(clusters=(lab_cluster(paths.root, aws),)))
    paths.inventory.write_text(text, encoding="utf-8")
    return paths.inventory


async def start_pacemaker_lab(
    script: Path = SCRIPT,
    *,
    aws: dict[str, Any] | None = None,
    root: Path | None = None,
    timeout: float = 240.0,
) -> Path:
    """Run `pcmk-lab.sh up` (a no-op when the lab is already up) and return the inventory path.

    Raises PacemakerLabError when the machine cannot run the lab (the message names what is missing),
    when `up` fails (with the end of its log) or takes longer than `timeout` seconds.
    """
    missing = pacemaker_lab_available()
    if missing:
        raise PacemakerLabError(missing)
    root = root or lab_root()
    proc = await asyncio.create_subprocess_exec(
        "bash",
        str(script),
        "up",
        env=_env(root),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise PacemakerLabError(
            f"`{script} up` did not finish within {timeout:g}s; run `{script} status`, then `{script} down`"
        ) from None
    if proc.returncode != 0:
        tail = "\n".join(out.decode(errors="replace").strip().splitlines()[-8:])
        raise PacemakerLabError(
            f"`{script} up` failed (exit {proc.returncode}); run `{script} down` and retry:\n{tail}"
        )
    if aws is None:
        try:
            aws = await asyncio.wait_for(asyncio.to_thread(setup_overlay_ip, script, root), timeout)
        except TimeoutError:
            raise PacemakerLabError(
                f"the overlay-IP resource did not start within {timeout:g}s; see `{script} status`"
            ) from None
    return write_inventory(root, aws)


def _script(script: Path, root: Path, *args: str, timeout: float = 120.0) -> str:
    done = subprocess.run(
        ["bash", str(script), *args], env=_env(root), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise PacemakerLabError(
            f"`{script} {' '.join(args)}` failed (exit {done.returncode}): {done.stderr.strip()[-600:]}"
        )
    return done.stdout


def setup_overlay_ip(script: Path = SCRIPT, root: Path | None = None) -> dict[str, Any]:
    """Give the running lab its AWS side and return the inventory's aws settings. Blocking (~10 s).

    Starts the EC2 emulation (pcmk-lab.sh start-aws), seeds it once (lab.pcmk_aws.seed: instances at the
    hosts' lab addresses, the overlay route to the promoted node), writes what the nodes' `curl` metadata
    shim answers, then loads the HA plan's own overlay-IP configuration (services/ha_setup, the text the
    wizard generates, with `awscli` naming the lab's wrapper) into the cluster and waits until Debian's
    aws-vpc-move-ip has started on the promoted node and `crm_verify -L` is clean. Idempotent."""
    from lab.pcmk_aws import LabEc2, seed
    from services.ha_setup.oip_steps import render_crm_file
    from services.ha_setup.params import HaParams

    root = root or lab_root()
    _script(script, root, "start-aws", sys.executable)
    net = _lab_net(root)
    endpoint = f"http://{net}.1:{AWS_PORT}"
    facts_path = root / EC2_FACTS
    facts = LabEc2.load(facts_path)
    if facts is None:
        primary = _script(script, root, "wait-promoted", "any", "120").strip()
        facts = seed(endpoint, net, _HOST_SUFFIX, DB_NODES, OVERLAY_IP, primary)
        facts.save(facts_path)
    shim_data = {
        host: {
            "instance_id": facts.instance_ids[host],
            "interface_id": facts.interface_ids[host],
            "mac": _script(script, root, "nsexec", host, "cat", "/sys/class/net/eth0/address").strip(),
        }
        for host in _HOST_SUFFIX
    }
    (root / "aws" / "metadata.json").write_text(json.dumps(shim_data, indent=1), encoding="utf-8")
    (root / "aws" / "endpoint").write_text(endpoint + "\n", encoding="utf-8")
    aws: dict[str, Any] = {
        "endpoint_url": endpoint,
        "route_table_id": facts.route_table_id,
        "overlay_ip": facts.overlay_ip,
        "instance_ids": dict(facts.instance_ids),
    }
    cluster = lab_cluster(root, dict(aws))
    params = HaParams().resolve(cluster)
    text = render_crm_file(
        cluster, params, DB_NODES[0], DB_NODES[1], awscli=str(root / "ec2-bin" / "aws-lab")
    )
    crm_file = root / "overlay-ip.crm"
    crm_file.write_text(text, encoding="utf-8")
    _script(script, root, "nsexec", DB_NODES[0], "crm", "configure", "load", "update", str(crm_file))
    oip = params.oip_resource or ""
    deadline = time.monotonic() + 90
    while not _started_on_promoted(script, root, oip):
        if time.monotonic() > deadline:
            raise PacemakerLabError(
                f"{oip} (aws-vpc-move-ip) did not start on the promoted node within 90s; look at "
                f"`{script} exec db2a crm status` and {root}/hosts/*/log-pacemaker/pacemaker.log"
            )
        time.sleep(0.5)
    verify = subprocess.run(
        ["bash", str(script), "nsexec", DB_NODES[0], "crm_verify", "-L"],
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if verify.returncode != 0 or verify.stdout.strip() or verify.stderr.strip():
        raise PacemakerLabError(f"crm_verify -L is not clean: {(verify.stdout + verify.stderr).strip()}")
    return aws


def _started_on_promoted(script: Path, root: Path, resource: str) -> bool:
    import xml.etree.ElementTree as ET

    try:
        xml = _script(script, root, "nsexec", DB_NODES[0], "crm_mon", "-1", "--output-as=xml")
        tree = ET.fromstring(xml)
    except (PacemakerLabError, ET.ParseError, subprocess.SubprocessError):
        return False
    promoted = {
        n.get("name")
        for r in tree.iter("resource")
        if r.get("id") == CLONE.removesuffix("-clone") and r.get("role") in ("Promoted", "Master")
        for n in r.findall("node")
    }
    started = {
        n.get("name")
        for r in tree.iter("resource")
        if r.get("id") == resource and r.get("role") == "Started"
        for n in r.findall("node")
    }
    return bool(promoted) and promoted == started


def stop_pacemaker_lab(
    script: Path = SCRIPT, *, root: Path | None = None, keep_logs: Path | None = None
) -> None:
    """Run `pcmk-lab.sh down`: stop every lab process, remove namespaces, bridge and the lab root.

    Blocking (a few seconds): call it through asyncio.to_thread from async code. Raises PacemakerLabError
    when `down` fails.
    """
    env = _env(root or lab_root())
    if keep_logs is not None:
        env["DB2OPS_PCMK_KEEP_LOGS"] = str(keep_logs)
    done = subprocess.run(
        ["bash", str(script), "down"], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    if done.returncode != 0:
        raise PacemakerLabError(
            f"`{script} down` failed (exit {done.returncode}): {done.stderr.strip()[-400:]}; "
            f"run it again as root"
        )
