"""Every screen of the console shows outside text (node, resource and host names, parsed tool values, remote
stderr, AWS alarm names and reasons, journal and timeline lines) as text: nothing drawn carries an escape
sequence, a C0/C1 control or a bidi override, and markup in a name ("[red]x[/]", "[@click=app.quit]",
"[link=...]") is shown literally, never applied.

The screens run inside the real Db2OpsApp (its render filter is part of what is proved) on data where every
name and message carries those sequences; what is checked is the screen as drawn (the compositor's output,
as in a screenshot, modals over their screens), so a widget added to these screens is covered without being
named here. drawn_text reads the compositor as App.export_screenshot does (Textual internals: a rename there
fails these tests loudly, it cannot make them pass).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from enum import Enum
from typing import Any

import tui_fixtures as fx
from rich.console import Console
from textual.pilot import Pilot

from services.inventory.model import Cluster, Inventory
from services.plans.journal import Journal
from services.status.model import Severity
from services.timeline.model import Timeline, TimelineEntry
from tui.app import Db2OpsApp

# Terminal control in a name: OSC retitle, CSI clear screen, a C1 CSI, a bidi override, and markup.
# Every closing tag is followed by SEEN: shown literally, SEEN follows "]" (or a line wrap); applied, the tag
# is gone and SEEN follows the tagged word's last letter.
SEEN = "¤"
NAME = f"[red]n[/]{SEEN}\x1b]0;pwned\x07\x1b[2J\x9b1m\u202e"
# Remote stderr / AWS text: action and link markup that would quit the console or open a link if parsed.
ERR = (f"\x1b]8;;https://e.test\x07[@click=app.quit]quit[/]{SEEN} [link=https://e.test]l[/link]{SEEN}"
       "\x1b[0m\x85\u2066")  # fmt: skip
LITERALS = ("[red]n[/]", "[@click=app.quit]quit[/]", "[link=https://e.test]l[/link]")
# What no drawn text may hold: C0 (newline separates the drawn lines), DEL, C1, bidi controls
FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SIZE = (200, 60)


def drawn_text(app: Db2OpsApp) -> str:
    """The screen as drawn (every widget's lines, after the app's filters), as plain text: what
    App.export_screenshot draws, without the SVG."""
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)  # fmt: skip
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False)


def assert_safe(text: str, *, literal: tuple[str, ...] = ()) -> None:
    bad = sorted({f"U+{ord(c):04X}" for c in FORBIDDEN.findall(text)})
    assert not bad, f"drawn text holds control characters {bad}:\n{text}"
    applied = [m.group() for m in re.finditer(rf"\S{{0,12}}\w{SEEN}", text)]
    assert not applied, f"markup was applied (its tags are gone) in {applied}:\n{text}"
    for markup in literal:
        assert markup in text, f"{markup!r} is not shown literally:\n{text}"


def taint(value: Any, swaps: dict[str, str]) -> Any:
    """`value` (a status snapshot: dataclasses, dicts, tuples) with every str rewritten by `swaps`."""
    if isinstance(value, Enum):  # before str: severities and kinds are str enums
        return value
    if isinstance(value, str):
        for old, new in swaps.items():
            value = value.replace(old, new)
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: taint(getattr(value, f.name), swaps) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {taint(k, swaps): taint(v, swaps) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(taint(v, swaps) for v in value)
    return value


# db2b and the database are renamed everywhere (node, resource and HADR host names, errors); the SSH
# error of the unreachable host and the qnetd error carry ERR as remote stderr.
SWAPS = {"db2b": f"db2b{NAME}", "HADRDB": f"HADRDB{NAME}", "check the address": f"{ERR} check the address",
         "Can't connect": f"{ERR} Can't connect"}  # fmt: skip
HOST_B = f"db2b{NAME}"


def hostile_cluster(name: str = "lab-hadr") -> Cluster:
    base = fx.lab_cluster(name)
    hosts = tuple(dataclasses.replace(h, name=HOST_B) if h.name == "db2b" else h for h in base.hosts)
    return dataclasses.replace(base, hosts=hosts, environment=f"lab{NAME}")


class HostileSource(fx.FakeStatusSource):
    """The fixture scenarios with every name and error made hostile (SWAPS)."""

    async def snapshot(self, cluster: Cluster):
        return taint(await super().snapshot(cluster), SWAPS)


def hostile_app(*clusters: str, scenario: str = "host_unreachable") -> Db2OpsApp:
    source = HostileSource(scenario)
    inventory = Inventory(tuple(hostile_cluster(c) for c in clusters or ("lab-hadr",)), source="test")
    return Db2OpsApp(inventory, fx.settings(), status_source=source, runner=fx.FakeLabRunner(source),
                     clock=lambda: fx.NOW, toasts=False)  # fmt: skip


async def settle(pilot: Pilot) -> None:
    """Give the screens' workers (loads, reads from the fakes) time to finish and the screen time to redraw
    (the app's poll loop never ends, so its workers are not awaited)."""
    for _ in range(5):
        await pilot.pause(0.02)


async def polled(pilot: Pilot) -> None:
    """Wait until every cluster's first poll is in and the screens processed it."""
    app = pilot.app
    for c in app.clusters:
        await asyncio.wait_for(app.poller.wait_polls(c.name, 1), 10)
    await settle(pilot)


def test_the_checks_see_what_they_look_for() -> None:
    """The hostile values really hold what the screens must not draw (so a pass means something)."""
    assert FORBIDDEN.search(NAME) and FORBIDDEN.search(ERR)
    assert all(m in NAME + ERR for m in LITERALS)
    status = taint(fx.host_unreachable(), SWAPS)
    assert HOST_B in status.host_errors and ERR in status.host_errors[HOST_B].message


def test_bidi_overrides_are_removed_and_the_render_filter_keeps_widths_and_control_segments() -> None:
    from rich.cells import cell_len
    from rich.segment import ControlType, Segment

    from services.text_safety import drawable, is_safe, safe_text
    from tui.control_filter import ControlCharacterFilter

    assert safe_text("admin\u202egnp.exe\u2066x\u2069") == "admingnp.exex" and not is_safe("a\u200fb")
    assert drawable("a\tb\nc\x1b[2Jd\x85") == "abc[2Jd"  # laid-out text: no tab or newline either
    clean = "plain — ünïcode"
    assert drawable(clean) is clean
    cursor = Segment("", None, [(ControlType.CURSOR_MOVE_TO, 1, 2)])
    line = [Segment("db2b\x1b]0;t\x07\u202e"), cursor, Segment("ok")]
    out = ControlCharacterFilter().apply(line, None)
    assert out == [Segment("db2b]0;t"), cursor, Segment("ok")]
    assert sum(cell_len(s.text) for s in out) == sum(cell_len(s.text) for s in line)  # the layout is kept
    untouched = [Segment("fine"), Segment(" text")]
    assert ControlCharacterFilter().apply(untouched, None) is untouched


def test_panel_text_drops_escape_sequences_whole_from_parsed_values() -> None:
    """Panels built from parsed tool values lose a whole escape sequence, not only its ESC (the render
    filter alone would leave "]0;pwned[2J" on screen)."""
    from tui.widgets.panel_text import render_hadr, render_nodes, render_qnetd, render_resources

    status = taint(fx.no_quorum(), SWAPS)
    crm = status.crm.value
    texts = [render_nodes(crm).plain, render_resources(crm, [n.name for n in crm.nodes]).plain,
             render_qnetd(status.qnetd.value).plain, render_hadr(status.hadr[HOST_B].value).plain]  # fmt: skip
    assert "db2b[red]n[/]" in texts[0]
    for text in texts:
        assert "pwned" not in text and "[2J" not in text and not FORBIDDEN.search(text.replace("\n", " "))


async def test_status_screen_panels_topology_header_banner_and_details_draw_no_controls() -> None:
    from screens.panel_detail import PanelDetailScreen, VerdictDetailScreen
    from screens.status import StatusScreen
    from tui.widgets.banner import VerdictBanner
    from tui.widgets.status_panel import StatusPanel

    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot)
        assert isinstance(app.screen, StatusScreen)
        text = drawn_text(app)
        # the hostile host name is drawn (HADR panel title, nodes, topology), its markup as text
        assert_safe(text, literal=("[red]n[/]",))
        assert "db2b[red]n[/]" in text
        for panel_id in ("#nodes", "#resources", "#failed", "#quorum-db2a", "#qnetd"):
            panels = app.screen.query(panel_id)
            if not panels:
                continue
            panel = panels.first(StatusPanel)
            panel.post_message(StatusPanel.DetailsRequested(panel))
            await settle(pilot)
            assert isinstance(app.screen, PanelDetailScreen), panel_id
            assert_safe(drawn_text(app))
            app.pop_screen()
            await settle(pilot)
        # the detail of a HADR panel names the unreachable host's error: remote stderr, markup literal
        hadr = next(
            p for p in app.screen.query(StatusPanel) if p.has_class("hadr") and "db2b" in p.title_text
        )
        hadr.post_message(StatusPanel.DetailsRequested(hadr))
        await settle(pilot)
        assert_safe(drawn_text(app), literal=LITERALS)
        app.pop_screen()
        await settle(pilot)
        await pilot.click(VerdictBanner)
        await settle(pilot)
        assert isinstance(app.screen, VerdictDetailScreen)
        assert_safe(drawn_text(app), literal=("[red]n[/]",))


async def test_no_quorum_errors_and_qnetd_stderr_draw_no_controls() -> None:
    app = hostile_app(scenario="no_quorum")
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot)
        assert_safe(drawn_text(app), literal=("[red]n[/]",))


async def test_fleet_rows_draw_no_controls_and_show_markup_literally() -> None:
    from screens.fleet import FleetScreen

    app = hostile_app("lab-hadr", "lab[b]two[/b]")
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot)
        app.pop_screen() if not isinstance(app.screen, FleetScreen) else None
        await settle(pilot)
        assert isinstance(app.screen, FleetScreen)
        text = drawn_text(app)
        assert_safe(text, literal=("lab[b]two[/b]", "lab[red]n[/]"))


async def test_journal_screen_draws_remote_stderr_and_names_as_text(tmp_path) -> None:
    from screens.journal import JournalScreen

    journal = Journal(tmp_path / "journal")
    journal.record(who=f"dba{NAME}", cluster=f"c1{NAME}", plan="monitoring", run_id="R1",
                   step_id=f"cron@{HOST_B}", step_title=f"cron on {HOST_B}", target=HOST_B, result="failed",
                   message=f"apply failed: crontab: {ERR} bad line")  # fmt: skip
    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot)
        app.push_screen(JournalScreen(journal=journal, export_dir=tmp_path / "exports"))
        await settle(pilot)
        assert isinstance(app.screen, JournalScreen) and app.screen.shown
        assert_safe(drawn_text(app), literal=LITERALS)


async def test_timeline_rows_and_detail_draw_no_controls() -> None:
    from screens.timeline import TimelineScreen

    timeline = Timeline("lab-hadr")
    timeline.add(TimelineEntry(fx.T0, "status", Severity.WARNING, f"promoted node changed: db2a -> {HOST_B}",
                               f"stderr: {ERR}", ref="r0"))  # fmt: skip
    timeline.add(TimelineEntry(fx.T0 + 1, "log", Severity.INFO, f"db2diag on {HOST_B}: {ERR}", ERR, ref="r1"))
    # a journal entry's title ends with its result in brackets: the table used to read it as a style tag
    timeline.add(
        TimelineEntry(fx.T0 - 1, "journal", Severity.INFO, "Takeover HADR on db2a [verified]", "", ref="r2")
    )
    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot)
        app.push_screen(TimelineScreen(app.clusters[0], timeline, clock=lambda: fx.NOW, poll_interval=0))
        await settle(pilot)
        assert isinstance(app.screen, TimelineScreen) and app.screen.shown
        assert_safe(drawn_text(app), literal=(*LITERALS, "Takeover HADR on db2a [verified]"))


async def test_alarm_names_reasons_topics_and_history_draw_as_text() -> None:
    from alarms.fake_alarm_service import NOW, FakeAlarmService

    from screens.alarm_dialogs import AlarmHistoryScreen, TestFireConfirm
    from screens.alarms import AlarmsScreen

    class HostileAlarms(FakeAlarmService):
        async def topic_subscriptions(self, topic):
            return [
                dataclasses.replace(s, endpoint=f"{s.endpoint}{NAME}")
                for s in await super().topic_subscriptions(topic)
            ]

        async def alarm_history(self, name):
            history = await super().alarm_history(name)
            return taint(history, {"Alarm updated": f"Alarm {ERR} updated", "{}": f'{{"x": "{ERR}"}}'})

    service = HostileAlarms()
    service.alarms = [
        dataclasses.replace(a, name=f"{a.name}{NAME}", reason=f"{ERR}", metric_name=f"M{NAME}",
                            log_group=f"g{NAME}", alarm_actions=tuple(f"{t}{NAME}" for t in a.alarm_actions),
                            actions_enabled=True)
        for a in service.alarms
    ]  # fmt: skip
    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot)
        app.push_screen(AlarmsScreen(app.clusters[0], service, poll_interval=0, clock=lambda: NOW))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AlarmsScreen) and screen.alarms
        assert_safe(drawn_text(app), literal=("[red]n[/]", "[@click=app.quit]quit[/]"))
        screen.table.focus()
        ok = next(
            i
            for i, a in enumerate(screen.alarms)
            if a.state == "OK" and a.actions_enabled and a.alarm_actions
        )
        screen.table.move_cursor(row=ok)  # an alarm in OK: its test-fire notifies, naming the subscribers
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, TestFireConfirm)
        assert_safe(drawn_text(app), literal=("example.com[red]n[/]",))
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, AlarmHistoryScreen)
        assert_safe(drawn_text(app), literal=("[@click=app.quit]quit[/]",))


async def test_failover_screen_draws_names_and_errors_as_text(tmp_path) -> None:
    from screens.failover import FailoverScreen
    from screens.failover_services import FailoverServices

    app = hostile_app()
    source = HostileSource("host_unreachable")

    async def snapshot(cluster):
        return await source.snapshot(cluster)

    async def make_context(cluster):
        raise OSError(f"cannot open the journal: {ERR}")

    services = FailoverServices(snapshot=snapshot, make_context=make_context, timeline=Timeline("lab-hadr"),
                                state_dir=tmp_path / "state", clock=lambda: fx.NOW, animate=False)  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot)
        app.push_screen(FailoverScreen(app.clusters[0], services))
        await settle(pilot)
        assert isinstance(app.screen, FailoverScreen)
        assert_safe(drawn_text(app), literal=("[red]n[/]",))


async def test_setup_wizard_plan_view_draws_remote_stderr_and_targets_as_text(tmp_path) -> None:
    from wizard.wizard_app import fixed_cluster, scripted_run_plan, services_for
    from wizard_harness import NoHosts

    from screens.setup_monitoring import SetupMonitoringScreen
    from tui.widgets.plan_page import PlanPage
    from tui.widgets.plan_view import PlanSteps

    async def hostile_run_plan(plan, ctx, **kw):
        result = await scripted_run_plan(plan, ctx, **kw)
        return taint(result, {"host unreachable": f"host unreachable: {ERR}", "db2b": HOST_B})

    cluster = fixed_cluster()
    services = services_for(cluster, NoHosts(), tmp_path, run_plan=hostile_run_plan)
    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot)
        app.push_screen(SetupMonitoringScreen(cluster, services, page="plan"))
        await settle(pilot)
        screen = app.screen
        screen.query_one("#wizard-pages").focus()
        await pilot.press("d")  # the dry run (scripted: cron@db2b failed, its host unreachable)
        page = screen.query_one(PlanPage)
        for _ in range(300):
            await pilot.pause(0.02)
            if page.last_result is not None:
                break
        await settle(pilot)
        assert page.last_result is not None
        assert_safe(drawn_text(app), literal=("[red]n[/]",))
        steps = screen.query_one(PlanSteps)
        steps.focus()
        steps.move_cursor(row=[key.value for key in steps.rows].index("cron@db2b"))
        await settle(pilot)
        text = drawn_text(app)
        assert "host unreachable" in text  # the failed step's message, from the run
        assert_safe(text, literal=LITERALS)


async def test_logs_screen_and_insights_results_draw_aws_names_and_messages_as_text() -> None:
    from logs_screen.logscreen_data import FakeLogsService, diag_entries

    from screens.logs import LogsScreen
    from services.logs.insights import InsightsResult
    from services.logs.model import entries_from_text

    row = {"@timestamp": "2026-11-26 10:05:00.000", "@logStream": f"Db2 - i-0bbb{NAME}",
           "@message": f"{diag_entries(0)[1].text}\n{ERR}"}  # fmt: skip
    result = InsightsResult("Complete", ("@timestamp", "@logStream", "@message"), (row,), "q1")
    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot)
        screen = LogsScreen(app.clusters[0], FakeLogsService(result), start_tail=False)
        app.push_screen(screen)
        await settle(pilot)
        screen.view.add_entries(entries_from_text(f"{diag_entries(0)[1].text}\n{ERR} {NAME}\n", "diag"))
        await settle(pilot)
        assert_safe(drawn_text(app))
        await pilot.press("i")
        await pilot.click("#insights-run")
        for _ in range(100):
            await pilot.pause(0.02)
            if "Complete" in str(screen.query_one("#insights-status").render()):
                break
        await settle(pilot)
        # the result row's stream (an AWS name) and message are in the detail, markup as text
        assert_safe(drawn_text(app), literal=("i-0bbb[red]n[/]", "[@click=app.quit]quit[/]"))


async def test_setup_proof_page_draws_event_messages_as_text(tmp_path) -> None:
    from wizard.wizard_app import fixed_cluster, proof_events, scripted_prove, services_for
    from wizard_harness import NoHosts

    from screens.setup_monitoring import SetupMonitoringScreen

    events = taint(proof_events(ok=False), {"NOSUCHWORD": ERR, "db2-db-worker-audit-log": f"group{NAME}"})
    cluster = fixed_cluster()
    services = services_for(cluster, NoHosts(), tmp_path, prove=scripted_prove(events))
    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot)
        app.push_screen(SetupMonitoringScreen(cluster, services, page="proof"))
        await settle(pilot)
        app.screen.query_one("#wizard-pages").focus()
        await pilot.press("f", "y")  # it pages the subscribers: asked first (ConfirmProve)
        for _ in range(100):
            await pilot.pause(0.02)
            if "metric never ticked" in drawn_text(app):
                break
        await settle(pilot)
        assert_safe(drawn_text(app), literal=("group[red]n[/]", "[@click=app.quit]quit[/]"))


async def test_ha_wizard_plan_view_draws_db2cm_output_and_stderr_as_text(tmp_path) -> None:
    from ha_setup.ha_wizard_app import fixed_cluster, services_for
    from wizard_harness import NoHosts, failed_run

    from screens.setup_ha import SetupHaScreen
    from services.plans import StepResult
    from tui.widgets.plan_page import PlanPage
    from tui.widgets.plan_view import PlanSteps

    listing = f"Cluster Status\nDomain information:\nDomain name = lab{NAME}\nNode {HOST_B} Offline {ERR}"

    async def run_plan(plan, ctx, *, mode, progress=None, confirm=None, state_dir=None):
        steps = [StepResult(s.id, s.title, s.target, s.explain) for s in plan.steps]
        for result in steps:
            result.status, result.message = "planned", "would run"
        steps[-1].status, steps[-1].message = "failed", f"db2cm -list said:\n{listing}"
        return failed_run(plan, mode, steps, steps[-1].step_id, f"db2cm failed: {ERR}")

    cluster = fixed_cluster()
    services = services_for(NoHosts(), tmp_path, run_plan=run_plan)
    app = hostile_app()
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot)
        app.push_screen(SetupHaScreen(cluster, services, page="plan"))
        await settle(pilot)
        screen = app.screen
        screen.query_one("#wizard-pages").focus()
        await pilot.press("d")
        page = screen.query_one(PlanPage)
        for _ in range(300):
            await pilot.pause(0.02)
            if page.last_result is not None:
                break
        await settle(pilot)
        steps = screen.query_one(PlanSteps)
        steps.focus()
        steps.move_cursor(row=steps.row_count - 1)
        await settle(pilot)
        text = drawn_text(app)
        assert "db2cm -list said" in text
        assert_safe(text, literal=("[@click=app.quit]quit[/]", "lab[red]n[/]"))
