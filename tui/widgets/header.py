"""The console header: breadcrumbs, cluster, environment and the READ-ONLY / LAB / PAUSED / REC badges.

Badges are words in brackets, not colours alone, so they read the same under NO_COLOR. The line never
wraps or loses a badge: when it is longer than the terminal, the environment label (then the screen's note,
the recording's reason) is cut short with an ellipsis, then the db2ops brand, the refresh hint, the
breadcrumbs and the cluster name give way, in that order. The full environment label stays in the
header's tooltip and in the `?` help of the screen (`ConsoleHeader.cut_environment`).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.widgets import Static

from services.inventory.model import Cluster
from tui.app import Db2OpsApp

# the order in which pieces give way when the line is too long (lowest first); badges never do
ENVIRONMENT, EXTRA, RECORDING_WHY, BRAND, REFRESH, CRUMBS, CLUSTER, REPLAY_TIME = range(8)


@dataclass(frozen=True)
class _Piece:
    content: Content
    rank: int | None = None  # when it gives way (the constants above); None: never (a badge)
    keep: int | None = None  # may shrink to this many cells with an ellipsis; None: shown whole or not
    drops: bool = True  # False: shrinks to `keep` at most, never goes


def _piece(text: str, style: str = "", rank: int | None = None, keep: int | None = None) -> _Piece:
    return _Piece(Content.styled(text, style), rank, keep)


def _fit(pieces: list[_Piece], width: int | None) -> list[Content]:
    """Return the pieces' content that fits `width` cells: the lowest ranks shrink (down to `keep`), then
    go, until the line fits; pieces without a rank always stay."""
    contents = [p.content for p in pieces]
    if width is None:
        return contents
    over = sum(c.cell_length for c in contents) - width
    ranked = sorted((p.rank, i) for i, p in enumerate(pieces) if p.rank is not None)
    for _rank, index in ranked:
        if over <= 0:
            break
        piece, content = pieces[index], contents[index]
        if piece.keep is not None and (content.cell_length - over >= piece.keep or not piece.drops):
            cells = max(content.cell_length - over, piece.keep)
            contents[index] = content.truncate(cells, ellipsis=True)
            over -= content.cell_length - contents[index].cell_length
        elif piece.drops:
            contents[index] = Content("")
            over -= content.cell_length
    return contents


def header_content(
    crumbs: str,
    cluster: Cluster | None,
    paused: bool,
    interval: float,
    extra: str = "",
    replay: str = "",
    recording: str = "",
    width: int | None = None,
) -> Content:
    """Return the header line for a screen; pure so tests can read it. With `replay` (the recorded time
    and play state) the line says REPLAY with it instead of the live modes and refresh interval.
    `recording`: the app's `recording` ("REC", "recording paused: why", or "" when it does not record).
    `width`: the cells the line must fit in (module docstring: what gives way first); None: no limit."""
    pieces = [_piece(" db2ops ", "bold reverse", BRAND), _piece(f" {crumbs} ", "", CRUMBS)]
    if replay:
        pieces += [_piece(" "), _piece(" REPLAY ", "bold $warning reverse")]
        pieces += [_piece(" "), _piece(replay + " ", "bold", REPLAY_TIME, keep=8)]
    if cluster is not None:
        pieces += [
            _Piece(Content.assemble(("│ ", "$foreground-muted"), (cluster.name, "bold")), CLUSTER, keep=8),
            _piece(f"  env {cluster.environment} ", "$foreground-muted", ENVIRONMENT, keep=14),
        ]
        if replay:
            pass  # a recording changes nothing: no read/write mode to show
        elif cluster.read_only:
            pieces += [_piece(" "), _piece(" READ-ONLY ", "bold $warning reverse")]
        else:
            pieces += [_piece(" "), _piece(" READ-WRITE ", "bold $error reverse")]
        if cluster.lab:
            pieces += [_piece(" "), _piece(" LAB ", "bold $accent reverse")]
    if extra:
        pieces += [_piece("  " + extra, "$foreground-muted", EXTRA, keep=10)]
    if not replay:
        if paused:
            pieces += [_piece(" "), _piece(" PAUSED ", "bold $error reverse")]
        pieces += [_piece(f"  refresh {interval:g}s", "$foreground-muted", REFRESH)]
        if recording == "REC":
            pieces += [_piece(" "), _piece(" REC ", "bold $success reverse")]
        elif recording:
            why = recording if len(recording) <= 70 else recording[:69] + "…"
            # "[recording paused" stays whatever the width: it says the recording has a gap
            pieces += [
                _piece("  "),
                _Piece(Content.styled(f"[{why}]", "bold $warning"), RECORDING_WHY, 19, False),
            ]
    return Content("").join(_fit(pieces, width))


class ConsoleHeader(Static):
    """Header line; re-renders itself when the app's pause state or refresh interval changes, and on a
    resize (what fits changes)."""

    DEFAULT_CSS = """
    ConsoleHeader { dock: top; height: 1; background: $panel; color: $foreground; }
    """

    def __init__(self, crumbs: str, cluster: Cluster | None = None, extra: str = "") -> None:
        super().__init__(id="header")
        self.crumbs = crumbs
        self.cluster = cluster
        self.extra = extra
        self.cut_environment = ""  # the full environment label when the line had to shorten it, else ""

    def on_mount(self) -> None:
        app = self.app  # the header also shows in a bare App (screen tests): defaults there
        if isinstance(app, Db2OpsApp):
            app.console_state_signal.subscribe(self, lambda _state: self.redraw())
        self.redraw()

    def on_resize(self) -> None:
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
        # docked across the screen: before the first layout its own width is 0, the screen's is right
        width = self.size.width or app.size.width
        line = header_content(
            self.crumbs, self.cluster, paused, interval, self.extra, replay, recording, width
        )
        env = self.cluster.environment if self.cluster is not None else ""
        self.cut_environment = env if env and f"env {env} " not in line.plain else ""
        self.tooltip = f"env {env}" if self.cut_environment else None
        self.update(line)
