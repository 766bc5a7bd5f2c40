"""Fidelity checks that keep the pure-Python lab honest (issue 4 item 4).

1. The lab's `crm_mon --output-as=xml` validates against Pacemaker's own RelaxNG schemas (the api-result
   schema of the version the document claims, under /usr/share/pacemaker/api), in every state; so does the
   real cluster's, and a broken document does not (the check is not vacuous).
2. For each state the real cluster went through, the lab put in the same state parses, through the same
   status service, to the same snapshot shape (promoted node, online nodes, quorum, qdevice, qnetd clients,
   HADR roles, verdicts).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from services.status.service import gather_cluster_status

from .lab_mirror import LabRunner, lab_in_state, shape

SCHEMA_DIR = Path("/usr/share/pacemaker/api")
LAB_STATES = ("healthy", "moved", "node-crash", "qnetd-down", "no-quorum", "recovered")
# node-standby: the embedded lab has no standby drill (crm node standby is not modelled there)


def _require_schemas() -> None:
    missing = [] if shutil.which("xmllint") else ["xmllint (Debian package libxml2-utils)"]
    if not (SCHEMA_DIR / "api-result.rng").is_file():
        missing.append(f"{SCHEMA_DIR}/api-result.rng (Debian package pacemaker-common)")
    if not missing:
        return
    reason = "RNG validation needs " + " and ".join(missing)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the fidelity checks, but: {reason}", pytrace=False)
    pytest.skip(reason)


def rng_errors(xml: str, tmp_path: Path) -> str | None:
    """Validate `xml` with xmllint against the api-result schema of its api-version; None when valid."""
    version = re.search(r'<pacemaker-result api-version="([^"]+)"', xml)
    assert version, f"not a pacemaker-result document: {xml[:200]!r}"
    schema = SCHEMA_DIR / f"api-result-{version.group(1)}.rng"
    assert schema.is_file(), f"api-version {version.group(1)} is unknown to the installed Pacemaker"
    doc = tmp_path / "crm_mon.xml"
    doc.write_text(xml, encoding="utf-8")
    done = subprocess.run(
        ["xmllint", "--noout", "--relaxng", str(schema), str(doc)], capture_output=True, text=True, timeout=60
    )
    return None if done.returncode == 0 else done.stderr.strip()


def _lab_xml(state: str) -> str:
    from lab.commands import run_command

    context = {"moved_to": "db2b", "crashed": "db2a"}
    lab, _ = lab_in_state(state, context, promoted_before="db2a")
    speaker = next(h for h in lab.hosts.values() if h.role == "db" and h.up)
    rc, out, err = run_command(lab, speaker, ["crm_mon", "-1", "--output-as=xml"])
    assert rc == 0, err
    return out


@pytest.mark.parametrize("state", LAB_STATES)
def test_lab_crm_mon_xml_validates_against_pacemaker_schema(state: str, tmp_path: Path) -> None:
    _require_schemas()
    xml = _lab_xml(state)
    assert rng_errors(xml, tmp_path) is None, rng_errors(xml, tmp_path)


def test_lab_not_connected_xml_validates(tmp_path: Path) -> None:
    _require_schemas()
    render = pytest.importorskip("lab.render_pacemaker")
    state = pytest.importorskip("lab.state")
    xml = render.render_crm_mon_not_connected_xml(state.LabCluster("lab1"))
    assert rng_errors(xml, tmp_path) is None


@pytest.mark.parametrize(
    ("old", "new"),
    [(' online="true"', ' online="yes"'), (' with_quorum="true"', ""), ("<nodes>", "<nodes><bogus/>")],
)
def test_schema_check_rejects_broken_xml(old: str, new: str, tmp_path: Path) -> None:
    _require_schemas()
    xml = _lab_xml("healthy")
    assert old in xml
    assert rng_errors(xml.replace(old, new, 1), tmp_path) is not None


@pytest.mark.pacemaker
@pytest.mark.parametrize(
    "state", ("healthy", "moved", "node-standby", "node-crash", "qnetd-down", "no-quorum")
)
def test_real_crm_mon_xml_validates(cluster_walk, state: str, tmp_path: Path) -> None:
    _require_schemas()
    xml = cluster_walk[state].crm_mon_xml
    assert xml, f"no crm_mon XML recorded in {state}"
    assert rng_errors(xml, tmp_path) is None


def _promoted_before(cluster_walk, state: str) -> str:
    """The node the real cluster had promoted when the state's change was made."""
    obs = cluster_walk[state]
    if state == "moved":
        return obs.context["moved_from"]
    if "crashed" in obs.context:
        return obs.context["crashed"]
    return obs.status.promoted_node or "db2a"


@pytest.mark.pacemaker
@pytest.mark.parametrize("state", LAB_STATES)
def test_lab_and_real_cluster_parse_to_the_same_snapshot(cluster_walk, pcmk_lab, state: str) -> None:
    real = cluster_walk[state]
    assert real.mismatches == [], f"the real cluster did not reach {state}: {real.mismatches}"
    lab, clock = lab_in_state(state, real.context, _promoted_before(cluster_walk, state))
    lab_status = asyncio.run(
        gather_cluster_status(pcmk_lab.cluster, LabRunner(lab), aws_route=False, clock=clock)
    )
    real_shape, lab_shape = shape(real.status), shape(lab_status)
    differences = {
        k: {"real": real_shape[k], "lab": lab_shape[k]} for k in real_shape if real_shape[k] != lab_shape[k]
    }
    assert differences == {}
