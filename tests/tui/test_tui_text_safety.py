"""The console's toasts show names, remote errors and filter patterns as text: never as markup (a name
"[/oops]" used to be parsed), and never with terminal escape sequences."""

from __future__ import annotations

import tui_fixtures as fx

from tui.app import Db2OpsApp

HOSTILE = "[/oops][bold]evil\x1b]0;pwned\x07\x1b[2J"


async def test_a_hostile_name_in_a_toast_is_plain_text_without_escapes() -> None:
    source = fx.FakeStatusSource("healthy")
    app = Db2OpsApp(fx.inventory(), fx.settings(), status_source=source, runner=fx.FakeLabRunner(source),
                    clock=lambda: fx.NOW)  # fmt: skip
    async with app.run_test(size=(160, 50)) as pilot:
        app.open_cluster(HOSTILE)
        app.notify("filter [w1, w2=ERROR*] ok", title="Log\x1b[31m events")
        await pilot.pause()
        await pilot.pause()
        shown = [(n.message, n.title, n.markup) for n in app._notifications]
        # repr() of the typed name shows its escapes as \\x1b text; the toast is plain text, not markup
        assert shown[0][0].startswith("no cluster '[/oops][bold]evil") and shown[0][2] is False
        assert ("filter [w1, w2=ERROR*] ok", "Log events", False) in shown
        assert all("\x1b" not in m + t and "\x07" not in m + t for m, t, _ in shown)
