"""Property tests: whatever text a parser is given, it returns a value or raises ParseError, nothing else."""

from __future__ import annotations

import pytest
from corpus import corpus_files, read
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.parsers import PARSERS
from services.parsers.errors import ParseError

KIND_SAMPLES = {
    "crm_mon-xml": "pacemaker-lab/*/*crm_mon*--output-as=xml*.xml",
    "quorum": "pacemaker-lab/*/*corosync-quorumtool_-s.txt",
    "qdevice": "pacemaker-lab/0[15]*/*qdevice-tool_-s*.txt",
    "qnetd": "pacemaker-lab/0[14]*/*qnetd-tool_-l*.txt",
    "db2pd-hadr": "db2pd-hadr/*",
    "db2cm-list": "db2cm-list/*",
    "dbcfg-hadr": "db2-dbcfg-hadr/*",
}
SAMPLES = {kind: [read(p) for p in corpus_files(pattern)] for kind, pattern in KIND_SAMPLES.items()}
SAMPLES["crm_mon-xml"] += [read(p) for p in corpus_files("crm_mon-xml/*")]
SAMPLES["qdevice"] += [read(p) for p in corpus_files("corosync-qdevice/qdevice-*")]
SAMPLES["qnetd"] += [read(p) for p in corpus_files("corosync-qdevice/qnetd-*")]
KINDS = sorted(KIND_SAMPLES)

# Pieces of the real formats, so that generated text reaches past the first line check.
FRAGMENTS = [
    "<pacemaker-result>", "</pacemaker-result>", "<crm_mon version='1.1'>", "</crm_mon>", "<summary>",
    "</summary>", "<current_dc present='true' name='a' with_quorum='x'/>", "<nodes>", "</nodes>",
    "<node name='a' online='true' resources_running='z'/>", "<node/>", "<resources>", "</resources>",
    "<clone id='c' multi_state='true'>", "</clone>", "<resource id='r' role='Master'>", "<resource role='x'/>",
    "</resource>", "<group id='g'>", "</group>", "<failures>", "<failure op_key='r_monitor_10' exitcode='q'/>",
    "</failures>", "<bans><ban weight='-INFINITY'/></bans>", "<status code='102' message='x'/>", "<status code='0'/>",
    "<!DOCTYPE x>", "&amp;", "&bogus;",
    "Quorum information\n", "------------------\n", "Quorate:          Yes\n", "Node ID:          x\n",
    "Membership information\n", "    Nodeid      Votes    Qdevice Name\n", "         1          1    A,V,NMW db2a (local)\n",
    "         0          1            Qdevice\n", "    1 x\n", "    1 1 (local)\n", "Quorum:           2 Activity blocked\n",
    "Qdevice information\n", "Model:\t\t\tNet\n", "Configured node list:\n", "    0\tNode ID = 1\n",
    "Membership node list:\t1, x\n", "Qdevice-net information\n", "State:\t\t\tConnected\n",
    'Cluster "c":\n', "    Algorithm:\t\tLMS\n", "    Node ID 1:\n", "    Node ID x:\n", "        Vote:\t\t\tACK (ACK)\n",
    "        Configured node list:\t1, 2\n",
    "Database Member 0 -- Database D -- Active -- Up 0 days 00:00:01 -- Date 2024-07-04\n",
    "                            HADR_ROLE = PRIMARY\n", "HADR_STATE = PEER\n", "HADR_SYNCMODE = SYNC\n",
    "HADR_CONNECT_STATUS = CONNECTED\n", "PRIMARY_LOG_FILE,PAGE,POS = S1.LOG, 1, x\n",
    "PRIMARY_LOG_TIME = 01/01/2024 (17)\n", "PEER_WINDOW_END = x\n", ".....\n",
    "Role    State  SyncMode HeartBeatsMissed   LogGapRunAvg (bytes)\n", "Primary Peer Sync 0 1\n",
    "PrimaryFile  PrimaryPg  PrimaryLSN\n", "S1.LOG 0 0xZZ\n", "ConnectStatus ConnectTime Timeout\n",
    "Database HADRDB not activated on database member 1\n", "Domain information:\n", "Domain name               = d\n",
    "Node information:\n", "n1             Online\n", "Resource Information:\n", "Resource Name             = r\n",
    '  Mount Options                 = "rw\n', "Fencing Information:\n", "  Configured\n", "Quorum Information:\n",
    " HADR database role                                      = PRIMARY\n",
    " HADR local host name                  (HADR_LOCAL_HOST) = h\n", " HADR timeout value (HADR_TIMEOUT) =\n",
    "\n", " \n", "\t", "=", ":", "(", ")", "\r\n", "\x00", "é",
]  # fmt: skip

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _call(kind: str, text: str) -> None:
    try:
        PARSERS[kind](text)
    except ParseError as exc:
        assert exc.kind == kind
        assert str(exc).startswith(f"{kind}: expected ")


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(text=st.text())
def test_arbitrary_text(kind, text):
    _call(kind, text)


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(pieces=st.lists(st.sampled_from(FRAGMENTS), max_size=30))
def test_format_like_text(kind, pieces):
    _call(kind, "".join(pieces))


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_truncated_real_samples(kind, data):
    text = data.draw(st.sampled_from(SAMPLES[kind]))
    end = data.draw(st.integers(min_value=0, max_value=len(text)))
    _call(kind, text[:end])


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_real_samples_with_a_span_replaced(kind, data):
    text = data.draw(st.sampled_from(SAMPLES[kind]))
    start = data.draw(st.integers(min_value=0, max_value=len(text)))
    end = data.draw(st.integers(min_value=start, max_value=min(len(text), start + 40)))
    filler = data.draw(st.one_of(st.text(max_size=8), st.sampled_from(FRAGMENTS)))
    _call(kind, text[:start] + filler + text[end:])


def test_every_registered_kind_has_samples():
    assert set(KINDS) <= set(PARSERS)
    assert all(SAMPLES[kind] for kind in KINDS)


def test_cli_parse_with_the_wrong_kind_names_the_kind_that_reads_it(capsys):
    # `db2ops parse quorum qdevice-output.txt` said only what was expected; a DBA pasting from a ticket
    # may not know which of the nine kinds the text is.
    from tui.cli import main

    qdevice = corpus_files("corosync-qdevice/qdevice-tool-s-tabs.txt")[0]
    assert main(["parse", "quorum", str(qdevice)]) == 2
    err = capsys.readouterr().err
    assert 'expected "Quorum information" heading' in err
    assert err.rstrip().endswith(f"it reads as qdevice: db2ops parse qdevice {qdevice}")
    diag = corpus_files("db2diag/pcmk-takeover-01-info-nonforced.txt")[0]
    assert main(["parse", "db2audit", str(diag), "--json"]) == 2
    assert capsys.readouterr().err.rstrip().endswith(f"it reads as db2diag: db2ops parse db2diag {diag}")
    audit = corpus_files("db2audit/describe-active.txt")[0]
    assert main(["parse", "db2audit", str(audit)]) == 2
    assert "it reads as db2audit-describe" in capsys.readouterr().err
