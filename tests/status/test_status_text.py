"""`db2ops status` without --json: one line per fact, each host's connection error said once."""

from __future__ import annotations

from dataclasses import replace

from status_builders import down as unreachable
from status_builders import exited, healthy, with_verdicts

from services.status.model import Part
from services.status.render_text import render_status_text


def test_an_unreachable_host_is_explained_once_not_on_every_part():
    # An unknown host key used to print its 300-character message 5 times per host (verdict, pacemaker,
    # hadr, qdevice, "unreachable" line): the facts that did arrive were lost in the repeats.
    err = "cannot connect to 10.0.2.12:22 (Connection refused); check the address in the inventory"
    s = healthy(t=1000.0)
    down = Part(
        source="db2b", fetched_at=1000.0, error=unreachable("db2b", err), command="db2pd -hadr -db HADRDB"
    )
    s = with_verdicts(
        replace(
            s,
            host_errors={"db2b": unreachable("db2b", err)},
            hadr={**s.hadr, "db2b": down},
            qdevice={**s.qdevice, "db2b": replace(down, command="corosync-qdevice-tool -s")},
        )
    )
    text = render_status_text(s, now=1001.0)
    assert text.count(err) == 1  # in the verdict line
    assert "  hadr db2b: unreachable (above)" in text.splitlines()
    assert "  qdevice db2b: unreachable (above)" in text.splitlines()
    assert "  hadr db2a [db2a, 1.0s] PRIMARY PEER NEARSYNC CONNECTED gap=0" in text.splitlines()
    assert "  quorum db2a [db2a, 1.0s] quorate=True votes 0/0" in text.splitlines()  # the builder's zeros


def test_a_part_error_of_a_reachable_host_is_shown():
    s = healthy(t=1000.0)
    bad = Part(
        source="db2b", fetched_at=1000.0, error=exited("db2b", "db2pd -hadr -db HADRDB", 127, "not found")
    )
    text = render_status_text(with_verdicts(replace(s, hadr={**s.hadr, "db2b": bad})), now=1000.0)
    assert "  hadr db2b: `db2pd -hadr -db HADRDB` exited 127: not found" in text.splitlines()
