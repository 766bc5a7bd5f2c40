"""The rules on hand-written `crm configure show` texts and db cfg values: layouts the lab does not render
(Promoted role, ocf:heartbeat: prefixes, minutes), the modes where the peer window does not apply."""

from __future__ import annotations

from services.check.hadr_timing import hadr_mismatch_findings, hadr_timing_findings
from services.check.overlay_rules import overlay_findings
from services.check.pacemaker_config import duration_s, read_crm_config

CONFIG = """node 1: db2a
primitive db2_db2inst1_db2inst1_HADRDB ocf:heartbeat:db2hadr \\
        params instance="db2inst1,db2inst1" dbname=HADRDB \\
        op monitor interval={interval} role=Promoted timeout={timeout} \\
        op monitor interval=10s role=Unpromoted timeout=60s
primitive db2_db2inst1_db2inst1_HADRDB-primary-VIP ocf:heartbeat:aws-vpc-move-ip \\
        params ip=192.168.1.81 routing_table=rtb-1 interface=eth0 \\
        op monitor interval=1min timeout=60s
clone db2_db2inst1_db2inst1_HADRDB-clone db2_db2inst1_db2inst1_HADRDB \\
        meta promotable=true
colocation oip-with-primary +INFINITY: db2_db2inst1_db2inst1_HADRDB-primary-VIP:Started db2_db2inst1_db2inst1_HADRDB-clone:Promoted
location loc-a db2_db2inst1_db2inst1_HADRDB-primary-VIP 100: db2a
property cib-bootstrap-options: \\
        symmetric-cluster=false
"""
PARAMS = {"HADR_SYNCMODE": "NEARSYNC", "HADR_PEER_WINDOW": "120", "HADR_TIMEOUT": "120"}


def test_durations_in_pacemaker_units() -> None:
    assert duration_s("9s") == 9 and duration_s("60") == 60 and duration_s("2min") == 120
    assert duration_s("500ms") == 0.5 and duration_s("soon") is None


def test_promoted_role_and_minutes_are_read() -> None:
    config = read_crm_config(CONFIG.format(interval="30s", timeout="2min"))
    findings = hadr_timing_findings(PARAMS, config)
    assert [f.code for f in findings] == ["HADR-PEER-WINDOW-SHORT"]  # 120 <= 30 + 120
    assert "30 s + 120 s = 150 s" in findings[0].summary


def test_the_peer_window_is_not_judged_where_db2_ignores_it() -> None:
    config = read_crm_config(CONFIG.format(interval="30s", timeout="2min"))
    for mode in ("ASYNC", "SUPERASYNC"):
        assert hadr_timing_findings({**PARAMS, "HADR_SYNCMODE": mode, "HADR_PEER_WINDOW": "0"}, config) == []


def test_an_opt_in_cluster_needs_a_location_per_db_node() -> None:
    config = read_crm_config(CONFIG.format(interval="9s", timeout="60s"))
    codes = [f.code for f in overlay_findings(config, overlay_ip="192.168.1.81", db_nodes=("db2a", "db2b"))]
    assert codes == ["OIP-NO-LOCATION"]  # +INFINITY / Promoted colocation counts; 1min monitor is fine
    finding = overlay_findings(config, overlay_ip=None, db_nodes=("db2a", "db2b"))[0]
    assert "db2b" in finding.summary and "db2a" not in finding.summary


def test_a_colocation_with_the_standby_role_is_not_one_with_the_primary() -> None:
    text = CONFIG.format(interval="9s", timeout="60s").replace("-clone:Promoted", "-clone:Unpromoted")
    codes = {f.code for f in overlay_findings(read_crm_config(text), overlay_ip=None, db_nodes=("db2a",))}
    assert "OIP-NO-COLOCATION" in codes


def test_values_that_differ_between_the_hosts() -> None:
    findings = hadr_mismatch_findings({"db2a": PARAMS, "db2b": {**PARAMS, "HADR_PEER_WINDOW": "300"}})
    assert [f.code for f in findings] == ["HADR-CFG-MISMATCH-PEER-WINDOW"]
    assert "db2a: 120" in findings[0].summary and "db2b: 300" in findings[0].summary
    assert hadr_mismatch_findings({"db2a": PARAMS, "db2b": dict(PARAMS)}) == []


def test_no_db2hadr_resource_is_an_error() -> None:
    findings = hadr_timing_findings(PARAMS, read_crm_config("node 1: db2a\n"))
    assert [f.code for f in findings] == ["PCMK-DB2HADR-MISSING"]


def test_security_group_rules_match_by_address_group_and_all_protocols() -> None:
    from services.check.aws_facts import AwsFacts, InstanceFacts
    from services.check.aws_rules import allows

    def host(ip: str, *groups: str) -> InstanceFacts:
        return InstanceFacts("i-1", "us-east-1a", "vpc-1", False, None, private_ip=ip, security_groups=groups)

    facts = AwsFacts(
        instances={"a": host("10.0.1.5", "sg-a"), "q": host("10.0.3.5", "sg-q"), "x": host("10.0.9.9")},
        group_rules={
            "sg-q": [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 5400,
                    "ToPort": 5410,
                    "IpRanges": [{"CidrIp": "10.0.1.0/24"}],
                }
            ]
        },
    )
    assert allows(facts, "a", "q", 5403) is True  # by address, inside the port range
    assert allows(facts, "a", "q", 5411) is False
    assert allows(facts, "x", "a", 5403) is False  # sg-a has no rule
    assert allows(facts, "a", "x", 5403) is None  # no group reported: nothing to judge
    facts.group_rules["sg-a"] = [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-q"}]}]
    assert allows(facts, "q", "a", 50010) is True  # every protocol, by group


def test_hadr_timeout_longer_than_the_peer_window_is_a_warning() -> None:
    config = read_crm_config(CONFIG.format(interval="9s", timeout="60s"))
    assert hadr_timing_findings(PARAMS, config) == []  # IBM's defaults: 120 s timeout, 120 s window
    findings = hadr_timing_findings({**PARAMS, "HADR_TIMEOUT": "300"}, config)
    assert [(f.code, f.severity.value) for f in findings] == [
        ("HADR-TIMEOUT-OUTLASTS-PEER-WINDOW", "warning")
    ]
    (finding,) = findings
    assert finding.summary == "HADR_TIMEOUT 300 s is longer than HADR_PEER_WINDOW 120 s"
    assert "420 s" in finding.why and "hadr-setting-timeout-peer-window" in finding.why
    assert "up to 69 s" in finding.why  # the primary monitor's 9 s + 60 s
    assert finding.fix.startswith("db2 update db cfg for DBNAME using HADR_TIMEOUT 120")
    # Db2 ignores the window in ASYNC: no window, no finding
    assert hadr_timing_findings({**PARAMS, "HADR_TIMEOUT": "300", "HADR_SYNCMODE": "ASYNC"}, config) == []


def test_a_window_already_too_short_is_one_finding_not_two() -> None:
    # 100 s is under IBM's 120 s minimum: raising the window (that finding's fix) also answers the timeout
    config = read_crm_config(CONFIG.format(interval="9s", timeout="60s"))
    findings = hadr_timing_findings({**PARAMS, "HADR_PEER_WINDOW": "100"}, config)
    assert [f.code for f in findings] == ["HADR-PEER-WINDOW-BELOW-MINIMUM"]
