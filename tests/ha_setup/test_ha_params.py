"""HaParams: runbook defaults resolved from the inventory, hostile values refused with a message naming
the parameter, the runbook's IAM policy, and --set parsing."""

from __future__ import annotations

import json
import time

import pytest

from services.ha_setup.cli import parse_ha_overrides
from services.ha_setup.params import HaParamError, HaParams, policy_document, policy_json
from services.ha_setup.plan import build_ha_plan
from services.inventory.model import AwsSettings, Cluster, Host


def cluster(**aws) -> Cluster:
    return Cluster(
        name="prod-hadr",
        read_only=False,
        database="testdb",
        hosts=(
            Host(name="db2a", address="10.0.1.11", role="db", instance_id="i-0aaa"),
            Host(name="db2b", address="10.0.2.12", role="db", instance_id="i-0bbb"),
            Host(name="qdev", address="10.0.3.13", role="qdevice"),
        ),
        aws=AwsSettings(**({"route_table_id": "rtb-0123abcd", "overlay_ip": "192.168.1.81"} | aws)),
    )


def test_defaults_follow_the_runbook_and_the_inventory() -> None:
    p = HaParams().resolve(cluster())
    assert p.domain == "prod-hadr"
    assert p.nic == "eth0"
    assert p.qdevice_host == "qdev"
    assert p.overlay_cidr == "192.168.1.81/32"
    assert p.route_table_ids == ("rtb-0123abcd",)
    assert p.oip_resource == "db2_db2inst1_db2inst1_TESTDB_AWS_primary-OIP"
    assert p.iam_policy_name == "db2-prod-hadr-overlay-ip"
    assert p.tarball_path == "/tmp/Db2_v11.5.5.0_Pacemaker_20201118_RHEL8.1_x86_64.tar.gz"
    assert p.extract_dir == "/tmp/Db2_v11.5.5.0_Pacemaker_20201118_RHEL8.1_x86_64"


def test_a_cluster_name_that_is_no_domain_name_falls_back_to_db2domain() -> None:
    c = Cluster(**{**cluster().__dict__, "name": "9-prod"})
    assert HaParams().resolve(c).domain == "db2domain"


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("domain", "x;rm -rf /", "domain"),
        ("domain", "db2 domain", "domain"),
        ("nic", "eth0 -host evil", "nic"),
        ("nic", "eth0;reboot", "nic"),
        ("nic", "averyveryverylongnicname", "nic"),
        ("media_dir", "/tmp/../etc", "media_dir"),
        ("media_dir", "tmp", "media_dir"),
        ("pcmk_tarball", "x.tar.gz; reboot", "pcmk_tarball"),
        ("overlay_ip", "8.8.8.8", "overlay_ip"),
        ("overlay_ip", "192.168.1.81 routing_table=evil", "overlay_ip"),
        ("route_table_ids", ("rtb-0123abcd interface=lo",), "route_table_ids"),
        ("agent_profile", "default profile=x", "agent_profile"),
        ("oip_resource", "oip\nprimitive evil", "oip_resource"),
        ("iam_policy_name", "a/b", "iam_policy_name"),
        ("epel_rpm", "http://example.com/x.rpm", "epel_rpm"),
        ("install_method", "curl|sh", "install_method"),
        ("qdevice_host", "db2a", "qdevice_host"),
    ],
)
def test_hostile_values_are_refused_naming_the_parameter(key, value, named) -> None:
    with pytest.raises(HaParamError) as err:
        HaParams(**{key: value}).resolve(cluster())
    assert str(err.value).startswith(named)


@pytest.mark.parametrize("key", ["media_dir", "db2_image_dir", "crm_file"])
def test_a_near_miss_path_is_refused_at_once(key) -> None:
    # found by bench/hostile_report.py: the path rule backtracked exponentially (2.4 s for this value,
    # doubling per character), on a value typed in the wizard or passed with --set
    started = time.process_time()
    with pytest.raises(HaParamError, match=key):
        HaParams(**{key: "/tmp/server_dec-oProxyCommand=touch /tmp/x"}).resolve(cluster())
    assert time.process_time() - started < 0.1
    HaParams(**{key: "/tmp/a.b/c+d-e_f/"}).resolve(cluster())  # still a path


def test_no_route_table_says_where_to_set_it() -> None:
    with pytest.raises(HaParamError, match="route_table_id under aws: in the inventory"):
        HaParams().resolve(cluster(route_table_id=None))


def test_no_qdevice_host_says_what_to_add() -> None:
    c = Cluster(**{**cluster().__dict__, "hosts": cluster().hosts[:2]})
    with pytest.raises(HaParamError, match="role: qdevice"):
        build_ha_plan(c)


def test_unknown_parameter_lists_the_known_ones() -> None:
    with pytest.raises(HaParamError, match="unknown HA parameter.*domain"):
        HaParams.from_mapping({"domian": "x"})


def test_policy_is_the_runbooks_json_with_the_route_table_arn() -> None:
    document = policy_document("aws", "us-east-1", "123456789012", ("rtb-0123abcd",))
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Stmt0",
                "Effect": "Allow",
                "Action": "ec2:ReplaceRoute",
                "Resource": "arn:aws:ec2:us-east-1:123456789012:route-table/rtb-0123abcd",
            },
            {"Sid": "Stmt1", "Effect": "Allow", "Action": "ec2:DescribeRouteTables", "Resource": "*"},
        ],
    }
    two = policy_document("aws-cn", "cn-north-1", "1", ("rtb-0123abcd", "rtb-0456cdef"))
    assert two["Statement"][0]["Resource"][1] == "arn:aws-cn:ec2:cn-north-1:1:route-table/rtb-0456cdef"
    assert json.loads(policy_json(document)) == document


def test_set_overrides_convert_types() -> None:
    got = parse_ha_overrides(
        [
            "domain=db2domain",
            "use_sudo=false",
            "max_clock_offset_s=0.5",
            "route_table_ids=rtb-0123abcd, rtb-0456cdef",
        ]
    )
    assert got == {
        "domain": "db2domain",
        "use_sudo": False,
        "max_clock_offset_s": 0.5,
        "route_table_ids": ("rtb-0123abcd", "rtb-0456cdef"),
    }
    assert HaParams.from_mapping(got).resolve(cluster()).route_table_ids == ("rtb-0123abcd", "rtb-0456cdef")


@pytest.mark.parametrize("item", ["domain", "nope=1", "use_sudo=yes", "max_clock_offset_s=soon"])
def test_bad_set_items_are_refused(item) -> None:
    with pytest.raises(HaParamError):
        parse_ha_overrides([item])


def test_every_host_command_is_an_argv_joined_with_shlex() -> None:
    import shlex

    from services.plans import PlanContext

    plan = build_ha_plan(cluster())
    ctx = PlanContext(cluster=plan.cluster, runner=None)  # describe() only: nothing runs
    ctx.facts.update({"ha:primary": "db2a", "ha:media:db2a": ["/tmp/x/RPMS/x86_64/pacemaker-2.rpm"]})
    step = plan.step("db2cm-cluster")
    step.host = plan.cluster.host("db2a")
    (action,) = step.describe(ctx)
    assert action.argv == (
        "sudo", "-n", "/home/db2inst1/sqllib/adm/db2cm", "-create", "-cluster", "-domain", "prod-hadr",
        "-publicEthernet", "eth0", "-host", "db2a", "-publicEthernet", "eth0", "-host", "db2b",
    )  # fmt: skip
    assert action.command == shlex.join(action.argv)
