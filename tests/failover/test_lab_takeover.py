"""The lab's takeover and crm answers: real CLP / crmsh wording, and the state they change."""

from __future__ import annotations

import pytest
from corpus import LAB, corpus_files

from lab.commands import run_command
from lab.commands_takeover import cli_constraints
from lab.state import LabCluster

corpus_files("pacemaker-lab/02-after-move/*ACTION*")
OK = "DB20000I  The TAKEOVER HADR ON DATABASE command completed successfully.\n"


@pytest.fixture
def lab() -> LabCluster:
    return LabCluster("lab1", failover_delay_s=0)


def run(lab: LabCluster, host: str, *argv: str):
    return run_command(lab, lab.hosts[host], list(argv))


def test_takeover_on_the_standby_swaps_roles_and_pacemaker_follows(lab):
    assert run(lab, "db2b", "db2", "takeover", "hadr", "on", "db", "HADRDB") == (0, OK, "")
    summary = lab.summary()
    assert (summary["hadr_primary"], summary["promoted"], summary["hadr_state"]) == ("db2b", "db2b", "PEER")
    # and back, with the command as one CLP string and the long keyword
    assert run(lab, "db2a", "db2", "takeover hadr on database hadrdb") == (0, OK, "")
    assert lab.summary()["promoted"] == "db2a"


def test_takeover_on_the_primary_is_sql1770n_reason_1(lab):
    code, out, err = run(lab, "db2a", "db2", "takeover", "hadr", "on", "db", "HADRDB")
    assert (code, out, err) == (4, 'SQL1770N  Takeover HADR cannot complete. Reason code = "1".\n', "")
    assert lab.summary()["hadr_primary"] == "db2a"


def test_takeover_outside_peer_needs_force_and_peer_window(lab):
    lab.disconnect_hadr()
    code, out, _ = run(lab, "db2b", "db2", "takeover", "hadr", "on", "db", "HADRDB")
    assert (code, out) == (4, 'SQL1770N  Takeover HADR cannot complete. Reason code = "2".\n')
    assert lab.summary()["hadr_primary"] == "db2a"
    code, out, _ = run(
        lab, "db2b", "db2", "takeover", "hadr", "on", "db", "HADRDB", "by", "force", "peer", "window", "only"
    )
    assert (code, out) == (0, OK)
    assert lab.summary()["hadr_primary"] == "db2b" and lab.summary()["promoted"] == "db2b"


def test_peer_window_only_refuses_after_the_window(lab):
    clock = [lab.clock()]
    lab.clock = lambda: clock[0]
    lab.disconnect_hadr()
    clock[0] += lab.peer_window_s + 1
    code, out, _ = run(
        lab, "db2b", "db2", "takeover", "hadr", "on", "db", "HADRDB", "by", "force", "peer", "window", "only"
    )
    assert (code, out) == (4, 'SQL1770N  Takeover HADR cannot complete. Reason code = "9".\n')


def test_unknown_database_and_bad_options(lab):
    code, out, _ = run(lab, "db2b", "db2", "takeover", "hadr", "on", "db", "OTHER")
    assert code == 4 and out.startswith(
        'SQL1013N  The database alias name or database name "OTHER" could not be found.'
    )
    code, out, _ = run(lab, "db2b", "db2", "takeover", "hadr", "on", "db", "HADRDB", "now")
    assert code == 4 and out.startswith('SQL0104N  An unexpected token "now"')
    # other db2 commands still reach their own handlers
    assert run(lab, "db2b", "db2", "get", "db", "cfg", "for", "HADRDB")[0] == 0


def test_crm_resource_move_and_clear_print_what_crmsh_prints(lab):
    clone = lab.clone_rsc
    moved = (LAB / "02-after-move" / f"db2a__ACTION__crm_resource_move_{clone}_db2b.txt").read_text()
    cleared = (LAB / "02-after-move" / f"db2b__ACTION__crm_resource_clear_{clone}.txt").read_text()
    assert run(lab, "db2a", "sudo", "-n", "crm", "resource", "move", clone, "db2b") == (0, "", moved)
    assert lab.summary()["promoted"] == "db2b" and lab.summary()["hadr_primary"] == "db2b"
    assert [(c.id, c.node, c.score) for c in cli_constraints(lab)] == [
        (f"cli-prefer-{clone}", "db2b", "INFINITY")
    ]
    xml = run(lab, "db2a", "cibadmin", "--query", "--scope", "constraints")[1]
    assert (
        f'<rsc_location id="cli-prefer-{clone}" rsc="{clone}" role="Started" node="db2b" score="INFINITY"/>'
        in xml
    )
    # a second move while the constraint exists is refused, as crm_resource does (exit 108 below crmsh)
    code, _, err = run(lab, "db2a", "crm", "resource", "move", clone, "db2a")
    assert code == 1 and "Requested item already exists" in err
    code, _, err = run(
        lab, "db2a", "crm_resource", "--move", "--promoted", "--resource", clone, "--node", "db2a"
    )
    assert code == 108 and err == "crm_resource: Error performing operation: Requested item already exists\n"
    assert run(lab, "db2b", "crm", "resource", "clear", clone) == (0, "", cleared)
    assert cli_constraints(lab) == []


def test_crm_resource_ban_prints_the_real_warning(lab):
    [ban] = corpus_files("pacemaker-lab/03b-ban/db2a__ACTION__crm_resource_--ban*")
    expected = ban.read_text()
    clone = lab.clone_rsc
    code, out, err = run(
        lab, "db2a", "crm_resource", "--ban", "--promoted", "--resource", clone, "--node", "db2a"
    )
    assert (code, out, err) == (0, "", expected)
    assert lab.summary()["promoted"] == "db2b"
    [clear] = corpus_files("pacemaker-lab/03b-ban/db2b__ACTION__crm_resource_--clear*")
    cleared = clear.read_text()
    assert run(lab, "db2b", "crm_resource", "--clear", "--resource", clone) == (0, cleared, "")


def test_move_outside_peer_records_a_failed_promote_and_cleanup_removes_it(lab):
    lab.disconnect_hadr()
    clone = lab.clone_rsc
    assert run(lab, "db2a", "crm", "resource", "move", clone, "db2b")[0] == 0
    assert lab.summary()["promoted"] == "db2a"
    assert [(f.resource, f.task, f.node) for f in lab.failed_actions] == [(lab.hadr_rsc, "promote", "db2b")]
    code, out, _ = run(lab, "db2a", "crm", "resource", "cleanup", lab.hadr_rsc, "db2b")
    assert (code, out) == (0, f"Cleaned up {lab.hadr_rsc} on db2b\n")
    assert lab.failed_actions == []


def test_unknown_resource_and_cibadmin_without_scope(lab):
    code, _, err = run(lab, "db2a", "crm", "resource", "move", "nope", "db2b")
    assert code == 1 and err == "ERROR: resource.move: Resource nope not found\n"
    assert run(lab, "db2a", "cibadmin", "-Q")[0] == 1
    assert run(lab, "db2a", "crm", "status")[0] == 0  # still the existing handler
