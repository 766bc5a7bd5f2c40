"""The console header: breadcrumbs, cluster, environment and the READ-ONLY / LAB / PAUSED / REC badges.

Badges are words in brackets, not colours alone, so they read the same under NO_COLOR.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from services.inventory.model import Cluster
from tui.app import Db2OpsApp


def header_content(
    crumbs: str,
    cluster: Cluster | None,
    paused: bool,
    interval: float,
    extra: str = "",
    replay: str = "",
    recording: str = "",
) -> Content:
    """Return the header line for a screen; pure so tests can read it. With `replay` (the recorded time
    and play state) the line says REPLAY with it instead of the live modes and refresh interval.
    `recording`: the app's `recording` ("REC", "recording paused: why", or "" when it does not record)."""
    parts: list[str | tuple[str, str]] = [(" db2ops ", "bold reverse"), f" {crumbs} "]
    if replay:
        parts += [(" REPLAY ", "bold $warning reverse"), " ", (replay, "bold"), " "]
    if cluster is not None:
        parts += [
            ("│ ", "$foreground-muted"),
            (cluster.name, "bold"),
            (f"  env {cluster.environment} ", "$foreground-muted"),
        ]
        if replay:
            pass  # a recording changes nothing: no read/write mode to show
        elif cluster.read_only:
            parts += [" ", (" READ-ONLY ", "bold $warning reverse")]
        else:
            parts += [" ", (" READ-WRITE ", "bold $error reverse")]
        if cluster.lab:
            parts += [" ", (" LAB ", "bold $accent reverse")]
    if extra:
        parts += [("  " + extra, "$foreground-muted")]
    if replay:
        return Content.assemble(*parts)
    if paused:
        parts += [" ", (" PAUSED ", "bold $error reverse")]
    parts += [(f"  refresh {interval:g}s", "$foreground-muted")]
    if recording == "REC":
        parts += [" ", (" REC ", "bold $success reverse")]
    elif recording:
        why = recording if len(recording) <= 70 else recording[:69] + "…"
        parts += ["  ", (f"[{why}]", "bold $warning")]
    return Content.assemble(*parts)


class ConsoleHeader(Static):
    """Header line; re-renders itself when the app's pause state or refresh interval changes."""

    DEFAULT_CSS = """
    ConsoleHeader { dock: top; height: 1; background: $panel; color: $foreground; }
    """

    def __init__(self, crumbs: str, cluster: Cluster | None = None, extra: str = "") -> None:
        super().__init__(id="header")
        self.crumbs = crumbs
        self.cluster = cluster
        self.extra = extra

    def on_mount(self) -> None:
        app = self.app  # the header also shows in a bare App (screen tests): defaults there
        if isinstance(app, Db2OpsApp):
            app.console_state_signal.subscribe(self, lambda _state: self.redraw())
        self.redraw()

    def set_cluster(self, cluster: Cluster | None, extra: str | None = None) -> None:
        self.cluster = cluster
        if extra is not None:
            self.extra = extra
        self.redraw()

    def redraw(self) -> None:
        app = self.app
        console = app if isinstance(app, Db2OpsApp) else None
        paused = console.paused if console is not None else False
        interval = console.refresh_interval if console is not None else 2.0
        replay = console.replay_label() if console is not None else ""
        # a replay records nothing: no REC badge there
        recording = console.recording if console is not None and not replay else ""
        self.update(
            header_content(self.crumbs, self.cluster, paused, interval, self.extra, replay, recording)
        )
