"""The verdict banner wraps with a hanging indent: continuation lines stay under the text, never back
under the severity badge (a reviewer saw "started 4 s ago" at column 0 at 100 columns)."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from services.status.model import Severity
from tui.widgets.banner import BannerText, VerdictBanner

HEADLINE = "failover in progress: Pacemaker is promoting db2b after db2a stopped answering, started 4 s ago"
HINT = (
    "→ wait for the promotion of db2b (watch `crm_mon -1`); do not run `crm resource cleanup` "
    "or start db2a until db2b is Promoted"
)


class _BannerApp(App):
    def compose(self) -> ComposeResult:
        yield VerdictBanner(id="banner")

    def on_mount(self) -> None:
        text = BannerText(Severity.CRITICAL, HEADLINE, (HINT, "· db2a is offline"))
        self.query_one(VerdictBanner).show(text)


def _rows(app: App) -> list[str]:
    banner = app.query_one(VerdictBanner)
    return [strip.text for strip in banner.render_lines(banner.region.reset_offset)]


@pytest.mark.parametrize("width", [160, 100, 80, 60])
async def test_banner_lines_wrap_under_their_text_at_every_width(width):
    app = _BannerApp()
    async with app.run_test(size=(width, 12)) as pilot:
        await pilot.pause()
        rows = _rows(app)
    text_column = len(" CRITICAL ") + 2 + 1  # padding 1, badge, two spaces
    joined = " ".join(r.strip() for r in rows)
    # every word is drawn, none is lost to the indent
    for word in ("started", "4 s ago", "Promoted", "db2a is offline"):
        assert word in joined
    assert rows[0].lstrip().startswith("CRITICAL")
    for row in rows[1:]:
        if not row.strip():
            continue
        indent = len(row) - len(row.lstrip())
        assert indent >= text_column, f"{row!r} wraps under the badge at {width} columns"
    # a hint's continuation hangs under the hint's words, past its arrow
    hint_rows = [i for i, r in enumerate(rows) if "→" in r]
    assert hint_rows
    follow = rows[hint_rows[0] + 1]
    if "db2a is offline" not in follow:
        assert len(follow) - len(follow.lstrip()) == rows[hint_rows[0]].index("→") + 2
