"""`db2ops setup ha --apply` on a not-yet-clustered lab behind the fault proxy, a fault injected mid-run (a
host dropped, reset, stalled or slowed during a host-command step; AWS throttling, 500s, a stall, a drop, a
reset or a lost reply during the overlay-IP steps): no crash, a clear error naming the host or the AWS call
with the re-run to do, the journal complete (intent and outcome of every step sent), and a re-run after
the fault heals completes with no duplicate route, IAM policy, policy version, attachment or cluster
object. tests/plan_faults.py holds the cases and the checks; bench/fault_report.py runs all of them."""

from __future__ import annotations

import pytest
from plan_faults import HA_CASES, run_case

# a representative part of bench/fault_report.py's cases: every fault kind, every AWS step, both kinds of
# host step (before a command is sent, after a change is made)
CI_CASES = {
    "ha-pcmk-install@db2b-db2b-drop",
    "ha-pcmk-install@db2b-db2b-stall",
    "ha-pcmk-install@db2b-db2b-slow",
    "ha-db2cm-cluster-db2a-reset",
    "ha-db2cm-cluster-db2a-stall",
    "ha-src-dst-check@db2a-aws-500",
    "ha-src-dst-check@db2a-aws-stall",
    "ha-iam-policy-aws-lose-reply",
    "ha-iam-attach-aws-throttle-all",
    "ha-iam-attach-aws-reset",
    "ha-overlay-route-aws-throttle",
    "ha-overlay-route-aws-drop",
    "ha-overlay-route-aws-lose-reply",
}


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.mark.parametrize("case", [c for c in HA_CASES if c.name in CI_CASES], ids=lambda c: c.name)
async def test_ha_setup_under_a_fault(case, tmp_path) -> None:
    result = await run_case(case, tmp_path)
    assert result.ok, "\n".join(result.problems)
    if case.must_fail:
        assert result.injected > 0 and result.first_code == 1


def test_the_ci_cases_exist() -> None:
    assert CI_CASES <= {c.name for c in HA_CASES}
