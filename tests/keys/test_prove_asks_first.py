"""`f` on the monitoring wizard ("prove it fires") pages the alarm's subscribers: it asks first, and the
cancel path runs nothing."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "wizard"))

from wizard_app import SIZE, fixed_cluster, proof_events, services_for, wizard_app  # noqa: E402

from screens.setup_monitoring import SetupMonitoringScreen  # noqa: E402
from screens.setup_proof import ConfirmProve  # noqa: E402


class NoHosts:
    async def run(self, *args, **kwargs):
        raise AssertionError("no host may be contacted")


def counting_prove(runs: list[int]):
    async def prove(ctx, params, *, extras, history, options=None, state_dir=None):
        runs.append(1)
        for event in proof_events(ok=True):
            yield event

    return prove


async def test_prove_asks_and_cancel_runs_nothing(tmp_path):
    runs: list[int] = []
    cluster = fixed_cluster()
    app = wizard_app(
        cluster, services_for(cluster, NoHosts(), tmp_path, prove=counting_prove(runs)), page="proof"
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = next(s for s in app.screen_stack if isinstance(s, SetupMonitoringScreen))
        screen.set_focus(None)  # a hotkey, not text: nothing has the focus
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmProve)
        question = str(app.screen.query_one("Static").render())
        assert "SNS subscribers ARE NOTIFIED" in question and "GRANT" in question
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("enter")  # the focused button is Cancel
        await app.workers.wait_for_complete()
        assert runs == [] and app.screen is screen
        await pilot.press("f", "y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert runs == [1] and screen.proof_events
