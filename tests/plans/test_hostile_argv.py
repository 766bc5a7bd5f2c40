"""Every command builder, walked with hostile inventory values: none lands where a tool reads options, and
no path is built from an unchecked instance name. The inventory loader refuses these names already
(tests/infra/test_inventory.py); this is the second depth, for a Cluster built in code or a value read from
a host. Each step's check() reads (recorded at the runner) and its dry-run actions are inspected."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from builder_walk import RecordingRunner, exposed, walk

from services.failover.steps import (
    ClearConstraintsStep,
    FailoverSettings,
    MoveStep,
    TakeoverStep,
)
from services.ha_setup.common import db2cm_path
from services.ha_setup.params import HaParamError, HaParams
from services.ha_setup.plan import build_ha_plan
from services.inventory.model import AwsSettings, Cluster, Host
from services.inventory.names import UnsafeOperand
from services.monitoring.params import MonitoringParamError, MonitoringParams
from services.monitoring.plan import build_monitoring_plan
from services.status.service import gather_cluster_status

HOSTILE = "-oProxyCommand=touch /tmp/x"  # the reproduction: one shlex word, still an ssh option
NAMES = (HOSTILE + "a", HOSTILE + "b", HOSTILE + "q")


def _hostile_cluster(**changes: Any) -> Cluster:
    a, b, q = NAMES
    values: dict[str, Any] = {
        "name": "c",
        "read_only": False,
        "database": "HADRDB",
        "hosts": (
            Host(name=a, address=a, instance_id="i-0aaa"),
            Host(name=b, address=b, instance_id="i-0bbb"),
            Host(name=q, address=q, role="qdevice"),
        ),
        "aws": AwsSettings(route_table_id="rtb-0123abcd", overlay_ip="192.168.1.81"),
    }
    values.update(changes)
    return Cluster(**values)


async def test_ha_plan_puts_no_hostile_host_name_where_a_tool_reads_options(tmp_path) -> None:
    cluster = _hostile_cluster()
    argvs, refused = await walk(build_ha_plan(cluster).steps, cluster, tmp_path)
    assert len(argvs) >= 40, "the walk reached too few commands to mean anything"
    assert [(argv, exposed(argv, HOSTILE)) for argv in argvs if exposed(argv, HOSTILE)] == []
    ssh = [argv for argv in argvs if "ssh" in argv]
    # prereq-ssh on both Db2 hosts reads root ssh to the two other hosts, prereq-owner-ssh the instance
    # owner's to the other Db2 host (through `sudo -n -u OWNER --`): the host always follows ssh's `--`
    assert len(ssh) == 6
    assert all(argv[len(argv) - argv[::-1].index("--")].startswith(HOSTILE) for argv in ssh)
    assert refused >= 3  # db2cm -host <name> (no `--` in db2cm): refused, not sent


async def test_monitoring_plan_and_status_put_no_hostile_value_where_a_tool_reads_options(tmp_path) -> None:
    cluster = _hostile_cluster()
    argvs, _ = await walk(build_monitoring_plan(cluster).steps, cluster, tmp_path)
    assert len(argvs) >= 10
    assert [a for a in argvs if exposed(a, HOSTILE)] == []
    runner = RecordingRunner()
    await gather_cluster_status(_hostile_cluster(database="-x"), runner, aws_route=False)
    assert len(runner.argvs) == 9  # crm_mon, quorumtool, qdevice-tool, db2pd on each Db2 host; qnetd-tool
    # the database is only ever the value of db2pd's -db, never a word of its own
    assert [a for a in runner.argvs if "-x" in a] == [("db2pd", "-hadr", "-db", "-x")] * 2


@pytest.mark.parametrize("instance", ["../../tmp/evil", "-x", "db2inst1/..", ""])
def test_no_path_is_built_from_a_hostile_instance(instance: str) -> None:
    cluster = _hostile_cluster(instance=instance)
    with pytest.raises(UnsafeOperand, match="is not a Db2 instance name"):
        db2cm_path(cluster)
    with pytest.raises((HaParamError, UnsafeOperand)):  # refused while building: nothing can be sent
        build_ha_plan(cluster)
    with pytest.raises(MonitoringParamError, match="is not a Db2 instance name"):
        build_monitoring_plan(cluster)  # was /home/../../tmp/evil/dbaudit/... (its path rule allows '..')


async def test_failover_steps_refuse_hostile_pacemaker_names(tmp_path) -> None:
    cluster = _hostile_cluster(database="-x")
    settings = FailoverSettings(cluster=cluster, target=NAMES[1], kind="pacemaker", clone="-rsc-clone")
    steps = [MoveStep(settings), ClearConstraintsStep(settings, after_move=True), TakeoverStep(settings)]
    argvs, refused = await walk(steps, cluster, tmp_path)
    assert refused >= 3  # crm resource move/clear and db2 takeover: never sent with these names
    assert [a for a in argvs if exposed(a, "-x") or exposed(a, "-rsc") or exposed(a, HOSTILE)] == []
    plain = Cluster(name="c", database="HADRDB", hosts=(Host("db2a", "db2a"), Host("db2b", "db2b")))
    good = FailoverSettings(cluster=plain, target="db2b", kind="forced", clone="db2_x-clone")
    assert good.pcmk("crm", "resource", "move", "db2_x-clone", "db2b") == (
        "sudo",
        "-n",
        "crm",
        "resource",
        "move",
        "db2_x-clone",
        "db2b",
    )
    assert good.takeover_argv()[-6:] == ("HADRDB", "by", "force", "peer", "window", "only")


@pytest.mark.parametrize("params_cls", [HaParams, MonitoringParams])
async def test_every_text_parameter_is_refused_or_never_lands_where_a_tool_reads_options(
    params_cls: Any, tmp_path
) -> None:
    plain = _hostile_cluster(
        hosts=(
            Host("db2a", "db2a", instance_id="i-0aaa"),
            Host("db2b", "db2b", instance_id="i-0bbb"),
            Host("qdev", "qdev", role="qdevice"),
        )
    )
    build = build_ha_plan if params_cls is HaParams else build_monitoring_plan
    walked = 0
    for f in dataclasses.fields(params_cls):
        default = getattr(params_cls(), f.name)
        if not (default is None or isinstance(default, str)):
            continue
        try:
            plan = build(plain, params_cls(**{f.name: HOSTILE}))
        except ValueError:  # HaParamError / MonitoringParamError: refused by the params validation
            continue
        argvs, _ = await walk(plan.steps, plain, tmp_path / f.name)
        assert argvs
        assert [a for a in argvs if exposed(a, HOSTILE)] == [], f.name
        walked += 1
    assert walked <= 3  # only names that never reach a host command (IAM role/policy, log stream) pass


GETOPT_TOOLS = ("tee", "mkdir", "cp", "ls", "ssh")  # tools that take `--` (GNU coreutils, OpenSSH)


async def test_tools_that_take_double_dash_get_it_before_their_operands(tmp_path) -> None:
    plain = _hostile_cluster(
        hosts=(
            Host("db2a", "db2a", instance_id="i-0aaa"),
            Host("db2b", "db2b", instance_id="i-0bbb"),
            Host("qdev", "qdev", role="qdevice"),
        )
    )
    seen: set[str] = set()
    # The tarball method (Db2 11.5.5) copies db2cm (cp) and lists the agents (ls) whatever the walk answers;
    # auto only knows its method once prereq-db2 has read a real db2ls.
    tarball = HaParams(install_method="tarball")
    for plan in (build_ha_plan(plain), build_ha_plan(plain, tarball), build_monitoring_plan(plain)):
        argvs, _ = await walk(plan.steps, plain, tmp_path / plan.name)
        for argv in argvs:
            tool = argv[2] if argv[:2] == ("sudo", "-n") else argv[0]
            if tool in GETOPT_TOOLS:
                seen.add(tool)
                assert "--" in argv, argv
    assert seen == set(GETOPT_TOOLS)  # each of them was walked at least once
