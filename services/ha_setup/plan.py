"""The HA runbook (Db2 HADR + IBM Db2 Pacemaker + qdevice + AWS overlay IP) as one plan, run by
services/plans (check, dry run, apply through the write guard, journal, resume).

Steps, in runbook order (H = each Db2 host, Q = the QDevice host, P = the HADR primary):
  1 prerequisites: prereq-os/hosts/time@H,Q  prereq-users/db2/hadr@H  prereq-media@H,Q
    prereq-ssh@H  prereq-owner-ssh@H  prereq-qnetd-port@H  prereq-awscli@H  ksh@H
  2 install: pcmk-install@H  db2cm-copy@H (tarball)  agents@H
  3 db2cm (on P): db2cm-cluster  db2cm-instance@H  db2cm-db
  4 quorum device: qnetd-install@Q  qdevice (on P)
  5 overlay IP: src-dst-check@H  iam-policy  overlay-route  overlay-address (P)  oip-resource (P)
  6 verify-status (status snapshot, no verdicts)
"""

from __future__ import annotations

from services.ha_setup.aws_steps import IamPolicyStep, OverlayRouteStep, SourceDestCheckStep
from services.ha_setup.db2cm_steps import ClusterCreateStep, DatabaseResourceStep, InstanceResourceStep
from services.ha_setup.oip_steps import OipResourceStep, OverlayAddressStep, render_crm_file
from services.ha_setup.pacemaker_steps import Db2cmCopyStep, PacemakerInstallStep, ResourceAgentsStep
from services.ha_setup.params import HaParamError, HaParams, policy_document
from services.ha_setup.prereq_steps import (
    AwsCliStep,
    Db2LevelStep,
    HadrPeerStep,
    HostsFileStep,
    InstanceOwnerSshStep,
    InstanceUserStep,
    KshStep,
    MediaStep,
    OsReleaseStep,
    QnetdPortStep,
    RootSshStep,
    TimeSyncStep,
)
from services.ha_setup.qdevice_steps import QdeviceStep, QnetdInstallStep
from services.ha_setup.verify_step import StatusSnapshotStep
from services.inventory.model import Cluster
from services.plans import Plan, Step

PLAN_NAME = "ha"

__all__ = [
    "PLAN_NAME",
    "HaParamError",
    "HaParams",
    "build_ha_plan",
    "policy_document",
    "render_crm_file",
]


def build_ha_plan(cluster: Cluster, params: HaParams | None = None) -> Plan:
    """Return the HA setup plan for `cluster` (params resolved against it and validated).

    Raises HaParamError for a bad parameter or an inventory the runbook cannot work with (not two db
    hosts, no qdevice host, no route table).
    """
    p = (params or HaParams()).resolve(cluster)
    db = list(cluster.db_hosts)
    qdev = cluster.host(p.qdevice_host or "")
    assert qdev is not None  # resolve() checked it
    everyone = [*db, qdev]
    steps: list[Step] = []
    steps += [OsReleaseStep(h, p) for h in everyone]
    steps += [HostsFileStep(h, cluster) for h in everyone]
    steps += [TimeSyncStep(h, p) for h in everyone]
    steps += [InstanceUserStep(h, cluster, p) for h in db]
    steps += [Db2LevelStep(h, p) for h in db]
    steps += [HadrPeerStep(h, cluster) for h in db]
    steps += [MediaStep(h, p) for h in everyone]
    steps += [RootSshStep(h, cluster, p) for h in db]
    steps += [InstanceOwnerSshStep(h, cluster, p) for h in db]
    steps += [QnetdPortStep(h, p) for h in db]
    steps += [AwsCliStep(h, p) for h in db]
    steps += [KshStep(h, p) for h in db]
    steps += [PacemakerInstallStep(h, p) for h in db]
    # The media method's Db2 install already put db2cm in sqllib/adm; with auto the step says so itself.
    if p.install_method != "media":
        steps += [Db2cmCopyStep(h, cluster, p) for h in db]
    steps += [ResourceAgentsStep(h, cluster, p) for h in db]
    steps.append(ClusterCreateStep(cluster, p))
    steps += [InstanceResourceStep(cluster, p, h) for h in db]
    steps.append(DatabaseResourceStep(cluster, p))
    steps.append(QnetdInstallStep(qdev, p))
    steps.append(QdeviceStep(cluster, p))
    steps += [SourceDestCheckStep(h) for h in db]
    steps.append(IamPolicyStep(cluster, p))
    steps.append(OverlayRouteStep(cluster, p))
    steps.append(OverlayAddressStep(cluster, p))
    steps.append(OipResourceStep(cluster, p))
    steps.append(StatusSnapshotStep())
    return Plan(
        name=PLAN_NAME,
        cluster=cluster,
        steps=steps,
        title=f"HA: Db2 HADR under IBM Db2 Pacemaker with a qdevice and an AWS overlay IP ({cluster.name})",
        rerun_hint=f"db2ops setup ha --cluster {cluster.name} --apply",
    )
