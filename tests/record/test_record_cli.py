"""`db2ops record --cluster NAME --for D` records the lab over SSH into the state dir's recording, raw
crm_mon XML included; `status --json` carries no raw output; bad arguments get a clear error."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from lab.runtime import LabRuntime
from services.record.model import MARK, RAW
from services.record.store import RecordStore, default_store_path
from services.record.when import parse_duration
from tui.cli import main

pytestmark = pytest.mark.usefixtures("own_home")  # tests/record/conftest.py


async def test_record_the_lab_for_a_while(tmp_path: Path, capsys) -> None:
    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path / "lab", failover_delay_s=0, with_aws=False)
    try:
        argv = [
            "--inventory",
            str(runtime.inventory_path),
            "record",
            "--cluster",
            "lab1",
            "--for",
            "2s",
            "--json",
        ]
        capsys.readouterr()
        code = await asyncio.to_thread(main, argv)  # main runs its own loop; the lab answers on this one
        summary = json.loads(capsys.readouterr().out)
        status_argv = ["--inventory", str(runtime.inventory_path), "status", "--json"]
        await asyncio.to_thread(main, status_argv)
        status_out = capsys.readouterr().out
        wrong = ["--inventory", str(runtime.inventory_path), "record", "--cluster", "nope"]
        assert await asyncio.to_thread(main, wrong) != 0
        assert "no cluster 'nope'" in capsys.readouterr().err
        late = [*argv[:5], "--for", "soon"]
        assert await asyncio.to_thread(main, late) != 0
        assert "is not a duration" in capsys.readouterr().err
    finally:
        await runtime.stop()
    assert code == 0, summary
    assert summary["paused_reason"] is None and summary["frames"] >= 2
    # the timeline's log reads ran beside the polls; a lab without AWS has none, and says so
    assert summary["log_records"] == 0 and "runs without AWS" in summary["log_note"]
    assert "pacemaker-result" not in status_out  # the raw XML is recorded, never printed
    with RecordStore.open(default_store_path(), readonly=True) as store:
        span = store.span("lab1")
        assert span is not None  # a steady lab: one frame kept, the later ones within the tick
        status = store.status_at("lab1", span[1])
        assert status is not None and status.promoted_node == "db2a"
        crm = [i for i in store.items("lab1", kinds=[RAW]) if i.payload["command"].startswith("crm_mon")]
        assert crm and "<pacemaker-result" in crm[0].payload["text"]
        assert [m.payload["what"] for m in store.items("lab1", kinds=[MARK])] == ["started", "stopped"]


def test_durations() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")
    assert parse_duration("10m") == 600 and parse_duration("1.5h") == 5400 and parse_duration("30") == 30
