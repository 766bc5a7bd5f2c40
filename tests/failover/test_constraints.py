"""Parsing the CIB's constraints: the corpus capture after `crm resource move`, and bad input."""

from __future__ import annotations

import pytest
from corpus import LAB, corpus_files

from services.failover import cli_constraints_for, parse_constraints_xml
from services.parsers.errors import ParseError

CLONE = "db2_db2inst1_db2inst1_HADRDB-clone"
corpus_files("pacemaker-lab/02-after-move/*cibadmin*")


def test_after_move_capture_has_the_cli_prefer_constraint():
    rows = parse_constraints_xml((LAB / "02-after-move" / "db2b__cibadmin_-Q.xml").read_text())
    assert [r.id for r in rows] == [
        "prefer_db2_db2a_db2inst1_0",
        "no_db2_db2a_db2inst1_0_on_db2b",
        "prefer_db2_db2b_db2inst1_0",
        "no_db2_db2b_db2inst1_0_on_db2a",
        f"cli-prefer-{CLONE}",
    ]
    cli = cli_constraints_for([CLONE], rows)
    assert len(cli) == 1
    assert (cli[0].node, cli[0].score, cli[0].role) == ("db2b", "INFINITY", "Started")
    assert cli[0].describe() == f"cli-prefer-{CLONE} ({CLONE} role Started on db2b, INFINITY)"


def test_healthy_capture_has_no_cli_constraint():
    rows = parse_constraints_xml((LAB / "03-standby" / "db2a__cibadmin_-Q.xml").read_text())
    assert len(rows) == 4 and cli_constraints_for([CLONE], rows) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "a <constraints> element"),
        ("<constraints><rsc_location id='a'", "well-formed XML"),
        ("<cib><configuration/></cib>", "a <constraints> element"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><constraints/>', "without DTD"),
        ("<constraints><rsc_location rsc='x'/></constraints>", "an id on every <rsc_location>"),
    ],
)
def test_bad_input_is_a_parse_error(text, expected):
    with pytest.raises(ParseError, match=expected):
        parse_constraints_xml(text)
