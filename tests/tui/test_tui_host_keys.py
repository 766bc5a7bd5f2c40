"""Host-key dialogs: trust writes known_hosts, refusal writes nothing, a changed key has no trust button."""

from __future__ import annotations

import asyncio

import tui_fixtures as fx
from textual.widgets import Button

from screens.host_key import HostKeyChangedDialog, HostKeyDialog
from screens.status import StatusScreen
from services.ssh.errors import HostKeyChanged, HostKeyUnknown
from tui.app import Db2OpsApp

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd0ZXN0a2V5Zm9yZGIyb3BzbGFidGVzdHMwMDAwMDAwMDAw"
FP = "SHA256:3q2+7wQk1m8yJk0rQ9bX1c2d3e4f5g6h7i8j9k0l1m2"


def make(tmp_path, changed=False):
    source = fx.FakeStatusSource("healthy")
    cls = HostKeyChanged if changed else HostKeyUnknown
    err = cls("db2b", "127.0.0.1", 22012, FP, "ssh-ed25519", f"{KEY} root@db2b", tmp_path / "known_hosts")
    (source.refused_host_keys if changed else source.pending_host_keys).append(err)
    app = Db2OpsApp(fx.inventory(), fx.settings(), status_source=source, clock=lambda: fx.NOW)
    return app, source, err


async def first_poll(pilot, app):
    await asyncio.wait_for(app.poller.wait_polls("lab-hadr", 1), 10)
    await pilot.pause()


async def test_unknown_key_dialog_shows_the_fingerprint_and_trust_writes_known_hosts(tmp_path):
    app, source, err = make(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await first_poll(pilot, app)
        assert isinstance(app.screen, HostKeyDialog)
        facts = app.screen.query_one("#hostkey-facts").render().plain
        assert FP in facts and "127.0.0.1:22012" in facts and "ssh-ed25519" in facts
        assert app.screen.focused.id == "refuse"  # the safe answer has the focus
        await pilot.press("y")
        for _ in range(200):
            if err.known_hosts.exists() and not source.pending_host_keys:
                break
            await pilot.pause(0.01)
        assert isinstance(app.screen, StatusScreen)
    assert err.known_hosts.read_text() == f"[127.0.0.1]:22012 {KEY}\n"
    assert source.pending_host_keys == []


async def test_refusing_writes_nothing_and_is_not_asked_again_each_poll(tmp_path):
    app, source, err = make(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await first_poll(pilot, app)
        await pilot.click("#refuse")
        assert isinstance(app.screen, StatusScreen)
        app.poller.refresh_now()
        await asyncio.wait_for(app.poller.wait_polls("lab-hadr", 2), 10)
        await pilot.pause()
        assert isinstance(app.screen, StatusScreen)  # not asked again
        assert any("Not trusted: db2ops will not connect to db2b" in n.message for n in app._notifications)
    assert not err.known_hosts.exists()
    assert source.pending_host_keys == [err]


async def test_changed_key_is_refused_with_the_ssh_keygen_fix_and_no_trust_button(tmp_path):
    app, source, err = make(tmp_path, changed=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await first_poll(pilot, app)
        assert isinstance(app.screen, HostKeyChangedDialog)
        assert [b.id for b in app.screen.query(Button)] == ["close"]
        fix = app.screen.query_one("#hostkey-fix").render().plain
        assert f"ssh-keygen -R '[127.0.0.1]:22012' -f {err.known_hosts}" in fix
        await pilot.press("y")  # no trust key here
        assert isinstance(app.screen, HostKeyChangedDialog)
        await pilot.press("escape")
        assert isinstance(app.screen, StatusScreen)
    assert not err.known_hosts.exists()
