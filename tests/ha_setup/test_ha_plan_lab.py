"""The HA plan on in-process lab clusters with moto: the dry run lists every command and API call, apply
on a fresh cluster completes and a second run finds everything done, the seeded lab is already done, the
guard refuses read-only clusters, and failures say what to fix."""

from __future__ import annotations

import json

import pytest

from lab.commands import run_command
from lab.ha_state import cluster_ha, host_ha
from services.ha_setup.plan import build_ha_plan
from services.plans import WriteRefused, run_plan

PCMK = "/tmp/Db2_v11.5.5.0_Pacemaker_20201118_RHEL8.1_x86_64"
DB2CM = "/home/db2inst1/sqllib/adm/db2cm"
OIP = "db2_db2inst1_db2inst1_HADRDB_AWS_primary-OIP"


async def run(lab, mode, **params):
    from services.ha_setup.params import HaParams

    plan = build_ha_plan(lab.cluster, HaParams.from_mapping(params))
    return await run_plan(plan, lab.context(), mode=mode)


def commands(result, step_id):
    return [a.command for a in result.by_id(step_id).actions]


async def test_dry_run_on_a_fresh_cluster_lists_every_command_and_call(fresh_lab_1155) -> None:
    # Db2 11.5.5, the runbook's release: Pacemaker comes from IBM's separate tarball
    fresh_lab = fresh_lab_1155
    result = await run(fresh_lab, "dry-run")
    assert result.by_id("prereq-db2@db2a").message.endswith("Pacemaker from IBM's separate Pacemaker tarball")
    assert result.ok, result.next_hint
    prereqs = [s for s in result.steps if s.step_id.startswith("prereq-")]
    assert {s.status for s in prereqs} == {"already_done"}
    assert commands(result, "ksh@db2a") == ["sudo -n yum install ksh -y"]
    install = commands(result, "pcmk-install@db2b")
    assert install[0] == f"sudo -n tar -zxf {PCMK}.tar.gz -C /tmp"
    assert install[1] == (
        "sudo -n dnf install -y https://dl.fedoraproject.org/pub/epel/epel-release-latest-8.noarch.rpm"
    )
    assert f"{PCMK}/RPMS/x86_64/pacemaker-2.0.4-1.db2pcmk.el8.x86_64.rpm" in install[2].split()
    assert len(install[2].split()) == 5 + 16  # sudo -n dnf install -y + every rpm of RPMS/*/
    assert commands(result, "db2cm-copy@db2a")[1:] == [
        f"sudo -n cp -- {PCMK}/Db2/db2cm {DB2CM}",
        f"sudo -n chmod 755 {DB2CM}",
    ]
    assert (
        commands(result, "agents@db2b")[-1] == f"sudo -n {DB2CM} -copy_resources {PCMK}/Db2agents -host db2b"
    )
    assert commands(result, "db2cm-cluster") == [
        f"sudo -n {DB2CM} -create -cluster -domain lab1 -publicEthernet eth0 -host db2a -publicEthernet eth0 -host db2b"
    ]
    assert commands(result, "db2cm-instance@db2b") == [
        f"sudo -n {DB2CM} -create -instance db2inst1 -host db2b"
    ]
    assert commands(result, "db2cm-db") == [f"sudo -n {DB2CM} -create -db HADRDB -instance db2inst1"]
    assert commands(result, "qnetd-install@qdev")[-1] == (
        f"sudo -n dnf install -y {PCMK}/RPMS/x86_64/corosync-qnetd-3.0.0-3.db2pcmk.el8.x86_64.rpm"
    )
    assert commands(result, "qdevice") == [f"sudo -n {DB2CM} -create -qdevice qdev"]
    assert commands(result, "overlay-address") == ["sudo -n ip address add 192.168.1.81/32 dev eth0"]
    oip = result.by_id("oip-resource").actions
    assert [a.command for a in oip] == [
        "sudo -n tee -- /root/overlayip.txt",
        "sudo -n crm configure load update /root/overlayip.txt",
        f"sudo -n crm resource manage {OIP}",
    ]
    assert oip[0].input.splitlines()[:2] == [
        f"primitive {OIP} ocf:heartbeat:aws-vpc-move-ip \\",
        f"  params ip=192.168.1.81 routing_table={fresh_lab.cluster.aws.route_table_id} interface=eth0 "
        "profile=default \\",
    ]
    assert (
        f"colocation db2_db2inst1_db2inst1_HADRDB_AWS_primary-colocation inf: {OIP}:Started "
        "db2_db2inst1_db2inst1_HADRDB-clone:Master" in oip[0].input
    )
    db2a = fresh_lab.cluster.host("db2a").instance_id
    calls = {
        s.step_id: [(a.service, a.operation, dict(a.params)) for a in s.actions]
        for s in result.steps
        if s.target == "aws"
    }
    assert calls["src-dst-check@db2a"] == [
        ("ec2", "ModifyInstanceAttribute", {"InstanceId": db2a, "SourceDestCheck": {"Value": False}})
    ]
    assert calls["overlay-route"] == [
        (
            "ec2",
            "CreateRoute",
            {
                "RouteTableId": fresh_lab.cluster.aws.route_table_id,
                "DestinationCidrBlock": "192.168.1.81/32",
                "InstanceId": db2a,
            },
        )
    ]
    (create, attach) = calls["iam-policy"]
    assert create[:2] == ("iam", "CreatePolicy")
    statement = json.loads(create[2]["PolicyDocument"])["Statement"][0]
    assert (
        statement["Resource"]
        == f"arn:aws:ec2:us-east-1:123456789012:route-table/{fresh_lab.cluster.aws.route_table_id}"
    )
    assert attach == (
        "iam",
        "AttachRolePolicy",
        {"RoleName": "lab1-db2-ec2", "PolicyArn": "arn:aws:iam::123456789012:policy/db2-lab1-overlay-ip"},
    )
    # a dry run changes nothing: the lab still has no Pacemaker
    assert run_command(fresh_lab.lab, fresh_lab.lab.hosts["db2a"], ["crm_mon", "-1"])[0] == 127


async def test_apply_on_a_fresh_cluster_completes_and_a_rerun_finds_everything_done(fresh_lab) -> None:
    result = await run(fresh_lab, "apply")
    assert result.ok, result.next_hint
    assert result.by_id("verify-status").status == "applied"
    # Db2 11.5.8 (the default lab): Pacemaker from the Db2 media, whose install has db2cm already
    assert result.by_id("db2cm-copy@db2a").message.startswith("not needed: the Db2 11.5.6+ install has")
    assert commands(result, "pcmk-install@db2a") == [
        "sudo -n /tmp/server_dec/db2/linuxamd64/pcmk/db2installPCMK -i"
    ]
    done = {s.status for s in result.steps if not s.step_id.startswith(("prereq-", "db2cm-copy@"))}
    assert done == {"applied"}
    again = await run(fresh_lab, "dry-run")
    assert again.ok
    assert {s.status for s in again.steps} == {"already_done"}
    state = cluster_ha(fresh_lab.lab)
    assert (state.domain, state.qdevice, state.oip_name, state.oip_managed) == ("lab1", "qdev", OIP, True)
    ec2 = fresh_lab.aws
    assert ec2.route_target("lab1") == fresh_lab.cluster.host("db2a").instance_id
    status, show, _ = run_command(fresh_lab.lab, fresh_lab.lab.hosts["db2b"], ["crm", "status"])
    assert status == 0
    assert f"  * {OIP}\t(ocf::heartbeat:aws-vpc-move-ip):\t Started db2a" in show
    entries = fresh_lab.context().journal.read("lab1").entries
    assert {e.step_id for e in entries} >= {"db2cm-cluster", "iam-policy", "oip-resource"}


async def test_after_setup_a_takeover_moves_the_overlay_route(fresh_lab) -> None:
    assert (await run(fresh_lab, "apply")).ok
    fresh_lab.lab.kill_primary()
    fresh_lab.lab.tick()
    fresh_lab.aws.wait_idle()
    assert fresh_lab.aws.route_target("lab1") == fresh_lab.cluster.host("db2b").instance_id


async def test_the_seeded_lab_is_already_done(seeded_lab) -> None:
    result = await run(seeded_lab, "dry-run")
    assert result.ok, result.next_hint
    assert [s.step_id for s in result.steps if s.status != "already_done"] == []
    assert "Started on db2a" in result.by_id("oip-resource").message


async def test_read_only_cluster_is_refused_before_any_host_is_contacted(aws_endpoint, tmp_path) -> None:
    from ha_setup.ha_lab import make_lab

    lab = make_lab(aws_endpoint, tmp_path, fresh=True, read_only=True)
    try:
        with pytest.raises(WriteRefused, match="read-only: set read_only: false"):
            await run(lab, "apply")
        assert lab.runner.ran == []
        dry = await run(lab, "dry-run")  # reading is always allowed
        assert dry.ok
    finally:
        lab.aws.stop()


async def test_a_step_applied_outside_the_runner_is_refused(fresh_lab) -> None:
    plan = build_ha_plan(fresh_lab.cluster)
    step = plan.step("ksh@db2a")
    with pytest.raises(WriteRefused, match="only made by a plan run"):
        await step.apply(fresh_lab.context())


async def test_prerequisite_failure_says_what_to_fix(fresh_lab) -> None:
    host_ha(fresh_lab.lab, fresh_lab.lab.hosts["db2b"]).root_ssh = False
    fresh_lab.lab.disconnect_hadr()
    result = await run(fresh_lab, "apply")
    assert result.outcome == "failed"
    assert result.failed_step == "prereq-hadr@db2a"
    hadr = result.by_id("prereq-hadr@db2a")
    assert "HADR state is DISCONNECTED" in hadr.message
    assert "wait for PEER" in hadr.message
    ssh = result.by_id("prereq-ssh@db2b")
    assert ssh.status == "failed"
    assert "add root's public key of db2b to /root/.ssh/authorized_keys on db2a" in ssh.message
    installs = [s for s in result.steps if s.step_id.startswith(("ksh", "pcmk", "db2cm"))]
    # db2cm-copy: not needed on Db2 11.5.6+ (the default lab), whose install has db2cm
    assert {s.status for s in installs if not s.step_id.startswith("db2cm-copy@")} == {"skipped"}
    assert host_ha(fresh_lab.lab, fresh_lab.lab.hosts["db2a"]).packages == {"chrony"}  # nothing installed
    assert "Fix that, then re-run db2ops setup ha --cluster lab1 --apply" in result.next_hint


async def test_an_interrupted_apply_resumes_where_it_stopped(fresh_lab) -> None:
    fresh_lab.runner.fail[("db2a", f"sudo -n {DB2CM} -create -cluster")] = ConnectionResetError(
        "link dropped"
    )
    first = await run(fresh_lab, "apply")
    assert first.failed_step == "db2cm-cluster"
    assert "link dropped" in first.by_id("db2cm-cluster").message
    second = await run(fresh_lab, "apply")
    assert second.ok, second.next_hint
    assert second.previous is not None and second.previous.outcome == "failed"
    assert second.by_id("agents@db2b").status == "already_done"
    assert second.by_id("db2cm-cluster").status == "applied"


async def test_an_overlay_route_to_the_standby_is_replaced_because_db2pd_says_db2a_is_primary(
    seeded_lab,
) -> None:
    import boto3

    ec2 = boto3.client(
        "ec2",
        endpoint_url=seeded_lab.cluster.aws.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    standby = seeded_lab.cluster.host("db2b").instance_id
    ec2.replace_route(
        RouteTableId=seeded_lab.cluster.aws.route_table_id,
        DestinationCidrBlock="192.168.1.81/32",
        InstanceId=standby,
    )
    result = await run(seeded_lab, "dry-run")
    (action,) = result.by_id("overlay-route").actions
    assert action.operation == "ReplaceRoute"
    assert "db2a is the HADR primary" in action.note
    applied = await run(seeded_lab, "apply")
    assert applied.ok, applied.next_hint
    assert seeded_lab.aws.route_target("lab1") == seeded_lab.cluster.host("db2a").instance_id


async def test_an_existing_overlay_resource_with_other_parameters_is_not_touched(seeded_lab) -> None:
    result = await run(seeded_lab, "dry-run", nic="ens5")
    oip = result.by_id("oip-resource")
    assert oip.status == "failed"
    assert "already moves 192.168.1.81" in oip.message
    assert "crm configure edit" in oip.message


async def test_the_db2_media_method_installs_with_db2installpcmk_and_db2cppcmk(fresh_lab) -> None:
    dry = await run(fresh_lab, "dry-run", install_method="media")
    assert dry.ok, dry.next_hint
    assert commands(dry, "pcmk-install@db2a") == [
        "sudo -n /tmp/server_dec/db2/linuxamd64/pcmk/db2installPCMK -i"
    ]
    assert commands(dry, "agents@db2b") == ["sudo -n /opt/ibm/db2/V11.5/install/pcmk/db2cppcmk -i"]
    assert "db2cm-copy@db2a" not in [s.step_id for s in dry.steps]
    assert commands(dry, "qnetd-install@qdev") == [
        "sudo -n dnf install -y "
        "/tmp/server_dec/db2/linuxamd64/pcmk/Linux/rhel/x86_64/corosync-qnetd-3.0.1-1.db2pcmk.el8.x86_64.rpm"
    ]
    applied = await run(fresh_lab, "apply", install_method="media")
    assert applied.ok, applied.next_hint
    assert {s.status for s in (await run(fresh_lab, "dry-run", install_method="media")).steps} == {
        "already_done"
    }


async def test_a_missing_overlay_location_constraint_is_caught_and_reloaded(fresh_lab_1155) -> None:
    """11.5.5's db2cm leaves the cluster not symmetric: without a location constraint for a host the overlay
    resource cannot run there, so the plan must not call the step done."""
    fresh_lab = fresh_lab_1155
    assert fresh_lab.lab.release.symmetric_cluster is False
    assert (await run(fresh_lab, "apply")).ok
    state = cluster_ha(fresh_lab.lab)
    dropped = state.constraints.pop(f"prefer-node2_{OIP}")
    assert dropped.endswith(" db2b")
    dry = await run(fresh_lab, "dry-run")
    step = dry.by_id("oip-resource")
    assert step.status != "already_done"
    assert "no location constraint for db2b" in step.message and "symmetric-cluster=false" in step.message
    again = await run(fresh_lab, "apply")
    assert again.ok, again.next_hint
    assert state.constraints[f"prefer-node2_{OIP}"] == dropped


async def test_a_symmetric_cluster_runs_the_overlay_resource_without_a_location_constraint(fresh_lab) -> None:
    """11.5.7's db2cm (and the lab's 11.5.8, which takes its values) leaves symmetric-cluster=true: the
    overlay resource may run on a host no location constraint names, so the step stays done."""
    assert fresh_lab.lab.release.symmetric_cluster is True
    assert (await run(fresh_lab, "apply")).ok
    state = cluster_ha(fresh_lab.lab)
    del state.constraints[f"prefer-node2_{OIP}"]
    step = (await run(fresh_lab, "dry-run")).by_id("oip-resource")
    assert step.status == "already_done", step.message
    assert f"prefer-node2_{OIP}" not in state.constraints


async def test_owner_ssh_and_the_qnetd_port_are_checked_before_the_qdevice(fresh_lab) -> None:
    from lab.commands_net import blocked_ports

    dry = await run(fresh_lab, "dry-run")
    owner = dry.by_id("prereq-owner-ssh@db2a")
    assert owner.status == "already_done" and owner.message == "db2inst1 ssh to db2b works"
    port = dry.by_id("prereq-qnetd-port@db2b")
    assert port.status == "already_done" and "qdev:5403 reachable" in port.message
    ids = [s.step_id for s in dry.steps]
    assert ids.index("prereq-qnetd-port@db2b") < ids.index("qdevice")
    # a security group that drops TCP 5403 from db2b, and no ssh for the instance owner: the plan stops
    # before installing anything and says what to fix
    blocked_ports(fresh_lab.lab).add(("db2b", "qdev", 5403))
    host_ha(fresh_lab.lab, fresh_lab.lab.hosts["db2b"]).root_ssh = False  # the lab: no keys from db2b
    result = await run(fresh_lab, "apply")
    assert result.outcome == "failed"
    port = result.by_id("prereq-qnetd-port@db2b")
    assert (
        port.status == "failed" and "TCP 5403 to qdev does not get through (Ncat: TIMEOUT.)" in port.message
    )
    assert "allow TCP 5403 from both Db2 hosts to qdev" in port.message
    owner = result.by_id("prereq-owner-ssh@db2b")
    assert owner.status == "failed"
    assert "add db2inst1's public key of db2b to ~db2inst1/.ssh/authorized_keys on db2a" in owner.message
    assert result.by_id("qdevice").status == "skipped"
    assert host_ha(fresh_lab.lab, fresh_lab.lab.hosts["db2a"]).packages == {"chrony"}  # nothing installed


def test_owner_ssh_runs_as_the_instance_owner_with_argv_and_dash_dash() -> None:
    from services.ha_setup.params import HaParams
    from services.ha_setup.prereq_steps import InstanceOwnerSshStep, QnetdPortStep
    from services.inventory.model import Cluster, Host

    cluster = Cluster(
        name="c",
        instance="db2inst1",
        hosts=[
            Host(name="db2a", address="10.0.0.1", role="db", user="ec2-user"),
            Host(name="db2b", address="10.0.0.2", role="db", user="ec2-user"),
        ],
    )
    step = InstanceOwnerSshStep(cluster.hosts[0], cluster, HaParams())
    assert step._argv("db2b") == (
        *("sudo", "-n", "-u", "db2inst1", "--"),
        *("ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "--", "db2b", "ls"),
    )
    assert QnetdPortStep(cluster.hosts[0], HaParams(qdevice_host="qdev")).qdevice == "qdev"


def test_as_root_the_owner_ssh_uses_runuser_and_no_step_uses_sudo() -> None:
    """Hosts reached as root (the real-Pacemaker lab, or an operator's choice) need no sudo at all."""
    from services.ha_setup.params import HaParams
    from services.ha_setup.prereq_steps import InstanceOwnerSshStep
    from services.inventory.model import AwsSettings, Cluster, Host

    hosts = [
        Host(name=n, address=f"10.0.0.{i}", role="db", user="root") for i, n in ((1, "db2a"), (2, "db2b"))
    ]
    cluster = Cluster(
        name="c",
        instance="db2inst1",
        hosts=(*hosts, Host(name="q", address="10.0.0.3", role="qdevice", user="root")),
        aws=AwsSettings(route_table_id="rtb-0123abcd"),
    )
    params = HaParams().resolve(cluster)
    assert params.use_sudo is False
    assert InstanceOwnerSshStep(cluster.hosts[0], cluster, params)._argv("db2b")[:4] == (
        *("runuser", "-u", "db2inst1", "--"),
    )
    mixed = Cluster(
        name="c",
        instance="db2inst1",
        hosts=(*hosts, Host(name="q", address="10.0.0.3", role="qdevice", user="ec2-user")),
        aws=AwsSettings(route_table_id="rtb-0123abcd"),
    )
    assert HaParams().resolve(mixed).use_sudo is True  # one host needs it: root's commands keep sudo -n


def test_the_port_probe_reads_ncat_verbose_answers(seeded_lab) -> None:
    """nmap-ncat's -z prints nothing (seen on the real-Pacemaker lab); -v says why after its banner."""
    from services.ha_setup.prereq_steps import ncat_said

    db2a = seeded_lab.lab.hosts["db2a"]
    assert run_command(seeded_lab.lab, db2a, ["nc", "-z", "-w", "5", "--", "qdev", "5403"]) == (0, "", "")
    rc, out, err = run_command(seeded_lab.lab, db2a, ["nc", "-v", "-z", "-w", "5", "--", "qdev", "5403"])
    assert rc == 0 and err.startswith(
        "Ncat: Version 7.70 ( https://nmap.org/ncat )\nNcat: Connected to qdev:5403."
    )
    seeded_lab.lab.stop_qnetd()
    assert run_command(seeded_lab.lab, db2a, ["nc", "-z", "--", "qdev", "5403"]) == (1, "", "")
    rc, _, err = run_command(seeded_lab.lab, db2a, ["nc", "-v", "-z", "--", "qdev", "5403"])
    assert rc == 1 and ncat_said(err) == "Ncat: Connection refused."
