"""Which backend answers what moto lacks: the one place that decides between real AWS and the lab.

`extras_for`: a cluster's CloudWatch extras (services/cloudwatch_extras.py: datapoints, alarm history,
e-mail states, sent messages, the proof's readings). `insights_engine_for`: who evaluates its Logs Insights
queries (services/logs/insights.py). The console (tui/app.py, its screens) and the CLI (tui/cli_support.py) call
these; services only see the protocols. The lab is imported only for a lab cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.cloudwatch_extras import CloudWatchExtras, ExtrasFor, aws_cloudwatch_extras
from services.inventory.model import Cluster
from services.logs.insights import AwsInsights, InsightsEngine

if TYPE_CHECKING:
    from services.context import LabHandle
    from services.ssh.runner import HostRunner


def extras_for(
    cluster: Cluster, lab_session: LabHandle | None = None, runner: HostRunner | None = None
) -> CloudWatchExtras:
    """Return the CloudWatchExtras of `cluster`: for a lab cluster whose AWS is the lab's moto, the lab's
    evaluator (`lab_session`, the lab in this process, else the lab in another process reached with
    `runner` over SSH); otherwise real AWS."""
    if cluster.lab and cluster.aws.is_lab:
        from lab.backends import cloudwatch_extras_for

        return cloudwatch_extras_for(cluster, lab_session, runner)
    return aws_cloudwatch_extras()


def insights_engine_for(cluster: Cluster) -> InsightsEngine:
    """Return who evaluates `cluster`'s Logs Insights queries: db2ops itself where its AWS is the lab's moto
    (which ignores filter/parse/stats), else AWS."""
    if cluster.aws.is_lab:
        from lab.insights_local import LabInsights

        return LabInsights()
    return AwsInsights()


def extras_chooser(lab_session: LabHandle | None = None) -> ExtrasFor:
    """Return the ConsoleContext's `extras_for`: `extras_for` with this process's lab (None: a lab cluster
    is then reached over SSH, in whatever process serves it)."""

    def choose(cluster: Cluster, runner: HostRunner | None) -> CloudWatchExtras:
        return extras_for(cluster, lab_session, runner)

    return choose
