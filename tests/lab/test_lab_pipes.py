"""The lab's hosts answer the runbooks' pipelines (`db2 get dbm cfg | grep -i audit`) as bash and GNU grep,
head, tail, wc and sort do, without ever running a shell: a quoted `|` stays an argument."""

from __future__ import annotations

import shlex

import pytest

from lab.commands import run_command, run_pipeline
from lab.shell_line import ShellLineError, split_pipeline
from lab.state import LabCluster

A = "db2a"  # LabCluster("lab1") hosts; the SSH runtime names them lab1-db2a
SSH_A = "lab1-db2a"


@pytest.fixture
def cluster() -> LabCluster:
    return LabCluster("lab1")


@pytest.fixture
async def sh_client(sh):
    return sh


def sh(cluster: LabCluster, line: str, host: str = A) -> tuple[int, str, str]:
    return run_pipeline(cluster, cluster.hosts[host], split_pipeline(line))


def test_split_cuts_only_unquoted_pipes():
    assert split_pipeline("db2 get dbm cfg | grep -i audit") == [
        ["db2", "get", "dbm", "cfg"],
        ["grep", "-i", "audit"],
    ]
    assert split_pipeline(shlex.join(["grep", "a|b", "/etc/group"])) == [["grep", "a|b", "/etc/group"]]
    assert split_pipeline(r"grep a\|b f") == [["grep", "a|b", "f"]]
    assert split_pipeline('grep "x | y" f|wc -l') == [["grep", "x | y", "f"], ["wc", "-l"]]
    assert split_pipeline("crm_mon -1") == [["crm_mon", "-1"]]


@pytest.mark.parametrize("line", ["a ||  b", "a |& b"])
def test_or_lists_and_stderr_pipes_are_refused_not_guessed(line):
    with pytest.raises(ShellLineError, match="not emulated"):
        split_pipeline(line)


@pytest.mark.parametrize("line", ["a | | b", "| a", "a |"])
def test_an_empty_stage_is_bashs_syntax_error(line):
    with pytest.raises(ShellLineError, match="syntax error near unexpected token `\\|'") as info:
        split_pipeline(line)
    assert info.value.status == 2


def test_dbm_cfg_piped_to_grep_i_prints_only_the_audit_lines(cluster):
    status, full, _ = sh(cluster, "db2 get dbm cfg")
    assert status == 0 and "AUDIT_BUF_SZ" in full and "SVCENAME" in full
    status, out, err = sh(cluster, "db2 get dbm cfg | grep -i audit")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines and all("audit" in line.lower() for line in lines)
    assert lines == [line for line in full.splitlines() if "audit" in line.lower()]


def test_grep_that_matches_nothing_exits_1_and_v_inverts(cluster):
    assert sh(cluster, "db2 get dbm cfg | grep -i nosuchparameter") == (1, "", "")
    status, out, _ = sh(cluster, "db2 get dbm cfg | grep -v -i audit")
    assert status == 0 and out and "AUDIT" not in out.upper()


def test_grep_e_alternation_and_bre_literal_bar(cluster):
    host = cluster.hosts[A]
    host.files["/tmp/t"] = "alpha\nbeta|x\ngamma\n"
    assert sh(cluster, "grep -E 'alpha|gamma' /tmp/t") == (0, "alpha\ngamma\n", "")
    assert sh(cluster, "grep 'beta|x' /tmp/t") == (0, "beta|x\n", "")  # BRE: a bare | is literal
    assert sh(cluster, r"grep 'alpha\|gamma' /tmp/t") == (0, "alpha\ngamma\n", "")  # GNU BRE alternation
    assert sh(cluster, "grep -c a /tmp/t") == (0, "3\n", "")
    assert sh(cluster, "grep -q zzz /tmp/t") == (1, "", "")


def test_grep_errors_exit_2(cluster):
    status, out, err = sh(cluster, "grep x /no/such/file")
    assert (status, out, err) == (2, "", "grep: /no/such/file: No such file or directory\n")
    status, _, err = sh(cluster, "grep -Z x")
    assert status == 2 and err.startswith("grep: invalid option -- 'Z'\nUsage: grep")


def test_head_tail_wc_sort(cluster):
    cluster.hosts[A].files["/tmp/n"] = "3\n1\n2\n"
    assert sh(cluster, "cat /tmp/n | tail -1") == (0, "2\n", "")
    assert sh(cluster, "cat /tmp/n | head -n 2") == (0, "3\n1\n", "")
    assert sh(cluster, "tail -n +2 /tmp/n") == (0, "1\n2\n", "")
    assert sh(cluster, "cat /tmp/n | wc -l") == (0, "3\n", "")
    assert sh(cluster, "wc -l /tmp/n") == (0, "3 /tmp/n\n", "")
    assert sh(cluster, "cat /tmp/n | sort -r") == (0, "3\n2\n1\n", "")
    assert sh(cluster, "cat /tmp/n | head -x")[0] == 1


def test_the_exit_status_is_the_last_stages_and_stderr_is_kept(cluster):
    status, out, err = sh(cluster, "cat /nope | wc -l")
    assert (status, out) == (0, "0\n")
    assert err == "cat: /nope: No such file or directory\n"


def test_a_filter_with_file_operands_does_not_wait_for_stdin(cluster):
    from lab.commands import reads_stdin

    host = cluster.hosts[A]
    assert reads_stdin(host, ["grep", "x"]) and not reads_stdin(host, ["grep", "x", "/etc/group"])
    assert not reads_stdin(host, ["grep", "-e", "x", "/etc/group"]) and reads_stdin(host, ["grep", "-e", "x"])
    assert reads_stdin(host, ["tail", "-n", "1"]) and not reads_stdin(host, ["tail", "-n", "1", "/f"])


def test_a_single_command_answers_as_before(cluster):
    host = cluster.hosts[A]
    assert sh(cluster, "crm_mon -1") == run_command(cluster, host, ["crm_mon", "-1"])


async def test_pipes_over_real_ssh(sh_client):
    res = await sh_client.run(SSH_A, "db2 get dbm cfg | grep -i audit_buf")
    assert (res.exit_status, res.stderr) == (0, "")
    assert res.stdout.strip().startswith("Audit buffer size (4KB)") and len(res.stdout.splitlines()) == 1
    res = await sh_client.run(SSH_A, "db2 get dbm cfg | grep -i nothing_like_this")
    assert (res.exit_status, res.stdout) == (1, "")
    res = await sh_client.run(SSH_A, shlex.join(["grep", "|", "/etc/group"]))  # a quoted | is grep's pattern
    assert res.exit_status in (1, 2) and "syntax error" not in res.stderr
    res = await sh_client.run(SSH_A, "crm_mon -1 |")
    assert res.exit_status == 2 and "syntax error" in res.stderr


def test_the_ha_runbooks_resource_name_lookup(cluster):
    # "crm config show | grep primitive | grep DBNAME" (the AWS HA runbook's way to find the db2hadr resource)
    status, out, err = sh(cluster, "crm config show | grep primitive | grep HADRDB")
    assert (status, err) == (0, "")
    assert [line.split()[1] for line in out.splitlines()][0] == "db2_db2inst1_db2inst1_HADRDB"
    assert all(line.startswith("primitive ") and "HADRDB" in line for line in out.splitlines())
