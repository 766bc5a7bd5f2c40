"""The failover strip in the bundle: a recorded takeover gives strip.svg (well-formed, the phases named,
listed in the manifest, shown in the report with the strip's text); a span without a failover has none and
the report says so; two failovers in one span give one picture each."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET

from incident_harness import START, DrillWalk
from recorded_walk import RecordedWalk, kill_primary_walk
from test_bundle import members

from services.record.bundle import open_bundle, write_bundle
from services.record.incidents import find_incidents

SVG = "{http://www.w3.org/2000/svg}"


async def test_a_recorded_takeover_has_its_strip_as_svg_and_text(monkeypatch, tmp_path) -> None:
    r = await kill_primary_walk(monkeypatch)
    (incident,) = find_incidents(r.recording, "lab1")
    since, until = incident.span()
    out = tmp_path / "b.tar.gz"
    result = write_bundle(r.recording, "lab1", since=since, until=until, out=out)
    files = members(out)
    assert "strip.svg" in result.files and not any(n.startswith("strip-") for n in files)
    root = ET.fromstring(files["strip.svg"])
    assert root.tag == f"{SVG}svg"
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    for phase in ("db2a lost", "db2b promoted", "route moved", "peer again"):
        assert phase in texts
    assert (root.findtext(f"{SVG}title") or "").startswith("lab1: db2b took over from db2a (crash)")
    manifest = json.loads(files["manifest.json"])
    assert manifest["files"]["strip.svg"]["sha256"] == hashlib.sha256(files["strip.svg"]).hexdigest()
    report = files["report.md"].decode()
    assert "### Failover: db2b took over from db2a (crash)" in report
    assert "![failover strip: db2b took over from db2a (crash)](strip.svg)" in report
    line = next(x for x in report.splitlines() if x.startswith("    ● db2a lost "))
    assert "● db2b promoted" in line and "● route moved" in line and "● peer again" in line
    assert "No failover in this span" not in report
    open_bundle(out)  # the picture passes the manifest check like every other file


async def test_a_span_without_a_failover_has_no_strip_and_says_so(monkeypatch, tmp_path) -> None:
    r = await kill_primary_walk(monkeypatch)
    out = tmp_path / "calm.tar.gz"
    result = write_bundle(r.recording, "lab1", since=START, until=START + 3, out=out)  # before the kill
    files = members(out)
    assert not any(n.startswith("strip") for n in files) and not any("strip" in n for n in result.files)
    report = files["report.md"].decode()
    assert "- No failover in this span: no strip to draw." in report
    assert "](strip" not in report


async def test_two_failovers_in_a_span_give_two_pictures(monkeypatch, tmp_path) -> None:
    r = RecordedWalk(DrillWalk(monkeypatch=monkeypatch))
    await r.snap()
    for _ in range(2):  # db2a dies, db2b takes over, db2a returns; then db2b dies and db2a takes over
        r.walk.lab.kill_primary()
        await r.step(0.5, 10, 5)
        r.walk.lab.restore()
        await r.step(5, 30, 2)
    incidents = find_incidents(r.recording, "lab1")
    assert [i.new_primary for i in incidents] == ["db2b", "db2a"]
    out = tmp_path / "two.tar.gz"
    write_bundle(r.recording, "lab1", since=START - 10, until=r.walk.clock.now, out=out)
    files = members(out)
    titles = [ET.fromstring(files[n]).findtext(f"{SVG}title") for n in ("strip.svg", "strip-2.svg")]
    assert titles == ["lab1: db2b took over from db2a (crash)", "lab1: db2a took over from db2b (crash)"]
    report = files["report.md"].decode()
    assert report.index("](strip.svg)") < report.index("](strip-2.svg)")
