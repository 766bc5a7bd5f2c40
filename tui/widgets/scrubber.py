"""The replay's time scrubber: one line above the footer with the recorded time, where it sits in the
recording (a bar with a tick per change), play state and the keys that move it."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widgets import Static

from services.record.replay_feed import format_when


def scrubber_content(
    at: float,
    span: tuple[float, float],
    changes: Sequence[float],
    *,
    playing: bool,
    speed: float,
    width: int,
) -> Content:
    """Return the scrubber line: "▶ 10× 2026-12-06 03:12:33 UTC  [──┼─●──┼──]  change 3/7  [ ] p > g"."""
    state = (f"▶ {speed:g}×", "bold $success") if playing else ("⏸ paused", "bold $warning")
    index = sum(1 for t in changes if t <= at + 1e-6)
    tail = f"  change {index}/{len(changes)}  [ ] step  p play  > speed  g go to"
    head_len = len(state[0]) + 1 + len(format_when(at)) + 2
    bar_w = max(10, width - head_len - len(tail) - 2)
    start, end = span
    length = max(end - start, 1e-9)

    def col(t: float) -> int:
        return min(bar_w - 1, max(0, round((t - start) / length * (bar_w - 1))))

    cells = ["─"] * bar_w
    for t in changes:
        cells[col(t)] = "┼"
    here = col(at)
    bar = Content.assemble(
        ("".join(cells[:here]), "$accent"),
        ("●", "bold $accent"),
        ("".join(cells[here + 1 :]), "$foreground-muted"),
    )
    return Content.assemble(
        state, " ", (format_when(at), "bold"), " [", bar, "]", (tail, "$foreground-muted")
    )


class ReplayScrubber(Static):
    """Redraws from the replay app's clock whenever the app publishes a console-state change."""

    DEFAULT_CSS = """
    ReplayScrubber { dock: bottom; height: 1; margin-bottom: 1; background: $boost; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__(id="scrubber")

    def on_mount(self) -> None:
        from tui.replay import ReplayApp

        if isinstance(self.app, ReplayApp):
            self.app.console_state_signal.subscribe(self, lambda _state: self.redraw())
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        from tui.replay import ReplayApp

        app = self.app
        if not isinstance(app, ReplayApp):
            return
        clock = app.replay_clock
        changes = app.feeder.change_times(app.focus_cluster())
        width = self.size.width or app.size.width - 2
        self.update(
            scrubber_content(
                clock.at,
                (clock.start, clock.end),
                changes,
                playing=clock.playing,
                speed=clock.speed,
                width=width,
            )
        )
