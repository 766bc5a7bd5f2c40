"""The wizard's form rules (typed text -> MonitoringParams), the pattern check behind page 6 and AWS's
TestMetricFilter opinion next to db2ops' evaluator."""

from __future__ import annotations

from dataclasses import replace

import pytest
from wizard_app import fixed_cluster

from screens.setup_form import PAGE_FIELDS, ParamForm, convert, shown_value
from screens.setup_pages import aws_opinion, check_pattern
from services.monitoring.params import MonitoringParamError, MonitoringParams
from services.monitoring.pattern_test import audit_samples
from services.plans import PlanContext


def test_every_field_on_a_page_is_a_monitoring_parameter_once() -> None:
    names = [spec.name for specs in PAGE_FIELDS.values() for spec in specs]
    assert len(names) == len(set(names))
    params = MonitoringParams().resolve(fixed_cluster())
    assert all(hasattr(params, name) for name in names)


def test_text_is_converted_to_the_fields_type_or_refused_with_its_name() -> None:
    assert convert("audit_buf_sz", " 128 ") == 128
    assert convert("alarm_threshold", "2.5") == 2.5
    assert convert("use_sudo", "false") is False
    assert convert("email", "") is None
    assert convert("audit_pattern", ' ?"WORKER" ') == ' ?"WORKER" '  # patterns are kept verbatim
    with pytest.raises(MonitoringParamError, match="audit_buf_sz 'x64' is not a number"):
        convert("audit_buf_sz", "x64")
    with pytest.raises(MonitoringParamError, match="alarm_statistic 'Median' must be one of"):
        convert("alarm_statistic", "Median")


def test_shown_values_are_the_runbooks_defaults_for_the_cluster() -> None:
    params = MonitoringParams().resolve(fixed_cluster())
    assert shown_value(params, "datapath") == "/home/db2inst1/dbaudit/active/"
    assert shown_value(params, "audit_alarm_name") == "db2ops-lab1-sensitive-table-access"
    assert shown_value(params, "alarm_threshold") == "1"
    assert shown_value(params, "use_sudo") == "true"
    assert shown_value(params, "email") == ""
    assert (
        shown_value(params, "diag_pattern")
        == '?"LEVEL: Error" ?"LEVEL: Severe" ?"LEVEL: Critical" ?"LEVEL: Alert"'
    )


def test_problems_name_every_bad_field_and_hostile_values_never_validate() -> None:
    form = ParamForm(fixed_cluster())
    form.set_text("audit_buf_sz", "lots")
    form.set_text("archivepath", "/tmp/x; rm -rf /")
    problems = form.problems()
    assert problems["audit_buf_sz"] == "audit_buf_sz 'lots' is not a number"
    assert problems["archivepath"].startswith("archivepath '/tmp/x; rm -rf /' is not allowed")
    with pytest.raises(MonitoringParamError):
        form.params()
    form.set_text("audit_buf_sz", "32")
    form.reset("archivepath")
    assert form.problems() == {}
    assert form.params().audit_buf_sz == 32
    form.set_text("email", "")  # an emptied optional field goes back to its default (none)
    assert "email" not in form.overrides


def test_pattern_check_shows_the_runbook_trap_and_recent_event_verdicts() -> None:
    params = MonitoringParams(audit_pattern="worker -appusr").resolve(fixed_cluster())
    messages = [s.message for s in audit_samples("SAMPLE", "WORKER", "appusr")]
    check = check_pattern("audit", params, messages)
    assert not check.samples_right
    assert [name for name, want, ours, _ in check.samples if want != ours] == [
        "another user, statement in upper case"
    ]
    assert check.events is not None and [ours for _, ours, _ in check.events] == [False, True, False, False]
    broken = check_pattern("audit", replace(params, audit_pattern='"unbalanced'))
    assert broken.error and broken.samples == []


class _Aws:
    def __init__(self, matches: int) -> None:
        self.matches = matches
        self.calls: list[dict] = []

    async def __call__(self, client, method, **kw):
        self.calls.append({"method": method, **kw})
        return {"matches": [{"eventNumber": i} for i in range(self.matches)]}


async def test_aws_opinion_compares_test_metric_filter_with_the_local_evaluator() -> None:
    cluster = fixed_cluster(lab=False)
    messages = [s.message for s in audit_samples("SAMPLE", "WORKER", "appusr")]
    pattern = '?"WORKER" -"authid=APPUSR;" ?"worker" -"authid=APPUSR;"'
    agree = _Aws(2)
    ctx = PlanContext(cluster=cluster, runner=None, aws_client_factory=lambda s: s, aws_call=agree)
    assert await aws_opinion(ctx, pattern, messages) == (
        "AWS TestMetricFilter matches 2 of the newest 4, db2ops 2: agrees"
    )
    assert agree.calls[0]["method"] == "test_metric_filter" and agree.calls[0]["logEventMessages"] == messages
    ctx.aws_call = _Aws(3)
    assert (await aws_opinion(ctx, pattern, messages)).endswith("DISAGREES: trust AWS and adjust the pattern")
    from tui.backends import extras_for

    on_lab = replace(cluster, lab=True, aws=replace(cluster.aws, endpoint_url="http://127.0.0.1:1"))
    lab = PlanContext(cluster=on_lab, runner=None, extras=extras_for(on_lab, None, None))
    assert await aws_opinion(lab, pattern, messages) == ""  # the lab's backend has no TestMetricFilter (moto)


async def test_console_services_use_the_contexts_runner_journal_lab_and_proofs() -> None:
    from types import SimpleNamespace

    from lab.backends import InProcessLabExtras
    from screens.setup_services import context_services
    from services.context import ConsoleContext
    from services.inventory.model import AwsSettings, Inventory
    from tui.backends import extras_chooser

    runner = object()
    aws = AwsSettings(region="us-east-1", endpoint_url="http://127.0.0.1:5000")
    evaluator = SimpleNamespace(endpoint_url=aws.endpoint_url)
    agent = object()
    lab = SimpleNamespace(cloudwatch=evaluator, log_agents={"lab1": agent})
    context = ConsoleContext(
        Inventory(clusters=(fixed_cluster(),), source="/etc/db2ops/inventory.yaml"),
        runner=runner,  # type: ignore[arg-type]
        lab=lab,  # type: ignore[arg-type]
        extras_for=extras_chooser(lab),
    )
    services = context_services(context)
    ctx = await services.make_context(fixed_cluster())
    assert ctx.runner is runner and ctx.inventory_source == "/etc/db2ops/inventory.yaml"
    assert ctx.journal is not None and ctx.journal.path.name == "journal.jsonl"
    assert services.proof_history is context.proof_history  # the console's, shared by every proof it runs
    extras = services.extras_for(fixed_cluster(aws=aws), runner)  # the console's lab plays CloudWatch
    assert isinstance(extras, InProcessLabExtras) and extras.evaluator is evaluator and extras.agent is agent
    assert services.extras_for(fixed_cluster(lab=False), runner).source == "aws"
    assert services.close is None  # the pool is the context's: the wizard closes nothing
