"""Where a Db2 level gets its Pacemaker, and whether the media on a host fits the Db2 level and the OS.

IBM ships Pacemaker with Db2 from 11.5.6 on: it is on the Db2 install media, in `db2/<platform>/pcmk`, and
`db2installPCMK -i` installs it, `db2cppcmk -i` the Db2 resource agents (IBM Db2 docs, "Installing Pacemaker
using the db2installPCMK install script" and "db2cppcmk command"; the db2_install command notes that Pacemaker
is installed by default as of 11.5.6). Db2 11.5.5 had it as a separate tarball (the AWS runbook's
Db2_v11.5.5.0_Pacemaker_20201118_RHEL8.1_x86_64.tar.gz). So the install method follows the Db2 level, and the
tarball is only right where the level needs it.

Before installing, the media's Pacemaker build is compared with the one IBM ships for the installed Db2 mod
pack (a media from another mod pack installs a Pacemaker that db2cm of this level was not built for), and the
build's OS (the rpms' el<N> dist tag) with the host's RHEL release. The table below holds only pairings seen
in real output (tests/corpus/SOURCES.md); a level it does not hold is compared on the OS only, and says so.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from services.ha_setup.params import level_tuple
from services.plans import PlanContext, StepFailed

FIRST_MEDIA_LEVEL = (11, 5, 6)  # Pacemaker on the Db2 install media from this level on
METHOD_FACT = "ha:install-method"  # the effective install method ("tarball" | "media"), plan-wide
DB2_LEVEL_FACT = "ha:db2level"  # the Db2 level of the db hosts ("11.5.8.0"), plan-wide
OS_FACT = "ha:os:"  # + host name -> (ID, VERSION_ID) of /etc/os-release


@dataclass(frozen=True)
class DocumentedBuild:
    """The upstream Pacemaker version IBM's db2pcmk build has for one Db2 mod pack, and where it is seen."""

    pacemaker: str  # upstream version: "2.1.2"
    source: str


# Db2 mod pack -> IBM's Pacemaker build (upstream version; IBM's rpm release changes with fix packs).
DOCUMENTED_BUILDS: dict[str, DocumentedBuild] = {
    "11.5.5": DocumentedBuild(
        "2.0.4", "junsulee75/db2pcmkconfig hadr_pacemaker_manual_conf_V1155.md: 2.0.4-1.db2pcmk.el8"
    ),
    "11.5.6": DocumentedBuild(
        "2.0.4", "junsulee75/db2pcmkconfig hadr_pacemaker_manual_conf_V1156.md: 2.0.4-2.db2pcmk.el8"
    ),
    "11.5.7": DocumentedBuild(
        "2.0.4", "junsulee75/db2pcmkconfig config.md: 2.0.4-2.db2pcmk.el8 (Db2 11.5.6/11.5.7)"
    ),
    "11.5.8": DocumentedBuild(
        "2.1.2", "junsulee75/db2pcmkconfig pacemaker_operation.md, db2cm.md: 2.1.2-4.db2pcmk.el8"
    ),
}

_RPM = re.compile(r"^pacemaker-(\d+(?:\.\d+)+)-([^-]+)\.(el\d+)\.[^.]+\.rpm$")


def mod_pack(level: str) -> str:
    """'11.5.8.0' -> '11.5.8'."""
    return ".".join(level.split(".")[:3])


def method_for_level(level: str) -> str:
    """The install method a Db2 level needs: "media" from 11.5.6 on, else "tarball"."""
    return "media" if level_tuple(level)[:3] >= FIRST_MEDIA_LEVEL else "tarball"


class MethodMismatch(ValueError):
    """The requested install method does not fit the Db2 level: `problem` and what to do (`fix`)."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}; {fix}")
        self.problem, self.fix = problem, fix


def decide_method(requested: str, level: str) -> str:
    """Return the effective method for `requested` ("auto", "tarball", "media") on Db2 `level`.

    Raises MethodMismatch when the request does not fit the level."""
    needed = method_for_level(level)
    if requested in ("auto", needed):
        return needed
    if requested == "media":
        raise MethodMismatch(
            f"Db2 {level} has no Pacemaker on its install media (that starts with 11.5.6)",
            "use install_method tarball (IBM's separate Pacemaker tarball for 11.5.5) or auto",
        )
    raise MethodMismatch(
        f"Db2 {level} ships its own Pacemaker build on the Db2 install media (db2/<platform>/pcmk, "
        "db2installPCMK), and the separate tarball holds the 11.5.5 build, which this level's db2cm was not "
        "built with",
        "use install_method media (or auto)",
    )


def effective_method(requested: str, ctx: PlanContext) -> str:
    """The method steps use: the requested one, or for "auto" what the Db2 level check decided."""
    if requested != "auto":
        return requested
    decided = ctx.facts.get(METHOD_FACT)
    if not decided:
        raise StepFailed(
            "the install method follows the Db2 level, which is not known yet: fix prereq-db2 first"
        )
    return str(decided)


def media_build(rpms: list[str]) -> tuple[str, str] | None:
    """Return (upstream version, dist tag) of the pacemaker rpm among `rpms`, e.g. ("2.1.2", "el8")."""
    for path in rpms:
        match = _RPM.match(posixpath.basename(path))
        if match:
            return match.group(1), match.group(3)
    return None


def media_mismatch(
    rpms: list[str], level: str | None, os_info: tuple[str, str] | None
) -> tuple[str, str] | None:
    """Return (why the media does not fit the Db2 level or the OS, what to do), or None when it fits or
    cannot be told (no pacemaker rpm, a Db2 level the table does not hold)."""
    build = media_build(rpms)
    if build is None:
        return None
    version, dist = build
    if os_info is not None and os_info[0] == "rhel":
        major = os_info[1].split(".")[0]
        if dist != f"el{major}":
            return (
                f"the media's Pacemaker build is for RHEL {dist.removeprefix('el')} ({dist} rpms) and this "
                f"host runs RHEL {os_info[1]}",
                f"use the Db2 install image (or tarball) built for RHEL {major}",
            )
    documented = DOCUMENTED_BUILDS.get(mod_pack(level)) if level else None
    if level and documented and version != documented.pacemaker:
        return (
            f"the media holds Pacemaker {version}, but Db2 {level} ships Pacemaker {documented.pacemaker} "
            f"({documented.source}), so the media is from another Db2 mod pack",
            f"unpack the install image of Db2 {mod_pack(level)} (the level db2ls shows) and check again",
        )
    return None
