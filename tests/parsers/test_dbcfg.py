"""HADR lines of `db2 get db cfg` against both corpus samples (full output and grep'ed lines)."""

from __future__ import annotations

import pytest
from corpus import corpus_files, corpus_id, read

from services.parsers.dbcfg import parse_dbcfg_hadr
from services.parsers.errors import ParseError

SAMPLES = corpus_files("db2-dbcfg-hadr/*")
FULL = "db2-dbcfg-hadr/get-db-cfg-full-standard-role.txt"
GREP = "db2-dbcfg-hadr/grep-hadr-primary-aws.BR-DECODED.txt"
ALL_PARAMS = [
    "HADR_LOCAL_HOST",
    "HADR_LOCAL_SVC",
    "HADR_REMOTE_HOST",
    "HADR_REMOTE_SVC",
    "HADR_REMOTE_INST",
    "HADR_TIMEOUT",
    "HADR_TARGET_LIST",
    "HADR_SYNCMODE",
    "HADR_SPOOL_LIMIT",
    "HADR_REPLAY_DELAY",
    "HADR_PEER_WINDOW",
    "HADR_SSL_LABEL",
    "HADR_SSL_HOST_VAL",
]


def test_every_sample_is_covered_below():
    assert sorted(str(p.relative_to(p.parent.parent)) for p in SAMPLES) == [FULL, GREP]


def test_full_get_db_cfg_of_a_standard_database():
    cfg = parse_dbcfg_hadr(read(FULL))
    assert cfg.role == "STANDARD"
    assert list(cfg.params) == ALL_PARAMS
    assert cfg.params["HADR_LOCAL_HOST"] == "" and cfg.params["HADR_REMOTE_INST"] == ""
    assert (cfg.params["HADR_TIMEOUT"], cfg.params["HADR_SYNCMODE"]) == ("120", "NEARSYNC")
    assert cfg.params["HADR_SPOOL_LIMIT"] == "AUTOMATIC(0)"
    assert cfg.params["HADR_SSL_HOST_VAL"] == "OFF"


def test_grepped_hadr_lines_of_a_primary():
    cfg = parse_dbcfg_hadr(read(GREP))
    assert cfg.role == "PRIMARY"
    assert list(cfg.params) == ALL_PARAMS
    assert (cfg.params["HADR_LOCAL_HOST"], cfg.params["HADR_LOCAL_SVC"]) == ("db2-server1", "50010")
    assert (cfg.params["HADR_REMOTE_HOST"], cfg.params["HADR_REMOTE_SVC"]) == ("db2-ec2", "50012")
    assert cfg.params["HADR_REMOTE_INST"] == "db2inst1"
    assert cfg.params["HADR_SPOOL_LIMIT"] == "AUTOMATIC(52000)"
    assert cfg.params["HADR_TARGET_LIST"] == ""  # "= " with a trailing space
    assert cfg.params["HADR_SSL_LABEL"] == ""  # "=" with nothing after it


def test_target_list_with_pipes():
    text = read(GREP).replace(
        "(HADR_TARGET_LIST) = ", "(HADR_TARGET_LIST) = db2-server1:50010|db2-server2:50011"
    )
    assert parse_dbcfg_hadr(text).params["HADR_TARGET_LIST"] == "db2-server1:50010|db2-server2:50011"


@pytest.mark.parametrize("path", SAMPLES, ids=corpus_id)
def test_each_sample_cut_in_half_is_a_parse_error(path):
    text = read(path)
    with pytest.raises(ParseError) as err:
        parse_dbcfg_hadr(text[: len(text) // 2])
    assert err.value.kind == "dbcfg-hadr"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "HADR database role"),
        ("hello world", "HADR database role"),
        (" HADR database role = PRIMARY\n", "(HADR_LOCAL_HOST)"),
        (" HADR local host name HADR_LOCAL_HOST = x\n", "(HADR_PARAM)"),
    ],
)
def test_malformed_input_says_what_was_expected(text, expected):
    with pytest.raises(ParseError) as err:
        parse_dbcfg_hadr(text)
    assert expected in err.value.expected
