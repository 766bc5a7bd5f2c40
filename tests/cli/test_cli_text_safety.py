"""Terminal escape sequences from inventory names and remote text never reach the terminal: the inventory
refuses names with control characters (naming the field), and everything a headless command prints goes
through services.text_safety (journal messages carry remote stderr)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.plans.journal import Journal
from services.text_safety import safe_line, safe_text
from tui.cli import main

HOSTILE = "evil\x1b]0;pwned\x07[bold]x"


def test_safe_text_strips_escape_sequences_and_controls_but_keeps_text() -> None:
    assert safe_text(HOSTILE) == "evil[bold]x"  # the OSC (retitle the terminal) goes whole
    assert safe_text("a\x1b[31mred\x1b[0m\x9b2Jb\x9d0;t\x9c\r\x00\x7f\n\tz") == "aredb\n\tz"
    assert safe_text("\x1bPdcs\x1b\\ok\x1b(B") == "ok"
    assert safe_line("a\nb\tc") == "a b c"
    assert safe_text("plain — ünïcode") == "plain — ünïcode"


def test_a_hostile_cluster_name_is_refused_by_the_inventory_naming_the_field(tmp_path: Path, capsys) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        'clusters:\n  - name: "evil\\e]0;pwned\\a[bold]x"\n    hosts:\n'
        "      - {name: db2a, address: 127.0.0.1}\n      - {name: db2b, address: 127.0.0.1}\n"
    )
    assert main(["--inventory", str(inventory), "status"]) == 2
    err = capsys.readouterr().err
    assert "name contains control characters or terminal escape sequences" in err
    assert "\x1b" not in err and "\x07" not in err


@pytest.fixture
def journal_with_remote_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Journal:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no default inventory
    journal = Journal()
    journal.record(
        who="dba", cluster="[bold]c1", plan="monitoring", run_id="R1", step_id="cron@db2a",
        step_title="cron", target="db2a", result="failed",
        message="apply failed: crontab: \x1b]0;pwned\x07\x1b[2Jbad line",
    )  # fmt: skip
    return journal


@pytest.mark.parametrize("form", [[], ["--markdown"], ["--json"]], ids=["text", "markdown", "json"])
def test_journal_output_carries_no_escape_sequence(journal_with_remote_stderr, capsys, form) -> None:
    assert main(["journal", *form]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "crontab: " in out and "bad line" in out and "[bold]c1" in out
