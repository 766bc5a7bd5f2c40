"""The hostile-input suite in CI: every parser, the filter-pattern compiler/evaluator, the inventory and
settings loaders and every command builder get a few hundred mutated real samples each; only their typed
errors may escape and no case may take longer than the bound. bench/hostile_report.py runs the same
targets with 10,000 cases each and prints the figures (README, "Hostile input")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_targets import Target, run_target, scratch_dir, targets

CASES = 200
BOUND_S = 2.0  # CPU seconds per case; the slowest in the 10,000-case report is far below this
# hypothesis' own (wall-clock) deadline: a backstop only, generous so a loaded CI machine does not flake
DEADLINE_MS = 20_000

_SCRATCH = scratch_dir()
TARGETS = targets(Path(_SCRATCH.name))


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    _SCRATCH.cleanup()


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_only_typed_errors_and_no_slow_case(target: Target) -> None:
    figures = run_target(target, CASES, BOUND_S, deadline_ms=DEADLINE_MS)
    assert figures.failures == [], "\n".join(figures.failures)
    assert figures.cases >= CASES // 2, "hypothesis generated too few cases to mean anything"


def test_the_suite_covers_every_parser_loader_and_builder() -> None:
    names = {t.name for t in TARGETS}
    assert names >= {
        "crm_mon-xml", "quorum", "qdevice", "qnetd", "db2pd-hadr", "db2cm-list", "dbcfg-hadr", "db2diag",
        "db2audit", "filter-pattern", "inventory", "settings", "ha-plan", "monitoring-plan", "failover-plan",
    }  # fmt: skip


def test_an_untyped_error_and_a_slow_case_are_counted_not_hidden() -> None:
    from hypothesis import strategies as st

    def run(n: int) -> None:
        if n == 1:
            raise KeyError("untyped")
        if n == 2:
            raise ValueError("typed here")
        if n == 3:
            import time

            end = time.process_time() + 0.06
            while time.process_time() < end:  # CPU time: what the bound measures
                pass

    figures = run_target(Target("probe", st.sampled_from([1, 2, 3, 4]), run, (ValueError,)), 60, 0.05)
    assert figures.failure_count >= 2
    assert any(f.startswith("KeyError") for f in figures.failures)
    assert any(f.startswith("slow:") for f in figures.failures)
    assert figures.typed_errors >= 1 and figures.slowest_s >= 0.05
