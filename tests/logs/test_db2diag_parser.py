"""db2diag parser against every corpus sample (values asserted), pasted-copy quirks and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from corpus import CORPUS, corpus_files

from services.parsers.db2diag import DataBlock, Db2DiagParser, DiagRecord, looks_like_db2diag, parse_db2diag
from services.parsers.errors import ParseError

DIAG_FILES = corpus_files("db2diag/*.txt")


def read(name: str) -> str:
    """Exact corpus text: CRLF kept (Path.read_text would translate it)."""
    return (CORPUS / name).read_bytes().decode("utf-8")


def _parse(name: str) -> list[DiagRecord]:
    return parse_db2diag(read(f"db2diag/{name}"))


def test_every_corpus_file_parses_without_preamble_and_rebuilds_exactly():
    assert len(DIAG_FILES) == 10
    for path in DIAG_FILES:
        text = path.read_bytes().decode("utf-8")
        parser = Db2DiagParser()
        records = parser.feed(text) + parser.flush()
        assert records, path.name
        assert parser.preamble == "" and parser.skipped_lines == 0, path.name
        for rec in records:
            assert text[rec.offset : rec.offset + len(rec.raw)] == rec.raw
            assert rec.timestamp is not None and rec.timestamp.tzinfo is not None
            assert rec.level and rec.record_id


def test_takeover_info_record_all_header_fields():
    (rec,) = _parse("pcmk-takeover-01-info-nonforced.txt")
    assert rec.timestamp_text == "2023-06-09-20.26.08.204400-420"
    assert rec.timestamp == datetime(2023, 6, 9, 20, 26, 8, 204400, tzinfo=timezone(timedelta(hours=-7)))
    assert rec.timestamp.astimezone(UTC) == datetime(2023, 6, 10, 3, 26, 8, 204400, tzinfo=UTC)
    assert rec.utc_offset_minutes == -420
    assert (rec.record_id, rec.level) == ("I367560E454", "Info")
    assert (rec.pid, rec.tid, rec.proc) == ("255662", "139733690738432", "db2sysc 0")
    assert (rec.instance, rec.node, rec.db) == ("v11580", "000", "HADRDB")
    assert rec.hostname == "pcmk1.fyre.ibm.com"
    assert (rec.eduid, rec.eduname) == ("128", "db2hadrp.0.1 (HADRDB) 0")
    assert (
        rec.function
        == "DB2 UDB, High Availability Disaster Recovery, hdrPriTkHandleInitialRequest, probe:56040"
    )
    assert rec.message == "Primary has started non-forced takeover request."
    assert rec.summary == rec.message
    assert (rec.apphdl, rec.appid, rec.authid, rec.retcode, rec.event_kind) == ("", "", "", "", "")
    assert rec.data == () and rec.callstack == ()


def test_takeover_start_and_change_events_skip_author_ellipsis():
    start, change = _parse("pcmk-takeover-02-event-start-change.txt")
    assert (start.record_id, start.level) == ("E368015E479", "Event")
    assert (start.apphdl, start.appid) == ("0-24708", "*LOCAL.DB2.230610032608")
    assert start.function == "DB2 UDB, base sys utilities, sqeDBMgr::StartUsingLocalDatabase, probe:13"
    assert (start.event_kind, start.event_text) == ("START", "Received TAKEOVER HADR command.")
    assert start.raw.endswith("\n\n...")  # the author's elision stays in raw, not in the fields
    assert "..." not in start.text
    assert (change.record_id, change.eduname) == ("E380152E504", "db2agent (HADRDB) 0")
    assert change.event_kind == "CHANGE"
    assert change.event_text == "HADR state set to HDR_S_PEER (was HDR_P_PEER), connId=1"
    assert change.summary == change.event_text
    assert change.timestamp - start.timestamp == timedelta(seconds=2, microseconds=417144)


def test_db2havend_locate_record_data_blocks_and_annotation_removed():
    (rec,) = _parse("pcmk-db2havend-01-crm_resource-locate.txt")
    assert (rec.record_id, rec.level, rec.pid) == ("I452815E697", "Event", "1759557")
    assert rec.proc == "db2havend (db2ha)"
    assert rec.function == "DB2 Common, Pacemaker, db2CMVendorPCMKExecute, probe:409"
    assert rec.eduid == "" and rec.db == ""
    assert [(b.number, b.type, b.size) for b in rec.data] == [
        (1, "String", 22),
        (2, "String", 44),
        (3, "String", 0),
        (4, "String", 117),
        (5, "signed integer", 4),
    ]
    assert rec.data[0].payload == "/usr/sbin/crm_resource"
    assert rec.data[2].payload.startswith("Object not dumped: Address: 0x00007FFE3A8A9D80 Size: 0")
    assert rec.data[3].payload == (
        "resource db2_v11580_v11580_HADRDB is running on: pcmk2 Master\n"
        "resource db2_v11580_v11580_HADRDB is running on: pcmk1"
    )
    assert "<==" in rec.raw  # raw stays exact
    assert rec.data[4] == DataBlock(5, "signed integer", 4, "1759558")


def test_db2havend_attrd_and_enable_six_records_minus_elided():
    recs = _parse("pcmk-db2havend-02-attrd-and-enable.txt")
    assert [r.record_id for r in recs] == [
        "I453513E638",
        "I466932E638",
        "I467571E873",
        "I468445E1589",
        "I470035E576",
    ]
    assert {r.level for r in recs} == {"Event"}
    assert recs[0].data[3].payload == 'name="db2hadr-v11580_v11580_HADRDB" host="pcmk1" value="1"'
    assert recs[1].data[3].payload.endswith('value="2"')
    assert recs[2].data[3].size == 245 and recs[2].data[3].payload.count("\n") == 1
    enable = recs[3]
    assert enable.function == "DB2 UDB, high avail services, sqlhaPcmkEnableHADRResource, probe:221"
    assert (enable.eduid, enable.eduname, enable.proc) == ("128", "db2hadrs.0.0 (HADRDB) 0", "db2sysc 0")
    assert len(enable.data) == 7 and enable.data[6] == DataBlock(7, "unsigned integer", 8, "21")
    assert len(enable.callstack) == 12
    assert enable.callstack[0] == "[0] 0x00007F165D9835F2 sqlhaPcmkEnableHADRResource + 0xCF2"
    assert enable.callstack[11] == "[11] 0x00007F165A10DE73 clone + 0x43"
    last = recs[4]
    assert last.message == "HADR enable/unlock resource action"
    assert last.data[0] == DataBlock(1, "Codepath", 8, "3")


def test_container_crlf_records_warning_event_error():
    recs = _parse("container-db2start-warning-event-error.txt")
    assert [(r.record_id, r.level) for r in recs] == [
        ("I465616E393", "Warning"),
        ("I466010E1182", "Event"),
        ("I467193E1270", "Event"),
        ("I468464E393", "Warning"),
        ("I468858E460", "Error"),
    ]
    assert recs[0].timestamp == datetime(2025, 9, 1, 4, 1, 42, 935663, tzinfo=UTC)
    assert (recs[0].pid, recs[0].proc, recs[0].hostname) == ("20648", "db2star2", "2e62336d93c9")
    assert recs[0].message == "Released lock on the file:"
    assert recs[0].data == (DataBlock(1, "String", 50, "/database/config/db2inst1/sqllib/ctrl/db2stst.0000"),)
    assert recs[0].raw.endswith("\r\n\r")  # CRLF kept in raw; the split newline is the LF
    event = recs[1]
    assert [b.type for b in event.data] == ["unsigned integer", "signed integer"] + [
        "SQLCA, PD_DB2_TYPE_SQLCA"
    ] * 2
    assert event.data[3].size == 136
    assert (
        event.data[3].payload.splitlines()[0]
        == " sqlcaid : SQLCA     sqlcabc: 136   sqlcode: -1063   sqlerrml: 0"
    )
    assert "\r" not in event.data[3].payload
    assert [b.payload for b in recs[2].data[2:]] == ["false"] * 5
    error = recs[4]
    assert (error.db, error.appid) == ("SAMPLE", "*LOCAL.db2inst1.250901040046")  # trailing spaces stripped
    assert error.retcode == (
        'ZRC=0x8005006D=-2147155859=SQLE_CA_BUILT\n"SQLCA has been built and saved in component specific control block."'
    )


def test_hadr_wiki_nbsp_role_change_multiline_change():
    v97, v101 = _parse("hadr-wiki-role-change-v97-v101.HTMLMANGLED.txt")
    assert (v97.record_id, v97.level, v97.pid) == ("E68393E386", "Event", "4737")
    assert (v97.tid, v97.proc) == ("46914980538688", "db2sysc")  # "TID : 46914980538688PROC : db2sysc"
    assert (v97.instance, v97.node, v97.db, v97.eduid) == ("zhuge", "000", "HADRDB", "524")
    assert v97.event_text == "HADR role set to Primary (was Standard)"
    assert v97.timestamp.utcoffset() == timedelta(hours=-7)
    assert (v101.apphdl, v101.appid, v101.hostname) == ("0-101", "*LOCAL.DB2.131007212657", "zeeman")
    assert v101.event_kind == "CHANGE"
    assert v101.event_text.splitlines() == [
        "HADR DATABASE ROLE/TYPE -",
        "HADR database role set to STANDBY (was PRIMARY).",
        "HADR database type set to PHYSICAL (was PHYSICAL).",
    ]


def test_hadr_wiki_state_and_preformatted_data_html_leftover_dropped():
    p_peer, hdr_peer, info = _parse("hadr-wiki-state-and-connect-v101.HTMLMANGLED.txt")
    assert p_peer.event_text == "HADR state set to P-Peer (was P-NearlyPeer)"
    assert hdr_peer.event_text == "HADR state set to HDR_P_PEER (was HDR_P_NPEER), connId=1"  # no "</p>"
    assert hdr_peer.eduname == "db2hadrp.0.1 (HADRDB)"
    assert (info.record_id, info.level) == ("I119733E421", "Info")
    assert info.data == (DataBlock(1, "<preformatted>", None, "Connection succeeded, connId=1"),)
    assert info.function.endswith("hdrHandleHsAck, probe:30440")


def test_2006_records_old_retcode_and_hexdump():
    err, severe, severe2 = _parse("hadr-wiki-connect-error-severe-2006.HTMLMANGLED.txt")
    assert [r.level for r in (err, severe, severe2)] == ["Error", "Severe", "Severe"]
    assert err.timestamp == datetime(2006, 11, 12, 12, 21, 49, 35929, tzinfo=timezone(timedelta(hours=-8)))
    assert (err.pid, err.tid, err.proc) == ("6178", "183039466048", "db2hadrp (HADRDB)")
    assert err.instance == "myInst" and err.eduid == ""
    assert err.function.endswith("hdrHandleHsAck, probe: 30330")
    assert err.message == "remote connection is not following correct msg format"
    assert severe.data == (DataBlock(1, "Hexdump", 4, "0x0000007FBFFFADD4 : 1900 0F81 ...."),)
    assert severe.message == "Failed to connect to primary. rc:"
    assert severe2.retcode == 'ZRC 0x810F0019 -2129723367 SQLO_CONN_REFUSED "Connection refused"'


def test_rsyslog_fixture_all_levels_without_blank_separators():
    recs = _parse("rsyslog-pmdb2diag-test-all-levels.FIXTURE.txt")
    assert [r.level for r in recs] == [
        "Critical",
        "Alert",
        "Severe",
        "Error",
        "Warning",
        "Event",
        "Info",
        "Debug",
        "Info",
    ]
    assert [r.pid for r in recs[:8]] == [str(4390941 + i) for i in range(8)]
    assert recs[0].timestamp.utcoffset() == timedelta(minutes=120)
    assert recs[0].record_id == "E1876227378A1702"
    assert (recs[0].proc, recs[0].db, recs[0].tid) == ("db2sysc 0", "DBTST", "89500")
    assert recs[-1].pid == "" and recs[-1].summary == ""


def test_datadog_newline_collapsed_records_recovered():
    hadr, fmd, cfg = _parse("datadog-pipeline-samples.NEWLINES-COLLAPSED.txt")
    assert (hadr.record_id, hadr.level) == ("I3618738814E536", "Error")
    assert hadr.timestamp.utcoffset() == timedelta(hours=-5)
    assert (hadr.pid, hadr.proc, hadr.db, hadr.hostname) == ("261583", "db2sysc 0", "PTCTST", "ucspitt0104")
    assert (hadr.eduid, hadr.eduname) == ("18337", "db2hadrp.0.1 (PTCTST) 0")
    assert hadr.message == "ZRC=0xFFFFFFFF=-1"
    assert hadr.data[0].type == "<preformatted>"
    assert hadr.data[0].payload.startswith("The HADR primary was not able to form a TCP connection")
    assert fmd.proc == "" and fmd.instance == "db2inst1"  # "PROC : INSTANCE:" - empty PROC
    assert fmd.function == "DB2 Common, Generic Control Facility, gcf_start, probe:1246"
    assert fmd.message.startswith("ECF=0x900002BF=-1879047489=ECF_GCF_DB2START_SERVICE_FAILED")
    assert fmd.data == (DataBlock(1, "String", 34, '"db2inst1" could not be started.'),)
    assert len(fmd.callstack) == 8 and fmd.callstack[7].startswith(
        "[7] 0x0000000000403FC9 /opt/ibm/db2/V11.1/bin/db2fmd"
    )
    assert (cfg.level, cfg.apphdl, cfg.authid, cfg.eduname) == (
        "Event",
        "0-22",
        "DB2INST1",
        "db2agent (DATADOG)",
    )
    assert cfg.event_kind == "CHANGE"
    assert (
        cfg.event_text
        == 'CFG DB DATADOG : "Database_memory" From: "62992" <automatic>  To: "64320" <automatic>'
    )


def test_collapsed_records_on_one_line_are_split_on_the_header():
    lines = read("db2diag/datadog-pipeline-samples.NEWLINES-COLLAPSED.txt").splitlines()
    one_line = " ".join(lines)
    recs = parse_db2diag(one_line)
    assert [r.record_id for r in recs] == ["I3618738814E536", "I85959909E1014", "I214165E540"]
    assert recs[1].pid == "26319" and recs[2].event_kind == "CHANGE"
    for rec in recs:
        assert one_line[rec.offset : rec.offset + len(rec.raw)] == rec.raw


def test_leading_tab_copies_and_garbage_preamble_are_kept():
    text = "$ cat db2diag.log\nsome prompt\n\n" + read("db2diag/pcmk-takeover-01-info-nonforced.txt")
    parser = Db2DiagParser()
    recs = parser.feed(text) + parser.flush()
    assert len(recs) == 1 and recs[0].pid == "255662"
    assert parser.preamble == "$ cat db2diag.log\nsome prompt\n\n"
    assert parser.skipped_lines == 2
    tabbed = "\n".join(
        "\t" + line for line in read("db2diag/pcmk-takeover-02-event-start-change.txt").splitlines()
    )
    recs = parse_db2diag(tabbed)
    assert [r.event_kind for r in recs] == ["START", "CHANGE"]
    assert recs[1].eduname == "db2agent (HADRDB) 0"


def test_strict_mode_raises_parse_error_when_no_header():
    with pytest.raises(ParseError) as info:
        parse_db2diag("hello\nthis is not db2diag\n", strict=True)
    assert info.value.kind == "db2diag"
    assert info.value.excerpt == "hello"
    assert parse_db2diag("hello\n") == []  # lenient mode: nothing parsed, nothing raised


def test_garbage_only_stream_goes_to_preamble():
    parser = Db2DiagParser()
    assert parser.feed("junk 1\njunk 2\n") == []
    assert parser.flush() == []
    assert parser.preamble == "junk 1\njunk 2\n" and parser.skipped_lines == 2


def test_incremental_feed_completes_record_only_when_next_header_arrives():
    text = read("db2diag/pcmk-takeover-02-event-start-change.txt")
    cut = text.index("2023-06-09-20.26.10") + 7  # inside the second header
    parser = Db2DiagParser()
    assert parser.feed(text[:cut]) == []
    first = parser.feed(text[cut:])
    assert [r.record_id for r in first] == ["E368015E479"]
    (second,) = parser.flush()
    assert second.record_id == "E380152E504" and second.offset == text.index("2023-06-09-20.26.10")


def test_impossible_date_gives_none_timestamp_not_an_exception():
    (rec,) = parse_db2diag("2023-13-45-99.99.99.000000+000 I1E1 LEVEL: Info\nPID : 1\n")
    assert rec.timestamp is None and rec.level == "Info" and rec.pid == "1"


def test_looks_like_db2diag():
    assert looks_like_db2diag(read("db2diag/pcmk-takeover-01-info-nonforced.txt"))
    assert looks_like_db2diag("x\n" + read("db2diag/pcmk-takeover-01-info-nonforced.txt"))
    assert not looks_like_db2diag(read("db2audit/extract-report-context-checking-v1158.txt"))


def test_to_dict_is_json_ready():
    (rec,) = _parse("pcmk-db2havend-01-crm_resource-locate.txt")
    d = rec.to_dict()
    assert d["timestamp"] == "2023-06-09T20:32:42.215187-07:00"
    assert d["data"][3]["size"] == 117 and d["proc"] == "db2havend (db2ha)"
    assert d["offset"] == 0 and d["raw"] == rec.raw


@pytest.mark.parametrize("glue", ["", " ", "\xa0"])
def test_a_header_glued_to_the_previous_line_is_still_a_record(glue):
    # A copy that lost one newline used to fold the next record into the previous one: the takeover's
    # CHANGE record vanished from the list without a word.
    text = read("db2diag/pcmk-takeover-02-event-start-change.txt").replace("\n\n...\n", glue)
    assert "command." + glue + "2023-06-09-20.26.10.655241-420 E380152E504" in text
    for cuts in ([], [text.index("E380152E504") - 3], list(range(50, len(text), 97))):
        parser = Db2DiagParser()
        bounds = [0, *cuts, len(text)]
        recs = [r for a, b in zip(bounds, bounds[1:], strict=False) for r in parser.feed(text[a:b])]
        recs += parser.flush()
        assert [(r.record_id, r.event_kind) for r in recs] == [
            ("E368015E479", "START"),
            ("E380152E504", "CHANGE"),
        ]
        assert recs[0].event_text == "Received TAKEOVER HADR command."
        assert recs[1].event_text == "HADR state set to HDR_S_PEER (was HDR_P_PEER), connId=1"
        assert recs[0].raw + recs[1].raw == text and recs[1].offset == len(recs[0].raw)


def test_level_inside_a_message_does_not_split_a_record():
    text = (
        "2023-06-09-20.26.08.238097-420 I1E1           LEVEL: Info\n"
        "MESSAGE : copied: 2023-06-09-20.26.08.238097-420 but no record id and level here\n"
        "DATA #1 : String, 20 bytes\nLEVEL: not a header\n"
    )
    (rec,) = parse_db2diag(text)
    assert rec.raw == text and rec.message.startswith("copied: 2023-06-09")
