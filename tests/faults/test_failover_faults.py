"""`db2ops failover --apply --json` on the lab behind the fault proxy, a fault injected during the
preflight (the target's constraints read), the act (before the takeover is sent, or after it answered) and
the verify (the old primary gone, the route reads failing or stalled): no crash, a clear error naming the
host or the part, the journal complete, the report listing what was sent (the takeover above all), and a
re-run after the fault heals ends with the cluster on the target. Cases and checks: tests/plan_faults.py."""

from __future__ import annotations

import pytest
from plan_faults import FAILOVER_CASES, run_case

CI_CASES = {
    "failover-preflight-db2b-drop",
    "failover-preflight-db2b-stall",
    "failover-act-db2b-reset",
    "failover-act-db2b-stall",
    "failover-act-answered-db2b-drop",
    "failover-act-answered-db2b-slow",
    "failover-verify-db2a-drop",
    "failover-verify-aws-500-all",
    "failover-verify-aws-stall",
}


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.mark.parametrize("case", [c for c in FAILOVER_CASES if c.name in CI_CASES], ids=lambda c: c.name)
async def test_failover_under_a_fault(case, tmp_path) -> None:
    result = await run_case(case, tmp_path)
    assert result.ok, "\n".join(result.problems)
    if case.must_fail:
        assert result.injected > 0 and result.first_code == 1


def test_the_ci_cases_exist() -> None:
    assert CI_CASES <= {c.name for c in FAILOVER_CASES}
