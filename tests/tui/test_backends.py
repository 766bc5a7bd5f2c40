"""The composition root's choice of backend (tui/backends.py): real AWS, the lab in this process, or the lab
of another process over SSH. Choosing touches nothing: no SSH, no AWS call."""

from __future__ import annotations

from types import SimpleNamespace

from lab.backends import InProcessLabExtras, RemoteLabExtras
from lab.insights_local import LabInsights
from services.cloudwatch_extras import AwsCloudWatchExtras
from services.inventory.model import AwsSettings, Cluster, Host
from services.logs.insights import AwsInsights
from tui.backends import extras_for, insights_engine_for

MOTO = "http://127.0.0.1:5000"


def _cluster(*, lab: bool, endpoint: str | None) -> Cluster:
    return Cluster(
        name="lab1",
        hosts=(Host("db2a", "127.0.0.1"),),
        aws=AwsSettings(region="us-east-1", endpoint_url=endpoint),
        lab=lab,
    )


class NoRunner:
    async def run(self, *args, **kwargs):
        raise AssertionError("choosing a backend must not reach a host")


def test_a_cluster_on_real_aws_gets_aws_even_with_a_lab_running_here() -> None:
    session = SimpleNamespace(cloudwatch=SimpleNamespace(endpoint_url=MOTO), log_agents={})
    extras = extras_for(_cluster(lab=False, endpoint=None), session, NoRunner())
    assert isinstance(extras, AwsCloudWatchExtras) and extras.source == "aws" and not extras.fast_polls
    assert isinstance(insights_engine_for(_cluster(lab=False, endpoint=None)), AwsInsights)


def test_a_lab_cluster_gets_the_evaluator_and_agent_of_the_lab_in_this_process() -> None:
    evaluator, agent = SimpleNamespace(endpoint_url=MOTO), object()
    session = SimpleNamespace(cloudwatch=evaluator, log_agents={"lab1": agent})
    extras = extras_for(_cluster(lab=True, endpoint=MOTO), session, NoRunner())
    assert isinstance(extras, InProcessLabExtras)
    assert (extras.evaluator, extras.agent, extras.source, extras.fast_polls) == (
        evaluator,
        agent,
        "lab",
        True,
    )
    assert isinstance(insights_engine_for(_cluster(lab=True, endpoint=MOTO)), LabInsights)


def test_a_lab_cluster_of_another_lab_is_asked_over_ssh() -> None:
    other = SimpleNamespace(cloudwatch=SimpleNamespace(endpoint_url="http://127.0.0.1:6000"), log_agents={})
    for session in (None, other):  # no lab here (the CLI, `db2ops --inventory`), or another lab's
        extras = extras_for(_cluster(lab=True, endpoint=MOTO), session, NoRunner())
        assert isinstance(extras, RemoteLabExtras) and extras.source == "lab" and not extras.fast_polls


def test_a_lab_started_without_aws_never_gets_a_cloudwatch_lab_backend() -> None:
    cluster = _cluster(lab=True, endpoint=None)  # `db2ops lab --no-aws`: no moto behind it
    assert isinstance(extras_for(cluster, None, NoRunner()), AwsCloudWatchExtras)
