"""The Pacemaker build against what db2cm supports: IBM supports Db2 HADR automation only with the
Pacemaker it ships (its builds carry "db2pcmk" in the version, e.g. 2.1.5-1.db2pcmk.el8-a3f44794f94)."""

from __future__ import annotations

from services.check.finding import Finding, Severity
from services.check.pacemaker_config import CrmConfig


def pacemaker_build_findings(config: CrmConfig) -> list[Finding]:
    version = config.properties.get("dc-version", "")
    if not version or "db2pcmk" in version:
        return []  # no dc-version yet (a cluster never started): nothing to judge
    return [
        Finding(
            "PCMK-NOT-IBM-BUILD",
            Severity.WARNING,
            "pacemaker",
            f"the cluster runs Pacemaker {version}, not IBM's db2pcmk build",
            "db2cm and the db2hadr/db2inst agents are supported with the Pacemaker that ships with Db2 "
            "(or IBM's download for the release); a distribution build may lack IBM's fixes and is not "
            "supported by IBM.",
            "install the Pacemaker of the Db2 media (db2installPCMK in the image's db2/linuxamd64/pcmk) "
            "or IBM's package for this Db2 level, then recreate the cluster with db2cm",
        )
    ]
