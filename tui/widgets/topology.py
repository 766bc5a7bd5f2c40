"""The topology picture: two Db2 nodes, the qdevice host below, the overlay-IP arrow to the route target.

Drawn with box characters into a character grid so the geometry is testable as plain text:

            overlay IP 192.168.1.81
                     │
                     ▼
     ╔════════════════╗        ┌────────────────┐
     ║ db2a ★         ║━━HADR━━│ db2b           │
     ...
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content

from services.words import plural
from tui.widgets.format import fit_text, format_age

BOX_W = 20
GAP = 14
QBOX_W = 18


DOWN_STATES = ("OFFLINE", "UNCLEAN", "not in cluster")


@dataclass(frozen=True)
class TopoNode:
    name: str
    state: str  # online / OFFLINE / standby / UNCLEAN / ?
    hadr_role: str  # PRIMARY / STANDBY / "?"
    promoted: bool = False
    stale: bool = False
    unreachable: bool = False  # SSH to the host failed in the last poll
    seen_age: float | None = None  # seconds since the host last answered, when it no longer does

    @property
    def down(self) -> bool:
        return self.state in DOWN_STATES or self.unreachable

    @property
    def hadr_line(self) -> str:
        """The box's third line: the HADR role, or why there is no current one ("unreachable 40s": how
        long ago it last answered). A stale role is never drawn: it could read as a second primary."""
        if self.unreachable:
            return "unreachable" + (f" {format_age(self.seen_age)}" if self.seen_age is not None else "")
        if self.stale or self.hadr_role == "?":
            return "HADR unknown"
        return f"HADR {self.hadr_role}"


@dataclass(frozen=True)
class Topology:
    nodes: tuple[TopoNode, ...]
    qdevice_host: str | None
    qdevice_state: str  # "qnetd up" / "qnetd DOWN" / "?"
    hadr_state: str  # HADR state between the pair (PEER, DISCONNECTED, ?)
    overlay_ip: str | None
    route_target: str | None  # host name the route points at (None: unknown / not a cluster host)
    extra_nodes: int = 0  # db hosts beyond the two drawn
    # "ok" (PEER), "degraded" (connected, not PEER), "broken"; "" derives it from hadr_state
    hadr_link: str = ""

    @property
    def link(self) -> str:
        if self.hadr_link:
            return self.hadr_link
        return "ok" if self.hadr_state == "PEER" else "broken"


class _Grid:
    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.chars = [[" "] * width for _ in range(height)]
        self.styles: list[list[str]] = [[""] * width for _ in range(height)]

    def put(self, row: int, col: int, text: str, style: str = "") -> None:
        for i, ch in enumerate(text):
            if 0 <= col + i < self.width:
                self.chars[row][col + i] = ch
                self.styles[row][col + i] = style

    def box(
        self, row: int, col: int, width: int, lines: list[tuple[str, str]], style: str, double: bool
    ) -> None:
        h, v, tl, tr, bl, br = "═║╔╗╚╝" if double else "─│┌┐└┘"
        self.put(row, col, tl + h * (width - 2) + tr, style)
        for i, (text, text_style) in enumerate(lines, start=1):
            self.put(row + i, col, v, style)
            self.put(row + i, col + 1, " " + fit_text(text, width - 3).ljust(width - 3), text_style)
            self.put(row + i, col + width - 1, v, style)
        self.put(row + len(lines) + 1, col, bl + h * (width - 2) + br, style)

    def content(self) -> Content:
        lines = []
        for chars, styles in zip(self.chars, self.styles, strict=True):
            parts: list[tuple[str, str]] = []
            for ch, st in zip(chars, styles, strict=True):
                if parts and parts[-1][1] == st:
                    parts[-1] = (parts[-1][0] + ch, st)
                else:
                    parts.append((ch, st))
            lines.append(Content.assemble(*parts).rstrip())
        return Content("\n").join(lines)


def link_label(state: str, width: int) -> list[str]:
    """Return the HADR state in at most two lines of `width` (long states break at "_")."""
    if len(state) <= width:
        return [state]
    cut = state.rfind("_", 0, width)
    if cut <= 0:
        return [fit_text(state, width)]
    return [state[:cut], fit_text(state[cut:], width)]


def _node_style(node: TopoNode) -> str:
    if node.down:
        return "$error"
    if node.stale:
        return "$foreground-muted"
    if node.promoted:
        return "$success bold"
    return "$foreground"


def draw_topology(topo: Topology) -> Content:
    """Return the picture as Content (13 lines, 56 columns)."""
    width = 2 + BOX_W * 2 + GAP
    grid = _Grid(width, 13)
    lefts = [1, 1 + BOX_W + GAP]
    nodes = list(topo.nodes[:2])
    centers = [left + BOX_W // 2 for left in lefts]
    for node, left in zip(nodes, lefts, strict=False):
        style = _node_style(node)
        state_style = "$error bold" if node.down else style
        name = fit_text(node.name, BOX_W - 5)
        lines = [
            (f"{name} ★" if node.promoted else name, style),
            (f"{node.state} promoted" if node.promoted else node.state, state_style),
            (node.hadr_line, state_style if node.unreachable else style),
        ]
        grid.box(3, left, BOX_W, lines, style, double=node.promoted)
        grid.put(7, left + BOX_W // 2, "┬", style)
        grid.put(8, left + BOX_W // 2, "│", "$foreground-muted")
    # the HADR link between the two boxes
    if len(nodes) == 2:
        link = topo.link
        link_style = {"ok": "$success", "degraded": "$warning"}.get(link, "$error")
        line = {"ok": "━", "degraded": "─"}.get(link, "╌")
        gap_left = lefts[0] + BOX_W
        grid.put(4, gap_left, line * GAP, link_style)
        label = "HADR ✘" if link == "broken" else "HADR"  # a word and a mark, not colour alone
        grid.put(4, gap_left + (GAP - len(label)) // 2, label, link_style)
        for row, text in enumerate(link_label(topo.hadr_state, GAP), start=5):
            grid.put(row, gap_left, text.center(GAP), link_style + " bold")
    # the overlay IP arrow, over the box the route points at
    target_idx = next((i for i, n in enumerate(nodes) if n.name == topo.route_target), None)
    ip_text = f"overlay IP {topo.overlay_ip or '?'}"
    if target_idx is None:
        col = width // 2
        grid.put(0, max(0, col - len(ip_text) // 2), ip_text, "$warning")
        grid.put(1, col, "│", "$warning")
        grid.put(2, max(0, col - 9), "▼ route target ?", "$warning")
    else:
        col = centers[target_idx]
        promoted = nodes[target_idx].promoted
        style = "$accent bold" if promoted else "$error bold"
        grid.put(0, max(0, min(width - len(ip_text), col - len(ip_text) // 2)), ip_text, style)
        grid.put(1, col, "│", style)
        grid.put(2, col, "▼" if promoted else "▼ NOT the promoted node", style)
    # qdevice host below, wired to both nodes
    q_left = (width - QBOX_W) // 2
    q_style = "$success" if topo.qdevice_state == "qnetd up" else "$error"
    if topo.qdevice_host is None:
        grid.put(10, q_left, "no qdevice host in inventory", "$warning")
    else:
        grid.box(
            9, q_left, QBOX_W, [(topo.qdevice_host, "bold"), (topo.qdevice_state, q_style)], q_style, False
        )
        for center in centers[: len(nodes)]:
            grid.put(9, center, "│", "$foreground-muted")
        if nodes:
            grid.put(10, centers[0], "└" + "─" * (q_left - centers[0] - 1), "$foreground-muted")
            grid.put(10, q_left, "┤", q_style)
        if len(nodes) == 2:
            right = q_left + QBOX_W - 1
            grid.put(10, right, "├", q_style)
            grid.put(10, right + 1, "─" * (centers[1] - right - 1) + "┘", "$foreground-muted")
    if topo.extra_nodes:
        grid.put(12, 0, f"+{plural(topo.extra_nodes, 'more db host')} not drawn", "$foreground-muted")
    return grid.content()
