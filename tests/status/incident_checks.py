"""Checks every headline test applies at every moment: the advice is safe for the state it is shown in,
and the banner, the fleet row, `status` text and `status --json` say the same first line."""

from __future__ import annotations

import re

from services.inventory.model import Cluster
from services.status.incident import INCIDENT_CODES, Headline, build_headline, transition_pending
from services.status.model import ClusterStatus
from services.status.render_json import status_to_dict
from services.status.render_text import render_status_text

_NO_CLEANUP = re.compile(r"(no|do not run|before) `crm resource cleanup")


def recommends_cleanup(hint: str) -> bool:
    """True when `hint` tells the DBA to run `crm resource cleanup` (not when it warns against it)."""
    return "crm resource cleanup" in hint and not _NO_CLEANUP.search(hint)


def every_hint(s: ClusterStatus, head: Headline) -> list[str]:
    return [head.hint, *(v.hint for v in s.verdicts)]


def check_advice(s: ClusterStatus, head: Headline, where: str) -> None:
    """The state-independent rules of issue 9 item 2, at one moment."""
    hints = every_hint(s, head)
    for text in [head.title, *head.consequences, *hints]:
        assert "..." not in text and "{" not in text, f"{where}: unfilled value in {text!r}"
    if transition_pending(s):
        bad = [h for h in hints if recommends_cleanup(h)]
        assert not bad, f"{where}: cleanup advised while Pacemaker acts: {bad}"
        # nor starting the lost node while Pacemaker promotes the other (the in-progress hint says wait)
        starts = [h for h in hints if h.startswith("start ") or "`crm cluster start`" in h]
        assert not starts, f"{where}: a start advised while Pacemaker acts: {starts}"
    for v in s.verdicts:
        if v.code != "hadr_disconnected":
            continue
        # "start the standby instance" only when it does not run
        running = [h for h, p in s.hadr.items() if p.ok and p.value is not None and p.value.activated]
        if len(running) == 2:
            assert "db2start" not in v.hint and "start the standby" not in v.hint, f"{where}: {v.hint}"


def check_same_everywhere(s: ClusterStatus, now: float, cluster: Cluster, where: str) -> Headline:
    """The banner, the fleet row, the text and the JSON all lead with the same headline."""
    from screens.fleet import COLUMNS, HADR_WIDTH, fleet_row
    from services.status.poll import ClusterFeed
    from tui.widgets.banner import banner_text, short_message

    head = build_headline(s, now)
    banner = banner_text(s, None, now)
    want = head.title if head.code in INCIDENT_CODES else short_message(head.title)
    assert banner.headline == want, where
    if head.hint:
        assert banner.details[0] == f"→ {head.hint}", where
    assert render_status_text(s, now).splitlines()[0].endswith(head.title), where
    doc = status_to_dict(s, now)["headline"]
    assert (doc["code"], doc["title"], doc["hint"]) == (head.code, head.title, head.hint), where
    feed = ClusterFeed(cluster)
    feed.apply(s)
    layout = dict.fromkeys(COLUMNS, 0) | {"HADR": HADR_WIDTH, "Verdict": 300}
    verdict = fleet_row(feed, now, 2.0, layout)[COLUMNS.index("Verdict")]
    assert head.brief in verdict.plain, f"{where}: fleet says {verdict.plain!r}"
    return head
