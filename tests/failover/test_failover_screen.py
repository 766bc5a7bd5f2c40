"""The :failover screen on an in-process lab: typed confirmation, guard refusal, live run, leaving."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Button, Static

from failover.screen_fixtures import Gate, confirmed, failed_over, make, prepared, run_drawn, type_names
from screens.failover_text import LeaveFailover
from services.failover import FailoverObservation
from services.plans import Journal, StepEvent
from tui import screen_registry

SIZE = (130, 60)


def text(screen, selector: str) -> str:
    """The widget's text with runs of spaces (column padding) as one space."""
    return re.sub(r" +", " ", str(screen.query_one(selector, Static).render()))


async def test_typed_confirmation_enables_the_button_and_the_failover_completes(tmp_path):
    app, screen, lab, runner = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await prepared(pilot)
        checklist = text(screen, "#fo-checklist")
        assert "✔ HADR in PEER and CONNECTED HADR in PEER and CONNECTED on both" in checklist
        assert "✔ No move/ban constraint on the clone no cli-prefer/cli-ban constraint" in checklist
        assert "db2b$ db2 takeover hadr on db HADRDB" in text(screen, "#fo-dryrun")
        go = screen.query_one("#fo-go", Button)
        assert go.disabled
        await type_names(pilot, "lab1", "db2a")  # the wrong node: still disabled
        assert go.disabled
        await type_names(pilot, "lab", "db2b")  # the wrong cluster
        assert go.disabled
        await type_names(pilot, "lab1", "db2b")
        assert not go.disabled
        await pilot.click("#fo-go")
        await app.workers.wait_for_complete()
        await run_drawn(pilot, screen)
        run = screen.services.runs.get("lab1")
        assert run is not None and not run.running and run.result.ok
        assert lab.summary()["promoted"] == "db2b" and lab.summary()["hadr_primary"] == "db2b"
        summary = text(screen, "#fo-summary")
        assert "✔ lab1 failed over to db2b in 0.0 s." in summary
        assert "14:13:20Z journal Takeover HADR on db2b [verified]" in summary
        assert screen.has_class("-done")
        steps = [e.step_id for e in Journal(tmp_path / "journal").read().entries]
        assert steps == ["preflight", "takeover", "verify", "cleanup", "final"]
        assert runner.writes() == [("db2b", ("db2", "takeover", "hadr", "on", "db", "HADRDB"))]


async def test_read_only_cluster_is_refused_by_the_guard(tmp_path):
    app, screen, lab, runner = make(tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await confirmed(pilot)
        refusal = "cluster lab1 is read-only: set read_only: false for it in the inventory"
        assert refusal in text(screen, "#fo-refusal")
        screen.start_failover()
        await pilot.pause()
        assert screen.services.runs.get("lab1") is None
        assert runner.writes() == []
        assert any(refusal in n.message for n in app._notifications)


async def test_hadr_not_peer_shows_the_refusal_and_never_enables_the_button(tmp_path):
    app, screen, lab, runner = make(tmp_path, drill="disconnect-hadr")
    async with app.run_test(size=SIZE) as pilot:
        await prepared(pilot)
        checklist = text(screen, "#fo-checklist")
        assert (
            "✖ HADR in PEER and CONNECTED HADR not in PEER: db2a is DISCONNECTED (DISCONNECTED)" in checklist
        )
        assert "Refused: 1 blocking check failed." in checklist
        await type_names(pilot, "lab1", "db2b")
        assert screen.query_one("#fo-go", Button).disabled
        assert runner.writes() == []


async def test_escape_asks_while_a_failover_runs_and_the_run_survives(tmp_path):
    gate = Gate()
    app, screen, lab, runner = make(tmp_path, gate=gate)
    async with app.run_test(size=SIZE) as pilot:
        await confirmed(pilot)
        screen.start_failover()
        await gate.entered.wait()
        await pilot.pause()
        assert "running" in text(screen, "#fo-progress")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LeaveFailover)
        assert "is running" in str(app.screen.query_one("#leave-question", Static).render())
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("l")  # leave: the failover goes on without the screen
        await pilot.pause()
        assert app.screen is not screen
        gate.release.set()
        await app.workers.wait_for_complete()
        run = screen.services.runs.get("lab1")
        assert run is not None and run.result.ok and lab.summary()["promoted"] == "db2b"


async def test_escape_after_a_finished_failover_leaves_without_asking(tmp_path):
    app, screen, lab, runner = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await failed_over(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen and not isinstance(app.screen, LeaveFailover)


async def test_a_failover_stopped_half_way_says_so_and_escape_asks(tmp_path):
    app, screen, lab, runner = make(tmp_path, stuck=True)
    async with app.run_test(size=SIZE) as pilot:
        await failed_over(pilot)
        run = screen.services.runs.get("lab1")
        assert run.result.failed_step == "verify" and run.half_done
        summary = text(screen, "#fo-summary")
        assert "✖ Stopped half-way: the cluster may be between states." in summary
        assert "failed: verify — apply failed: not settled after 3 s: Pacemaker promoted db2a" in summary
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LeaveFailover)
        assert "stopped half-way" in str(app.screen.query_one("#leave-question", Static).render())
        await pilot.click("#leave-yes")
        await pilot.pause()
        assert app.screen is not screen


def test_failover_alias_is_registered_and_needs_a_cluster():
    entry = screen_registry.resolve("switchover")
    assert entry is not None and entry.alias == "failover"
    assert entry.description.startswith("Guided failover")

    class NoCluster:
        current_cluster = None

    try:
        entry.factory(NoCluster())
    except screen_registry.ScreenUnavailable as exc:
        assert "open one on :fleet first, then :failover" in str(exc)
    else:
        raise AssertionError("expected ScreenUnavailable")


# ---------------------------------------------------------------- SVG snapshots (deterministic clocks)

SNAP = (130, 50)


def test_snapshot_preflight(snap_compare, tmp_path):
    app, screen, lab, runner = make(tmp_path)
    assert snap_compare(app, terminal_size=SNAP, run_before=prepared)


def test_snapshot_typed_confirmation(snap_compare, tmp_path):
    app, screen, lab, runner = make(tmp_path)

    async def before(pilot) -> None:
        await confirmed(pilot)
        screen.query_one("#fo-confirm").scroll_visible(animate=False)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SNAP, run_before=before)


def progress_before(screen, gate):
    """snap_compare's run_before: the run as it looks while verify polls, the takeover done."""

    async def before(pilot) -> None:
        await confirmed(pilot)
        screen.start_failover()
        await gate.entered.wait()
        run = screen.services.runs.get("lab1")
        run.events += [
            StepEvent("preflight", "Preflight", "finished", "applied", "applied and verified"),
            StepEvent("takeover", "Takeover", "finished", "applied", "applied and verified"),
            StepEvent("verify", "Verify", "applying"),
        ]
        run.current_step = "verify"
        run.observation = FailoverObservation(
            elapsed_s=1.2,
            target="db2b",
            promoted="db2b",
            hadr_primary="db2b",
            hadr_state="REMOTE_CATCHUP",
            route_host=None,
            route_configured=False,
            problems=("HADR on db2b is REMOTE_CATCHUP, waiting for PEER",),
        )
        screen.refresh_run()
        await pilot.pause()

    return before


def test_snapshot_progress(snap_compare, tmp_path):
    gate = Gate()
    app, screen, lab, runner = make(tmp_path, gate=gate)
    assert snap_compare(app, terminal_size=SNAP, run_before=progress_before(screen, gate))


def test_snapshot_summary(snap_compare, tmp_path):
    app, screen, lab, runner = make(tmp_path)
    assert snap_compare(app, terminal_size=SNAP, run_before=failed_over)


NARROW = [(100, 30), (80, 24)]


@pytest.mark.parametrize("size", NARROW, ids=["100x30", "80x24"])
def test_snapshot_preflight_narrow(snap_compare, tmp_path, size):
    """Passed checks are their title alone; the typed confirmation stays on screen."""
    app, screen, lab, runner = make(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=prepared)


@pytest.mark.parametrize("size", NARROW, ids=["100x30", "80x24"])
def test_snapshot_progress_narrow(snap_compare, tmp_path, size):
    gate = Gate()
    app, screen, lab, runner = make(tmp_path, gate=gate)
    assert snap_compare(app, terminal_size=size, run_before=progress_before(screen, gate))
