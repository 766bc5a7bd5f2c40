"""Location constraints left by `crm resource move` / `crm_resource --ban` (cli-prefer-*, cli-ban-*).

crm_mon's XML does not list a cli-prefer constraint (its score is positive, so it is no "ban"): the CIB's
constraints section is the only place to see it (corpus pacemaker-lab/02-after-move/db2b__cibadmin_-Q.xml).
While one exists Pacemaker keeps pinning the clone, and the next move fails with exit 108.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

from services.cluster_model import CrmBan
from services.parsers.errors import ParseError

KIND = "cib-constraints"
CONSTRAINTS_ARGV = ("cibadmin", "--query", "--scope", "constraints")
_HOSTILE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class LocationConstraint:
    """One <rsc_location> of the CIB. `score` is as written ("INFINITY", "-INFINITY", "100")."""

    id: str
    rsc: str
    node: str = ""
    score: str = ""
    role: str = ""

    @property
    def is_cli(self) -> bool:
        """True for the constraints crm_resource makes for move/ban (cli-prefer-*, cli-ban-*)."""
        return self.id.startswith(("cli-prefer-", "cli-ban-"))

    def describe(self) -> str:
        """Return a one-line human form: "cli-prefer-X (X on db2b, INFINITY)"."""
        role = f" role {self.role}" if self.role else ""
        return f"{self.id} ({self.rsc}{role} on {self.node or '?'}, {self.score or '?'})"


def parse_constraints_xml(text: str) -> tuple[LocationConstraint, ...]:
    """Parse `cibadmin --query --scope constraints` (or a whole `cibadmin -Q`) into its rsc_location rows.

    Returns the location constraints in document order. Raises ParseError for output that is not
    well-formed XML with a <constraints> element, for truncated output and for DTD/entity declarations.
    """
    if not text.strip():
        raise ParseError(
            KIND, "a <constraints> element", hint="cibadmin printed nothing; is Pacemaker running?"
        )
    if _HOSTILE.search(text):
        raise ParseError(KIND, "plain XML without DTD or entity declarations", excerpt=text[:80])
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise ParseError(
            KIND, "well-formed XML", line=line, hint="the output looks cut short; run cibadmin again"
        ) from exc
    section = root if root.tag == "constraints" else root.find(".//constraints")
    if section is None:
        raise ParseError(KIND, "a <constraints> element", excerpt=root.tag)
    found = []
    for el in section.iter("rsc_location"):
        cid = el.get("id")
        if not cid:
            raise ParseError(KIND, "an id on every <rsc_location>", excerpt=ET.tostring(el, "unicode")[:80])
        found.append(
            LocationConstraint(
                id=cid,
                rsc=el.get("rsc", ""),
                node=el.get("node", ""),
                score=el.get("score", ""),
                role=el.get("role", ""),
            )
        )
    return tuple(found)


def cli_constraints_for(
    resources: Iterable[str],
    constraints: Iterable[LocationConstraint] = (),
    bans: Iterable[CrmBan] = (),
) -> tuple[LocationConstraint, ...]:
    """Return the cli-* constraints on any of `resources` (the clone and its primitive), from the CIB rows
    and from crm_mon's bans (a cli-ban shows there too), without duplicates."""
    wanted = set(resources)
    out: dict[str, LocationConstraint] = {}
    for c in constraints:
        if c.is_cli and c.rsc in wanted:
            out[c.id] = c
    for b in bans:
        if b.id.startswith(("cli-prefer-", "cli-ban-")) and b.resource in wanted and b.id not in out:
            role = "Promoted" if b.promoted_only else ""
            out[b.id] = LocationConstraint(b.id, b.resource, b.node, str(b.weight), role)
    return tuple(out.values())
