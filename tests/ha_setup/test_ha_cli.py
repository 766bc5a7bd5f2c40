"""`db2ops setup ha`: the headless run (text / JSON), exit codes for bad input and the write guard, and the
argument parser wiring."""

from __future__ import annotations

import io
import json

from services.ha_setup.cli import run_setup_ha
from services.inventory.model import Inventory
from tui.cli import build_parser


def inventory(lab, **changes) -> Inventory:
    from dataclasses import replace

    return Inventory(clusters=(replace(lab.cluster, **changes),), source="/etc/db2ops/inventory.yaml")


async def test_dry_run_json_lists_planned_steps_with_their_actions(fresh_lab) -> None:
    out = io.StringIO()
    code = await run_setup_ha(
        inventory(fresh_lab), "lab1", mode="dry-run", as_json=True, out=out, runner=fresh_lab.runner
    )
    report = json.loads(out.getvalue())
    assert code == 0
    assert report["plan"] == "ha"
    steps = {s["id"]: s for s in report["steps"]}
    assert steps["qdevice"]["actions"][0]["argv"][-2:] == [
        "-qdevice",
        "qdev",
    ]
    assert steps["overlay-route"]["actions"][0]["operation"] == "CreateRoute"


async def test_text_apply_prints_progress_and_the_result(fresh_lab) -> None:
    out = io.StringIO()
    code = await run_setup_ha(inventory(fresh_lab), "lab1", mode="apply", out=out, runner=fresh_lab.runner)
    text = out.getvalue()
    assert code == 0, text
    assert "... db2cm-cluster: applying" in text
    assert "... oip-resource: applied" in text
    assert text.rstrip().endswith("Result: ok")


async def test_read_only_apply_exits_3_with_the_guards_words(fresh_lab) -> None:
    out = io.StringIO()
    code = await run_setup_ha(
        inventory(fresh_lab, read_only=True), "lab1", mode="apply", out=out, runner=fresh_lab.runner
    )
    assert code == 3
    assert "read-only: set read_only: false for it in /etc/db2ops/inventory.yaml" in out.getvalue()
    assert fresh_lab.runner.ran == []


async def test_unknown_cluster_and_hostile_parameter_exit_2(fresh_lab) -> None:
    out = io.StringIO()
    assert await run_setup_ha(inventory(fresh_lab), "nope", out=out, runner=fresh_lab.runner) == 2
    assert "no cluster 'nope'" in out.getvalue() and "known: lab1" in out.getvalue()
    out = io.StringIO()
    code = await run_setup_ha(
        inventory(fresh_lab),
        "lab1",
        out=out,
        as_json=True,
        params={"domain": "x;rm -rf /"},
        runner=fresh_lab.runner,
    )
    assert code == 2
    assert json.loads(out.getvalue())["error"].startswith("domain 'x;rm -rf /' is not allowed")
    assert fresh_lab.runner.ran == []


def test_parser_accepts_setup_ha() -> None:
    args = build_parser().parse_args(["setup", "ha", "--cluster", "lab1", "--apply", "--set", "nic=ens5"])
    assert (args.what, args.setup_cluster, args.apply, args.setup_set) == ("ha", "lab1", True, ["nic=ens5"])


def test_db2ops_lab_fresh_ha_reaches_the_lab_runtime() -> None:
    from lab.session import LabSession

    args = build_parser().parse_args(["lab", "--fresh-ha", "--serve"])
    assert args.fresh_ha is True
    assert LabSession(fresh_ha=True).options["fresh_ha"] is True
    assert LabSession().options["fresh_ha"] is False
