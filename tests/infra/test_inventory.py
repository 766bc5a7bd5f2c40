"""Inventory loader: the example loads; every error names the line and the fix; hostile names are data."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.inventory.loader import InventoryError, dump_inventory, load_inventory, load_inventory_text
from services.inventory.model import AwsSettings, Cluster, Host, Inventory

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inventory.yaml"

VALID = """\
clusters:
  - name: prod
    hosts:
      - {name: db2a, address: 10.0.1.11, role: db}
      - {name: db2b, address: 10.0.2.12, role: db}
      - {name: qdev, address: 10.0.3.13, role: qdevice}
"""


def test_example_inventory_loads_with_all_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # a home where the example's identity file exists
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "id_ed25519").write_text("key\n")
    inv = load_inventory(EXAMPLE)
    assert inv.source == str(EXAMPLE)
    assert inv.warnings == ()
    assert [c.name for c in inv.clusters] == ["prod-hadr"]  # the dr cluster is commented out
    prod = inv.cluster("prod-hadr")
    assert prod is not None
    assert prod.read_only is True
    assert (prod.instance, prod.database, prod.environment) == ("db2inst1", "HADRDB", "prod")
    assert [h.name for h in prod.db_hosts] == ["db2a", "db2b"]
    assert prod.qdevice_host == Host(name="qdev", address="10.0.3.13", role="qdevice", user="ec2-user")
    db2a = prod.host("db2a")
    assert db2a is not None and db2a.port == 22 and db2a.instance_id == "i-0123456789abcdef0"
    assert db2a.identity == str(Path.home() / ".ssh" / "id_ed25519")  # ~ expanded
    assert prod.aws.overlay_ip == "192.168.1.81"
    assert prod.aws.route_table_id == "rtb-0123456789abcdef0"
    assert prod.aws.endpoint_url is None and not prod.aws.is_lab


def test_defaults_read_only_true_and_address_is_name() -> None:
    inv = load_inventory_text(
        "clusters:\n  - name: c\n    hosts:\n      - name: db2a\n      - name: db2b\n      - {name: q, role: qdevice}\n"
    )
    cluster = inv.clusters[0]
    assert cluster.read_only is True
    assert cluster.hosts[0] == Host(name="db2a", address="db2a", role="db")
    assert cluster.aws == AwsSettings()


def test_not_two_db_hosts_is_a_warning_not_an_error() -> None:
    text = "clusters:\n  - name: solo\n    hosts:\n      - {name: db2a, address: 10.0.0.1}\n"
    inv = load_inventory_text(text, source="inv.yaml")
    assert inv.clusters[0].name == "solo"
    assert inv.warnings == (
        "inv.yaml line 3: cluster 'solo' has 1 db hosts; an HADR pair has exactly 2",
        "inv.yaml line 3: cluster 'solo' has 0 qdevice hosts; expected 1 (corosync-qnetd)",
    )


def _error(text: str) -> InventoryError:
    with pytest.raises(InventoryError) as err:
        load_inventory_text(text, source="inventory.yaml")
    return err.value


def test_bad_role_names_host_line_and_fix() -> None:
    text = VALID.replace(
        "{name: db2b, address: 10.0.2.12, role: db}", "{name: db2b, address: 10.0.2.12, role: primary}"
    )
    err = _error(text)
    assert str(err) == "inventory.yaml line 5: host 'db2b' has role 'primary'; use role: db or role: qdevice"
    assert (err.path, err.line, err.fix) == ("inventory.yaml", 5, "use role: db or role: qdevice")


ERRORS = [  # (inventory text, the error as it reads after "inventory.yaml ": "line N: problem; fix")
    ("clusters: []\n", "line 1: the clusters list is empty; describe at least one cluster"),
    ("", "line 1: the inventory is empty; add a clusters: list (see examples/inventory.yaml)"),
    ("clusterz:\n  - name: a\n", "line 1: unknown key 'clusterz' in the inventory; did you mean 'clusters'?"),
    (
        VALID + "  - name: prod\n    hosts: [{name: x}]\n",
        "line 7: two clusters are named 'prod' (first on line 2); give each cluster its own name",
    ),
    (
        VALID.replace("qdev,", "db2a,"),
        "line 6: cluster 'prod' has two hosts named 'db2a' (first on line 4); give each host its own name",
    ),
    (
        VALID.replace("address: 10.0.1.11,", "adress: 10.0.1.11,"),
        "line 4: unknown key 'adress' in host 'db2a'; did you mean 'address'?",
    ),
    (
        VALID.replace("    hosts:", "    read_only: 'no'\n    hosts:"),
        "line 3: cluster 'prod': read_only must be true or false; write true or false (no quotes)",
    ),
    (
        VALID.replace("role: qdevice}", "role: qdevice, port: 70000}"),
        "line 6: host 'qdev': port must be a port number from 1 to 65535; e.g. port: 22",
    ),
    (
        VALID.replace("role: qdevice}", "role: qdevice, port: '22'}"),
        "line 6: host 'qdev': port must be a port number from 1 to 65535; e.g. port: 22",
    ),
    (
        VALID + "    aws: {overlay_ip: 192.168.1.300}\n",
        "line 7: aws of cluster 'prod': overlay_ip '192.168.1.300' is not an IPv4 address; e.g. overlay_ip: 192.168.1.81",
    ),
    (
        VALID + "    aws: {regoin: eu-west-1}\n",
        "line 7: unknown key 'regoin' in aws of cluster 'prod'; did you mean 'region'?",
    ),
    (
        "clusters:\n  - name: x\n    hosts: []\n",
        "line 3: cluster 'x' has an empty hosts list; add its db and qdevice hosts",
    ),
    (
        "clusters:\n  - name: x\n",
        "line 2: cluster 'x' has no hosts; add hosts: with 2 db hosts and 1 qdevice",
    ),
    ("clusters:\n  - hosts: [{name: a}]\n", "line 2: cluster #1 has no name; add name: <unique name>"),
    (
        "clusters:\n  - name: 2024\n    hosts: [{name: a}]\n",
        "line 2: cluster '2024': name must be non-empty text; write it as text (in quotes if it looks like a number)",
    ),
    (
        "clusters:\n  - name: x\n    hosts:\n      - address: 10.0.0.1\n",
        "line 4: a host of cluster 'x' has no name; add name: <the node name Pacemaker uses>",
    ),
    (
        "clusters:\n  - name: x\n    hosts: {name: a}\n",
        "line 3: hosts of cluster 'x' must be a list (lines starting with '- '), found a mapping",
    ),
    (
        VALID.replace("name: db2a,", "name: '-oProxyCommand=touch /tmp/x',"),
        "line 4: a host of cluster 'prod': name '-oProxyCommand=touch /tmp/x' is not a valid host name (letters, "
        "digits, '-' and '_' in dot-separated labels, not starting or ending with '-'); use the node name "
        "Pacemaker uses, e.g. name: db2a",
    ),
    (
        VALID.replace("address: 10.0.1.11,", "address: -oProxyCommand=sh,"),
        "line 4: host 'db2a': address '-oProxyCommand=sh' is not an IP address or host name (letters, digits, "
        "'-' and '_' in dot-separated labels, not starting or ending with '-'); e.g. address: 10.0.1.11 or "
        "address: db2a.example.com",
    ),
    (
        VALID.replace("  - name: prod\n", "  - name: prod\n    instance: ../../tmp/evil\n"),
        "line 3: cluster 'prod': instance '../../tmp/evil' is not a Db2 instance name (1-8 letters, digits or _, "
        "starting with a letter); use the instance owner's user name, e.g. instance: db2inst1",
    ),
    (
        VALID.replace("  - name: prod\n", "  - name: prod\n    database: 1SAMPLE\n"),
        "line 3: cluster 'prod': database '1SAMPLE' is not a Db2 database name (1-8 letters, digits, @, # or $, "
        "not starting with a digit); use the name `db2 list db directory` shows, e.g. database: HADRDB",
    ),
    (
        "clusters:\n  - name: x\n    name: y\n",
        "line 3: key 'name' appears twice in cluster 'x' (first on line 2); keep only one of them",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_each_error_names_line_problem_and_fix(text: str, message: str) -> None:
    err = _error(text)
    assert str(err) == f"inventory.yaml {message}"
    where, _, rest = message.partition(": ")
    problem, _, fix = rest.partition("; ")
    assert (err.line, err.problem, err.fix) == (int(where.removeprefix("line ")), problem, fix)


@pytest.mark.parametrize(
    ("text", "line", "fix"),
    [
        ("clusters:\n  - name: a\n\thosts: []\n", 3, "indent with spaces, not tabs"),
        ("clusters:\n  - name: 'unclosed\n    hosts: []\n", 4, "fix the YAML syntax there"),
        ("clusters: [\n", 2, "fix the YAML syntax there"),
        ("clusters:\n  - name: a\n   bad indent: 1\n", 3, "fix the YAML syntax there"),
    ],
)
def test_broken_yaml_names_the_line_from_the_parser(text: str, line: int, fix: str) -> None:
    err = _error(text)
    assert err.line == line
    assert err.problem.startswith("YAML syntax error: ")
    assert err.fix == fix


def test_python_tags_are_refused_not_executed() -> None:
    err = _error("clusters:\n  - name: !!python/name:os.system x\n")
    assert err.line == 2
    assert err.problem.startswith("cluster 'x': name: cannot read value 'x'")
    err = _error("clusters:\n  - name: !!python/object/apply:os.system ['touch /tmp/pwned']\n")
    assert (err.line, err.problem) == (2, "cluster #1: name: expected a single value, found a list")


def test_missing_file_says_how_to_create_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    with pytest.raises(InventoryError) as err:
        load_inventory(tmp_path / "nope.yaml")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'nope.yaml'}: no inventory file here; run `db2ops lab`")
    assert f"copy examples/inventory.yaml to {tmp_path / 'cfg' / 'db2ops' / 'inventory.yaml'}" in message


def test_yaml_merge_keys_share_host_defaults() -> None:
    text = """\
defaults: &ssh {user: ec2-user, port: 2222}
clusters:
  - name: c
    hosts:
      - {<<: *ssh, name: db2a}
"""
    # the top-level `defaults` key is not part of the format: reported, with its line
    assert _error(text).line == 1
    inv = load_inventory_text(
        "clusters:\n  - name: c\n    hosts:\n      - &h {name: db2a, user: ec2-user, port: 2222}\n      - {<<: *h, name: db2b}\n"
    )
    assert inv.clusters[0].hosts[1] == Host(name="db2b", address="db2b", user="ec2-user", port=2222)


HOSTILE = [
    '"; rm -rf /',
    "$(touch /tmp/x)",
    "a'b\"c",
    "`id`",
    "-oProxyCommand=sh",
    "x\ny",
    "   spaced  ",
    "#not a comment",
    "ü∂🙂",
]


@pytest.mark.parametrize("hostile", [h for h in HOSTILE if h.isprintable()])
def test_hostile_free_text_is_data_and_survives_round_trip(hostile: str) -> None:
    cluster = Cluster(
        name=hostile,
        environment=hostile,
        hosts=(Host(name="db2a", address="10.0.0.1", user=hostile, identity="/k/" + hostile),),
        aws=AwsSettings(profile=hostile, audit_log_group=hostile),
    )
    inv = Inventory(clusters=(cluster,))
    again = load_inventory_text(dump_inventory(inv))
    assert again.clusters == inv.clusters


@pytest.mark.parametrize("hostile", ["x\ny", "evil\x1b]0;pwned\x07", "a\x9b2Jb", "tab\there"])
def test_free_text_with_control_characters_is_refused_naming_the_field(hostile: str) -> None:
    # an escape sequence in a cluster name would retitle / clear the operator's terminal wherever it shows
    cluster = Cluster(name="c1", environment=hostile, hosts=(Host(name="db2a", address="10.0.0.1"),))
    with pytest.raises(InventoryError) as err:
        load_inventory_text(dump_inventory(Inventory(clusters=(cluster,))))
    assert "environment contains control characters or terminal escape sequences" in str(err.value)


@pytest.mark.parametrize("field", ["name", "address", "instance", "database"])
@pytest.mark.parametrize("hostile", HOSTILE + ["../../tmp/evil", "-l", "db2inst1/../x", "a b"])
def test_names_that_reach_root_commands_refuse_hostile_values(field: str, hostile: str) -> None:
    host = Host(
        name=hostile if field == "name" else "db2a", address=hostile if field == "address" else "db2a"
    )
    cluster = Cluster(name="c", hosts=(host,))
    if field in ("instance", "database"):
        cluster = dataclasses.replace(cluster, **{field: hostile})
    err = _error(dump_inventory(Inventory(clusters=(cluster,))))
    assert f": {field} {hostile!r} is not " in err.problem or f": {field} {hostile[:56]!r}" in err.problem
    assert err.fix


def test_dump_round_trips_every_field_of_the_example() -> None:
    inv = load_inventory(EXAMPLE)
    lab = dataclasses.replace(
        inv.clusters[0],
        name="lab-1",
        lab=True,
        read_only=False,
        hosts=tuple(
            dataclasses.replace(h, port=2201 + i, known_hosts="/tmp/lab/known_hosts")
            for i, h in enumerate(inv.clusters[0].hosts)
        ),
        aws=dataclasses.replace(inv.clusters[0].aws, endpoint_url="http://127.0.0.1:5123", profile="lab"),
    )
    both = Inventory(clusters=(inv.clusters[0], lab))
    text = dump_inventory(both)
    again = load_inventory_text(text)
    assert again.clusters == both.clusters
    assert again.cluster("lab-1").aws.is_lab


yaml_ish = st.text(
    alphabet=st.sampled_from(list("clusters:name hosts-role db qdevice port 22 [ ]{},'\"\t\n&*!<>|#%@`\\")),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(yaml_ish, st.text(max_size=80), st.builds(lambda t: VALID + t, yaml_ish)))
def test_arbitrary_text_raises_only_inventory_error(text: str) -> None:
    try:
        inv = load_inventory_text(text)
    except InventoryError as err:
        assert isinstance(err.line, int) and err.problem
    else:
        assert inv.clusters


def test_missing_identity_file_is_a_warning_that_names_the_line_and_the_fix(tmp_path: Path) -> None:
    # asyncssh's "No such file or directory: '.../id_ed25519'" used to reach the user as "cannot connect
    # to 10.0.1.11:22 (...); check the address in the inventory and that sshd runs there".
    key = tmp_path / "id_present"
    key.write_text("key\n")
    text = VALID.replace("role: db}", f"role: db, identity: {tmp_path}/id_missing}}", 1).replace(
        "role: qdevice}", f"role: qdevice, identity: {key}}}"
    )
    inv = load_inventory_text(text, source="inv.yaml")
    assert inv.warnings == (
        f"inv.yaml line 4: host 'db2a': identity {tmp_path}/id_missing does not exist; fix the path, or "
        "remove identity: to let ~/.ssh/config and the SSH agent pick the key",
    )


def _merge_bomb(depth: int, fanout: int = 9) -> str:
    """A mapping whose `<<` merges the level below `fanout` times, `depth` levels deep (fanout^depth)."""
    level = "&a0 {name: db2a}"
    for i in range(1, depth + 1):
        level = f"&a{i} {{<<: [{level}" + f", *a{i - 1}" * (fanout - 1) + "]}"
    return f"clusters:\n  - name: c\n    hosts:\n      - {level}\n"


def test_merge_key_bomb_is_resolved_once_per_anchor() -> None:
    text = _merge_bomb(depth=20)
    assert len(text) < 2000  # the 1.3 KB reproduction: 9^20 merges before each anchor was memoised
    started = time.monotonic()
    inv = load_inventory_text(text)
    assert time.monotonic() - started < 2
    assert inv.clusters[0].hosts[0].name == "db2a"


def test_merges_past_the_budget_or_depth_are_refused_with_the_line() -> None:
    keys = ", ".join(f"k{i}: 1" for i in range(60))
    fan = ", ".join(["*big"] * 199)  # 200 x 60 = 12,000 entries looked at, over the 10,000 budget
    err = _error(f"clusters:\n  - name: c\n    hosts:\n      - {{<<: [&big {{{keys}}}, {fan}], name: m}}\n")
    assert err.problem.startswith("merge keys `<<` in host 'm")
    assert "bring in more than 10000 entries" in err.problem
    assert err.line == 4 and err.fix == "merge each anchor once, without nesting merges of merges"
    deep = _merge_bomb(depth=25, fanout=1)
    err = _error(deep)
    assert "nest too deeply" in err.problem and err.line == 4


def test_cli_refuses_a_hostile_host_name_with_exit_2_naming_the_field(tmp_path: Path, capsys) -> None:
    from tui.cli import main

    path = tmp_path / "inventory.yaml"
    path.write_text(VALID.replace("name: db2b,", "name: '-oProxyCommand=touch /tmp/x',"))
    assert main(["--inventory", str(path), "status"]) == 2  # refused at load time: no host is contacted
    err = capsys.readouterr().err
    assert (
        f"{path} line 5: a host of cluster 'prod': name '-oProxyCommand=touch /tmp/x' is not a valid" in err
    )
    assert "Traceback" not in err


YAML_BITS = st.sampled_from(
    ["clusters:", "\n", "  ", "- ", "name: ", "hosts:", "address: ", "&a ", "*a", "<<: ", "{", "}", "[", "]",
     ", ", "db2a", "-x", "'", '"', "role: qdevice", "instance: ", "../", "port: ", "70000", "!!str ", "#", ":"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(YAML_BITS, max_size=30).map("".join))
def test_any_text_loads_or_raises_inventory_error_only(text: str) -> None:
    try:
        load_inventory_text(text)
    except InventoryError as exc:
        assert exc.problem
