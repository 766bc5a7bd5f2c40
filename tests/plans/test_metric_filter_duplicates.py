"""PutMetricFilter with an existing name: AWS replaces the filter, moto 5.2.1 appends a second one.

The step must converge to exactly one filter either way (a re-applied, changed pattern must not fail with
"filter differs"), and the lab's moto must behave like AWS once lab/moto_patches.py is applied.
"""

from __future__ import annotations

from typing import Any

import pytest
from moto.logs.metric_filters import MetricFilters
from plan_fixtures import lab_extras

from lab.moto_patches import patch_moto_metric_filters
from services.monitoring.plan import MonitoringParams, build_monitoring_plan
from services.plans import Journal, PlanContext, run_plan

FILTER = "db2ops-sensitive-table-access"


def _moto_521_add_filter(
    self: Any, filter_name: str, filter_pattern: str, log_group_name: str, metric_transformations: Any
) -> None:
    # moto 5.2.1's MetricFilters.add_filter, verbatim in effect: it always appends.
    self.metric_filters.append(
        {
            "filterName": filter_name,
            "filterPattern": filter_pattern,
            "logGroupName": log_group_name,
            "metricTransformations": metric_transformations,
        }
    )


def _moto_521_delete_filter(self: Any, filter_name: Any = None, log_group_name: Any = None) -> Any:
    # moto 5.2.1 removes while iterating: of two neighbours with the same name only the first goes.
    for f in self.metric_filters:
        if f["filterName"] == filter_name and f["logGroupName"] == log_group_name:
            self.metric_filters.remove(f)
    return self.metric_filters


@pytest.fixture
def appending_moto(monkeypatch):
    """moto as 5.2.1 ships it, whether or not an earlier test of this process applied the lab patch."""
    monkeypatch.setattr(MetricFilters, "add_filter", _moto_521_add_filter)
    monkeypatch.setattr(MetricFilters, "delete_filter", _moto_521_delete_filter)
    monkeypatch.setattr(MetricFilters, "_db2ops_lab_unique", False, raising=False)


def _aws_only(cluster, **params: Any):
    plan = build_monitoring_plan(cluster, MonitoringParams(email="dba-team@example.com", **params))
    plan.steps = [s for s in plan.steps if s.target == "aws"]
    return plan


def _ctx(cluster, runner, tmp_path) -> PlanContext:
    return PlanContext(
        cluster=cluster,
        runner=runner,
        journal=Journal(tmp_path / "journal"),
        extras=lab_extras(cluster, runner),
    )


def _ours(ctx: PlanContext, group: str) -> list[dict]:
    filters = ctx.client("logs").describe_metric_filters(logGroupName=group)["metricFilters"]
    return [f for f in filters if f["filterName"] == FILTER]


async def test_changed_pattern_reapplied_on_appending_moto_leaves_one_filter(
    lab, tmp_path, appending_moto
) -> None:
    cluster, runner, _ = lab
    ctx = _ctx(cluster, runner, tmp_path)
    first = await run_plan(_aws_only(cluster), ctx, mode="apply")
    assert first.ok, first.next_hint
    group = cluster.aws.audit_log_group

    changed = _aws_only(cluster, audit_pattern="WORKER -APPUSR")
    second = await run_plan(changed, ctx, mode="apply")
    assert second.ok, second.by_id("metric-filter-audit").message
    assert second.by_id("metric-filter-audit").status == "applied"
    assert [f["filterPattern"] for f in _ours(ctx, group)] == ["WORKER -APPUSR"]
    # The journal says what really ran on the emulator: put, delete (both; moto may need several calls),
    # put once more.
    ops = [a.operation for a in second.by_id("metric-filter-audit").performed]
    assert ops[0] == ops[-1] == "PutMetricFilter"
    assert len(ops) >= 3 and set(ops[1:-1]) == {"DeleteMetricFilter"}

    third = await run_plan(changed, ctx, mode="check")
    assert third.by_id("metric-filter-audit").status == "already_done"


async def test_duplicates_already_there_are_reported_as_differs_and_replaced(
    lab, tmp_path, appending_moto
) -> None:
    cluster, runner, _ = lab
    ctx = _ctx(cluster, runner, tmp_path)
    assert (await run_plan(_aws_only(cluster), ctx, mode="apply")).ok
    group = cluster.aws.audit_log_group
    wanted = _ours(ctx, group)[0]
    # Same pattern twice: each alone would be "present", together they are not what AWS can hold.
    ctx.client("logs").put_metric_filter(
        logGroupName=group,
        filterName=FILTER,
        filterPattern=wanted["filterPattern"],
        metricTransformations=wanted["metricTransformations"],
    )
    assert len(_ours(ctx, group)) == 2

    dry = await run_plan(_aws_only(cluster), ctx, mode="dry-run")
    step = dry.by_id("metric-filter-audit")
    assert step.status == "planned"
    assert step.message.startswith(f"filter differs (2 filters are named {FILTER})")
    assert [a.operation for a in step.actions] == ["DeleteMetricFilter", "PutMetricFilter"]

    fixed = await run_plan(_aws_only(cluster), ctx, mode="apply")
    assert fixed.ok, fixed.by_id("metric-filter-audit").message
    assert [f["filterPattern"] for f in _ours(ctx, group)] == [wanted["filterPattern"]]


async def test_lab_patch_makes_moto_replace_by_name_within_the_group(lab, tmp_path, appending_moto) -> None:
    cluster, runner, _ = lab
    ctx = _ctx(cluster, runner, tmp_path)
    logs = ctx.client("logs")
    for group in ("group-a", "group-b"):
        logs.create_log_group(logGroupName=group)
    transformation = [{"metricName": "M", "metricNamespace": "N", "metricValue": "1"}]

    def put(group: str, pattern: str) -> None:
        logs.put_metric_filter(
            logGroupName=group, filterName=FILTER, filterPattern=pattern, metricTransformations=transformation
        )

    put("group-a", "old")
    put("group-a", "new")
    assert [f["filterPattern"] for f in _ours(ctx, "group-a")] == ["old", "new"]  # the fault, measured

    assert patch_moto_metric_filters() is True
    put("group-a", "newer")
    put("group-b", "other group, same name")
    assert [f["filterPattern"] for f in _ours(ctx, "group-a")] == ["newer"]
    assert [f["filterPattern"] for f in _ours(ctx, "group-b")] == ["other group, same name"]
    logs.delete_metric_filter(logGroupName="group-a", filterName=FILTER)
    assert _ours(ctx, "group-a") == []
    assert len(_ours(ctx, "group-b")) == 1
