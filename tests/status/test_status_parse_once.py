"""An output seen on both nodes in one gather (crm_mon of a cluster that is not partitioned) is parsed once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import LAB, corpus_files, read  # noqa: E402

import services.parsers.crm_mon_xml as crm_mon_xml  # noqa: E402
from services.inventory.model import Cluster, Host  # noqa: E402
from services.ssh.pool import CommandResult  # noqa: E402
from services.status.service import gather_cluster_status  # noqa: E402

corpus_files("pacemaker-lab/01-healthy/*crm_mon_-1_--output-as=xml.xml")
HEALTHY = LAB / "01-healthy"
CLUSTER = Cluster(name="c1", hosts=(Host("db2a", "10.0.0.1"), Host("db2b", "10.0.0.2")))


class _Runner:
    """crm_mon answers the given XML per host; every other command is not found."""

    def __init__(self, xml_by_host: dict[str, str]) -> None:
        self.xml_by_host = xml_by_host

    async def run(self, host, argv, **_):
        command = " ".join(argv)
        if argv[0] == "crm_mon":
            return CommandResult(host.name, tuple(argv), command, 0, self.xml_by_host[host.name], "", 0.0)
        return CommandResult(host.name, tuple(argv), command, 127, "", f"{argv[0]}: not found\n", 0.0)


@pytest.fixture
def parse_calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = crm_mon_xml.parse_crm_mon_xml

    def counting(text: str):
        calls.append(text)
        return real(text)

    monkeypatch.setattr(crm_mon_xml, "parse_crm_mon_xml", counting)
    return calls


async def test_identical_crm_mon_on_both_nodes_is_parsed_once(parse_calls: list[str]) -> None:
    xml = read(HEALTHY / "db2a__crm_mon_-1_--output-as=xml.xml")
    status = await gather_cluster_status(CLUSTER, _Runner({"db2a": xml, "db2b": xml}), aws_route=False)
    assert len(parse_calls) == 1
    assert status.crm.ok and status.crm.value.dc == "db2b" and status.crm.value.with_quorum is True


async def test_different_crm_mon_outputs_are_each_parsed(parse_calls: list[str]) -> None:
    # The real captures of the two nodes differ (taken 3 s apart: last_updated / last_update).
    runner = _Runner({h: read(HEALTHY / f"{h}__crm_mon_-1_--output-as=xml.xml") for h in ("db2a", "db2b")})
    status = await gather_cluster_status(CLUSTER, runner, aws_route=False)
    assert len(parse_calls) == 2
    assert status.crm.value.last_update in ("Thu Nov 26 14:59:06 2026", "Thu Nov 26 14:59:09 2026")
