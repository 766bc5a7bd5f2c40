"""The lab's SSH hosts split a command line exactly as shlex.split (a POSIX shell) would."""

from __future__ import annotations

import shlex

import pytest

from lab.sshd import split_command


@pytest.mark.parametrize(
    "line",
    [
        "crm_mon -1 --output-as=xml",
        "db2pd -hadr -db HADRDB",
        shlex.join(["db2", "get db cfg for HADRDB"]),
        shlex.join(["cat", "/tmp/a b", "it's", '"q"', "$(reboot)", "x;y", "a\\b", "é", "#c"]),
        "a  b",
        " a",
        "a\tb",
        "a\nb",
        "a\xa0b",
        "",
    ],
)
def test_split_matches_shlex(line: str) -> None:
    assert split_command(line) == shlex.split(line)


def test_plain_words_split_on_single_spaces() -> None:
    assert split_command("corosync-quorumtool -s") == ["corosync-quorumtool", "-s"]


def test_unclosed_quote_is_a_value_error_like_shlex() -> None:
    with pytest.raises(ValueError, match="No closing quotation"):
        split_command("cat 'oops")
