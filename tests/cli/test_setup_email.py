"""The runbook subscribes an e-mail address to the alarm topic: `setup monitoring --apply` asks for one
(`--set email=ADDRESS`) and goes on without only when told to (`--no-email`), with a warning."""

from __future__ import annotations

from pathlib import Path

import pytest

import tui.cli
from services.monitoring.params import EMAIL_REQUIRED, NO_EMAIL_WARNING

INVENTORY = Path(__file__).resolve().parents[2] / "examples" / "inventory.yaml"


def test_apply_without_an_email_is_refused_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--inventory", str(INVENTORY), "setup", "monitoring", "--cluster", "prod-hadr", "--apply"]
    assert tui.cli.main(argv) == 2
    err = capsys.readouterr().err
    assert EMAIL_REQUIRED in err and "--no-email" in err


def test_the_dry_run_without_an_email_warns_that_nobody_will_be_notified(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[str] = []

    def setup(*args, **kwargs):
        ran.append(kwargs["mode"])

        async def done() -> int:
            return 0

        return done()

    monkeypatch.setattr("services.monitoring.cli.run_setup_monitoring", setup)
    argv = ["--inventory", str(INVENTORY), "setup", "monitoring", "--cluster", "prod-hadr"]
    assert tui.cli.main(argv) == 0
    assert NO_EMAIL_WARNING in capsys.readouterr().err and ran == ["dry-run"]
    # --no-email: apply goes on, after the same warning
    assert tui.cli.main([*argv, "--apply", "--no-email"]) == 0
    assert NO_EMAIL_WARNING in capsys.readouterr().err and ran == ["dry-run", "apply"]
    # with an address: no warning
    assert tui.cli.main([*argv, "--apply", "--set", "email=dba@example.com"]) == 0
    assert NO_EMAIL_WARNING not in capsys.readouterr().err


async def test_prove_names_a_test_role_only_when_asked_and_checks_it() -> None:
    import io

    from services.inventory.loader import load_inventory
    from services.monitoring.cli import EXIT_USAGE, run_prove_it_fires

    out = io.StringIO()
    inventory = load_inventory(str(INVENTORY))
    code = await run_prove_it_fires(inventory, "prod-hadr", as_json=False, out=out, test_role="x; drop")
    assert code == EXIT_USAGE and "test role 'x; drop' is not a Db2 authorization id" in out.getvalue()
    assert (
        tui.cli.build_parser()
        .parse_args(["setup", "monitoring", "--cluster", "c", "--prove"])
        .setup_test_role
        == ""
    )
