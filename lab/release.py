"""One model of "a Db2 release + the Pacemaker build IBM ships with it", which every lab output follows.

A real db2cm cluster reports one Pacemaker build everywhere: crm_mon's DC version, the CIB's dc-version,
`db2cm -list`, `rpm -q`; and the OS level is one IBM supports for that build. The lab picks one
`Db2Release` per cluster (`db2ops lab --db2 11.5.9`) and renders every output from it, so a console check
that compares versions across tools sees what a DBA would see.

Facts and where they come from (tests/corpus/SOURCES.md): 11.5.5 -> 2.0.4-1.db2pcmk.el8-2deceaa3ae with
corosync-qdevice 3.0.0-3 (hadr_pacemaker_manual_conf_V1155); 11.5.6/11.5.7 -> 2.0.4-2.db2pcmk.el8
(config.md, V1156); 11.5.8 -> 2.1.2-4.db2pcmk.el8-ada5c3b36e2, Corosync 3.1.6 (pacemaker_operation.md,
db2cm.md). IBM's builds print "Masters:"/"Slaves:" in crm_mon text on 2.0.4 and 2.1.2 alike (crm-status/),
while crm_mon XML uses Pacemaker's own role names (Master/Slave before 2.1, Promoted/Unpromoted from 2.1:
crm_mon-xml/ regression output of 2.1.2). 11.5.9 and 12.1 are not in the corpus (searched, none found:
tests/corpus/SOURCES.md, "consulted but not used"): their builds below are plausible stand-ins (marked
`captured=False`), so tests compare them only with the layout of the nearest captured release, and every
place that shows such a lab says so (`shape_note`: `lab --help`, the inventory's environment label, which
the console's header and `status --json` show).

Cluster properties db2cm leaves in the CIB (`property cib-bootstrap-options`, `rsc_defaults rsc-options`),
from the `crm config show` captures (tests/corpus/crm-config/): 11.5.5 -> no-quorum-policy=ignore,
symmetric-cluster=false, failure-timeout=60 (db2-hadr-vip-v1155.txt, hadr_pacemaker_manual_conf_V1155);
11.5.7 -> no-quorum-policy=stop, symmetric-cluster=true, failure-timeout=10 (db2-hadr-vip-no-quorum-stop.txt,
config.md). No 11.5.6, 11.5.8, 11.5.9 or 12.1 `crm config show` is in the corpus (../shared/corpus holds
only these two): those releases take the values of the nearest captured release, 11.5.7, which is an
assumption, not a capture (`properties_captured=False`), which `shape_note` and `lab --help` say. A real
cluster of one release has one set.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Db2Release:
    """A Db2 modification level and the Pacemaker/Corosync build it ships (or, for 11.5.5, its tarball)."""

    db2: str  # "11.5.8" (what `--db2` takes)
    db2_level: str  # "11.5.8.0" (db2level, the CLP's server line)
    pacemaker: str  # rpm version-release: "2.1.2-4.db2pcmk.el8"
    pcmk_commit: str  # upstream commit crm_mon and dc-version append: "ada5c3b36e2"
    corosync: str  # db2cm -list "Corosync version" and the corosync rpm's version
    qdevice: str  # corosync-qdevice / corosync-qnetd rpm version-release
    crmsh: str  # crmsh rpm version-release
    rhel: str  # the RHEL minor the hosts run: "8.8"
    api_version: str  # crm_mon XML api-version
    feature_set: str  # CRM feature set on each node
    xml_roles: tuple[str, str]  # crm_mon XML roles of a promotable clone: (promoted, unpromoted)
    db2cm_fencing_section: bool  # db2cm -list prints "Fencing Information:" / "Quorum Information:"
    # crm_mon of the Pacemaker 2.1.5 era (the real lab's capture): the "Status of pacemakerd" line and
    # <pacemakerd> element, node health/feature_set and current_dc mixed_version; the captured 2.0.4 and
    # 2.1.2 builds print none of them (corpus/crm-status, crm_mon-xml/pacemaker-2.1.2-regression).
    pacemakerd_status: bool
    # the agent spelling in crm_mon text: "(ocf::heartbeat:db2inst)" (2.0.4, 2.1.2) or "(ocf:heartbeat:...)"
    agent_colons: str
    captured: bool  # True: version strings taken from a real capture in the corpus
    # db2cm's cluster properties and resource default (module docstring): with symmetric-cluster=false
    # (an opt-in cluster) a resource runs only where a location constraint allows it; with
    # no-quorum-policy=ignore a partition without quorum keeps its resources, with stop it stops them all.
    symmetric_cluster: bool
    no_quorum_policy: str
    failure_timeout: int  # rsc_defaults rsc-options failure-timeout, seconds
    properties_captured: bool  # True: the three above come from this release's own `crm config show`

    @property
    def dc_version(self) -> str:
        """`2.1.2-4.db2pcmk.el8-ada5c3b36e2`: crm_mon's "(version ...)", the CIB's dc-version."""
        return f"{self.pacemaker}-{self.pcmk_commit}"

    @property
    def el(self) -> str:
        """The rpm dist tag of the OS: "el8" for RHEL 8.x."""
        return "el" + self.rhel.split(".")[0]

    @property
    def pacemaker_upstream(self) -> str:
        """Upstream version without IBM's release: "2.1.2"."""
        return self.pacemaker.split("-")[0]

    def text_agent(self, agent: str) -> str:
        """'ocf:heartbeat:db2inst' as this build's crm_mon text prints it."""
        return agent.replace(":", self.agent_colons, 1)

    @property
    def text_roles(self) -> tuple[str, str]:
        """crm_mon text headings of a promotable clone: IBM's db2pcmk builds print Masters/Slaves."""
        return ("Masters", "Slaves")

    @property
    def promotes_in_xml_as_master(self) -> bool:
        return self.xml_roles[0] == "Master"

    @property
    def shape_note(self) -> str:
        """What every screen of a lab on this release says (one line): what it plays without a capture,
        versions and layout or cluster properties; '' for a release captured in both."""
        parts = [] if self.captured else ["stand-in versions and layout, not checked against a real capture"]
        if note := self.properties_note:
            parts.append(note)
        return f"Db2 {self.db2}: {'; '.join(parts)}" if parts else ""

    @property
    def properties_note(self) -> str:
        """'properties assumed from 11.5.7' when no `crm config show` of this release gave its cluster
        properties; '' when one did. Short: the environment label holds it (the header shortens a long one)."""
        if self.properties_captured:
            return ""
        return f"properties assumed from {properties_source(self).db2}"

    @property
    def via_tarball(self) -> bool:
        """Before 11.5.6 Pacemaker came as a separate tarball; from 11.5.6 it is on the Db2 media."""
        return self.db2 == "11.5.5"


RELEASES: dict[str, Db2Release] = {
    r.db2: r
    for r in (
        Db2Release(
            db2="11.5.5",
            db2_level="11.5.5.0",
            pacemaker="2.0.4-1.db2pcmk.el8",
            pcmk_commit="2deceaa3ae",
            corosync="3.0.4",
            qdevice="3.0.0-3.db2pcmk.el8",
            crmsh="4.2.0-1.db2pcmk.el8",
            rhel="8.2",
            api_version="2.2",
            feature_set="3.4.1",
            xml_roles=("Master", "Slave"),
            db2cm_fencing_section=False,
            pacemakerd_status=False,
            agent_colons="::",
            symmetric_cluster=False,
            no_quorum_policy="ignore",
            failure_timeout=60,
            properties_captured=True,
            captured=True,
        ),
        Db2Release(
            db2="11.5.7",
            db2_level="11.5.7.0",
            pacemaker="2.0.4-2.db2pcmk.el8",
            pcmk_commit="2deceaa3ae",
            corosync="3.0.4",
            qdevice="3.0.0-4.db2pcmk.el8",
            crmsh="4.2.0-2.db2pcmk.el8",
            rhel="8.4",
            api_version="2.2",
            feature_set="3.4.1",
            xml_roles=("Master", "Slave"),
            db2cm_fencing_section=False,
            pacemakerd_status=False,
            agent_colons="::",
            symmetric_cluster=True,
            no_quorum_policy="stop",
            failure_timeout=10,
            properties_captured=True,
            captured=True,
        ),
        Db2Release(
            db2="11.5.8",
            db2_level="11.5.8.0",
            pacemaker="2.1.2-4.db2pcmk.el8",
            pcmk_commit="ada5c3b36e2",
            corosync="3.1.6",
            qdevice="3.0.1-1.db2pcmk.el8",
            crmsh="4.3.1-1.db2pcmk.el8",
            rhel="8.6",
            api_version="2.16",
            feature_set="3.11.0",
            xml_roles=("Promoted", "Unpromoted"),
            db2cm_fencing_section=True,
            pacemakerd_status=False,
            agent_colons="::",
            # not captured: 11.5.7's values, the nearest release with a `crm config show`
            symmetric_cluster=True,
            no_quorum_policy="stop",
            failure_timeout=10,
            properties_captured=False,
            captured=True,
        ),
        Db2Release(
            db2="11.5.9",
            db2_level="11.5.9.0",
            pacemaker="2.1.6-1.db2pcmk.el8",
            pcmk_commit="6fdc9deea29",
            corosync="3.1.7",
            qdevice="3.0.2-1.db2pcmk.el8",
            crmsh="4.5.0-1.db2pcmk.el8",
            rhel="8.8",
            api_version="2.30",
            feature_set="3.17.4",
            xml_roles=("Promoted", "Unpromoted"),
            db2cm_fencing_section=True,
            pacemakerd_status=True,
            agent_colons=":",
            # not captured: 11.5.7's values, the nearest release with a `crm config show`
            symmetric_cluster=True,
            no_quorum_policy="stop",
            failure_timeout=10,
            properties_captured=False,
            captured=False,
        ),
        Db2Release(
            db2="12.1",
            db2_level="12.1.0.0",
            pacemaker="2.1.7-1.db2pcmk.el9",
            pcmk_commit="0f7f88312f",
            corosync="3.1.8",
            qdevice="3.0.3-1.db2pcmk.el9",
            crmsh="4.6.0-1.db2pcmk.el9",
            rhel="9.2",
            api_version="2.32",
            feature_set="3.19.0",
            xml_roles=("Promoted", "Unpromoted"),
            db2cm_fencing_section=True,
            pacemakerd_status=True,
            agent_colons=":",
            # not captured: 11.5.7's values, the nearest release with a `crm config show`
            symmetric_cluster=True,
            no_quorum_policy="stop",
            failure_timeout=10,
            properties_captured=False,
            captured=False,
        ),
    )
}
# The default lab: the release with the most real captures (db2cm -list, crm status, crm_mon 2.1.2 XML).
DEFAULT_DB2 = "11.5.8"


def properties_source(rel: Db2Release) -> Db2Release:
    """The release whose captured cluster properties `rel` has: itself, or the nearest earlier capture."""
    found = rel
    for other in RELEASES.values():
        if other is rel:
            break
        if other.properties_captured:
            found = other
    return found


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def releases_help() -> str:
    """The releases `--db2` takes, for --help: the uncaptured ones marked as such, and the ones whose cluster
    properties are another release's."""
    names = [r.db2 if r.captured else f"{r.db2}*" for r in RELEASES.values()]
    assumed = [r for r in RELEASES.values() if not r.properties_captured]
    sources = sorted({properties_source(r).db2 for r in assumed})
    return (
        f"{', '.join(names)}; default {DEFAULT_DB2}. *: no real output of that release is in the corpus, "
        "so its version strings and layouts are stand-ins not checked against a real capture. "
        f"No `crm config show` of {_either([r.db2 for r in assumed])} is in the corpus: their cluster "
        f"properties are {' and '.join(sources)}'s"
    )


def release(db2: str | None = None) -> Db2Release:
    """Return the release for `db2` ("11.5.9", "11.5.9.0", "12.1"); None gives the default.

    Raises ValueError naming the releases the lab knows, so `--db2 11.4` says what to type instead.
    """
    if db2 is None:
        return RELEASES[DEFAULT_DB2]
    key = db2.strip()
    while key not in RELEASES and key.endswith(".0") and key.count(".") > 1:
        key = key.removesuffix(".0")  # "11.5.9.0" -> "11.5.9", "12.1.0.0" -> "12.1"
    if key in RELEASES:
        return RELEASES[key]
    raise ValueError(f"the lab knows no Db2 release {db2!r}: give one of {', '.join(RELEASES)}")
