"""The real-Pacemaker lab's stand-in Db2 (lab/data/pcmk_db2_standin.py) without Pacemaker: `db2 takeover
hadr` with Db2's preconditions and messages, and the db2hadr stand-in agent's answers to Pacemaker. The
script runs inside the lab hosts; here it is imported with its lab root pointed at a temporary folder and
the host name chosen per call (the real tier, test_overlay_route.py, runs it under real Pacemaker)."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "lab" / "data" / "pcmk_db2_standin.py"


@pytest.fixture
def db2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("pcmk_db2_standin", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "LAB_ROOT", str(tmp_path))
    for node in ("db2a", "db2b"):
        (tmp_path / "hosts" / node / "run").mkdir(parents=True)
    scores: list[tuple[str, int | None]] = []
    monkeypatch.setattr(
        module, "promotion_score", lambda score: scores.append((module.socket.gethostname(), score))
    )
    module.scores = scores
    return module


def on(db2: ModuleType, monkeypatch: pytest.MonkeyPatch, node: str) -> None:
    monkeypatch.setattr(db2.socket, "gethostname", lambda: node)


def activate(db2: ModuleType, node: str, role: str, since: float = 0.0) -> None:
    db2.save(node, {"role": role, "role_since": since, "pcmk_since": since + 1, "db_role": role})


def takeover(db2: ModuleType, monkeypatch, capsys, node: str, *options: str) -> tuple[int, str]:
    on(db2, monkeypatch, node)
    code = db2.db2(["takeover", "hadr", "on", "db", "HADRDB", *options])
    return code, capsys.readouterr().out.strip()


def test_planned_takeover_swaps_the_roles_over_the_connection(db2, monkeypatch, capsys) -> None:
    activate(db2, "db2a", "PRIMARY")
    activate(db2, "db2b", "STANDBY")
    code, out = takeover(db2, monkeypatch, capsys, "db2b")
    assert (code, out) == (0, "DB20000I  The TAKEOVER HADR ON DATABASE command completed successfully.")
    assert db2.load("db2b")["role"] == "PRIMARY" and db2.load("db2a")["role"] == "STANDBY"


def test_takeover_on_the_primary_is_sql1770n_reason_1(db2, monkeypatch, capsys) -> None:
    activate(db2, "db2a", "PRIMARY")
    activate(db2, "db2b", "STANDBY")
    code, out = takeover(db2, monkeypatch, capsys, "db2a")
    assert (code, out) == (4, 'SQL1770N  Takeover HADR cannot complete. Reason code = "1".')
    assert db2.load("db2a")["role"] == "PRIMARY"


def test_planned_takeover_needs_peer_and_forced_window_only_needs_the_window(
    db2, monkeypatch, capsys
) -> None:
    activate(db2, "db2b", "STANDBY")  # the primary is gone (db2a crashed: its state is lost)
    assert takeover(db2, monkeypatch, capsys, "db2b") == (
        4,
        'SQL1770N  Takeover HADR cannot complete. Reason code = "2".',
    )
    state = db2.load("db2b")
    db2.save("db2b", {**state, "peer_seen": time.time() - db2.PEER_WINDOW_S - 5})
    code, out = takeover(db2, monkeypatch, capsys, "db2b", "by", "force", "peer", "window", "only")
    assert (code, out) == (4, 'SQL1770N  Takeover HADR cannot complete. Reason code = "9".')
    db2.save("db2b", {**db2.load("db2b"), "peer_seen": time.time() - 10})
    code, out = takeover(db2, monkeypatch, capsys, "db2b", "by", "force", "peer", "window", "only")
    assert code == 0 and out.startswith("DB20000I") and db2.load("db2b")["role"] == "PRIMARY"


def test_bad_option_and_unknown_database_are_the_clp_errors(db2, monkeypatch, capsys) -> None:
    activate(db2, "db2b", "STANDBY")
    code, out = takeover(db2, monkeypatch, capsys, "db2b", "by", "magic")
    assert code == 4 and out.startswith('SQL0104N  An unexpected token "magic"')
    on(db2, monkeypatch, "db2b")
    assert db2.db2(["takeover", "hadr", "on", "db", "OTHER"]) == 4
    assert "SQL1013N" in capsys.readouterr().out


def test_db2pd_reports_db2s_own_role_not_pacemakers(db2, monkeypatch, capsys) -> None:
    activate(db2, "db2a", "PRIMARY")
    activate(db2, "db2b", "STANDBY")
    takeover(db2, monkeypatch, capsys, "db2b")
    on(db2, monkeypatch, "db2a")
    db2.db2pd(["-hadr", "-db", "HADRDB"])
    out = capsys.readouterr().out
    assert "HADR_ROLE = STANDBY" in out and "HADR_STATE = PEER" in out
    assert "PRIMARY_MEMBER_HOST = db2b" in out


def agent(db2: ModuleType, monkeypatch, node: str, action: str, role: str = "") -> int:
    on(db2, monkeypatch, node)
    monkeypatch.setenv("OCF_RESKEY_CRM_meta_role", role)
    return db2.agent([action])


def test_agent_moves_the_promotion_score_after_a_dba_takeover(db2, monkeypatch, capsys) -> None:
    for node in ("db2a", "db2b"):
        assert agent(db2, monkeypatch, node, "start") == db2.OCF_SUCCESS
    assert agent(db2, monkeypatch, "db2a", "promote") == db2.OCF_SUCCESS  # neither was primary
    assert agent(db2, monkeypatch, "db2a", "monitor", "Promoted") == db2.OCF_RUNNING_PROMOTED
    assert agent(db2, monkeypatch, "db2b", "monitor", "Unpromoted") == db2.OCF_SUCCESS
    db2.scores.clear()
    time.sleep(0.01)
    takeover(db2, monkeypatch, capsys, "db2b")
    # the new primary's unpromoted monitor raises its score (no failure: 0), the old primary's promoted
    # monitor lowers its own and still says promoted until Pacemaker demotes it
    assert agent(db2, monkeypatch, "db2b", "monitor", "Unpromoted") == db2.OCF_SUCCESS
    assert agent(db2, monkeypatch, "db2a", "monitor", "Promoted") == db2.OCF_RUNNING_PROMOTED
    assert db2.scores == [("db2b", db2.SCORE_PRIMARY), ("db2a", db2.SCORE_STANDBY)]
    assert agent(db2, monkeypatch, "db2a", "demote") == db2.OCF_SUCCESS
    assert agent(db2, monkeypatch, "db2b", "promote") == db2.OCF_SUCCESS  # already primary: no-op
    assert db2.load("db2b")["role"] == "PRIMARY" and db2.load("db2a")["role"] == "STANDBY"
    # a probe reports the true role
    assert agent(db2, monkeypatch, "db2b", "monitor") == db2.OCF_RUNNING_PROMOTED


def test_agent_promote_takes_over_and_stop_deactivates(db2, monkeypatch) -> None:
    activate(db2, "db2a", "PRIMARY")
    activate(db2, "db2b", "STANDBY")
    assert agent(db2, monkeypatch, "db2b", "promote") == db2.OCF_SUCCESS  # Pacemaker's move: a takeover
    assert db2.load("db2b")["role"] == "PRIMARY" and db2.load("db2a")["role"] == "STANDBY"
    assert agent(db2, monkeypatch, "db2a", "stop") == db2.OCF_SUCCESS
    assert db2.load("db2a") is None
    assert agent(db2, monkeypatch, "db2a", "monitor", "Unpromoted") == db2.OCF_NOT_RUNNING
    assert json.loads(Path(db2.db_file("db2a")).read_text())["db_role"] == "STANDBY"


def test_ethmon_keeps_the_interface_attribute_db2cms_rules_read(db2, monkeypatch, tmp_path) -> None:
    """db2ethmon stand-in: start and monitor set db2ethmon-eth0 (1 up, 0 down) only when the link changes;
    after stop the monitor says not running (a probe on a rebooted node starts it again)."""
    on(db2, monkeypatch, "db2a")
    calls: list[list[str]] = []
    monkeypatch.setattr(db2, "run", lambda argv: calls.append(argv) or "")
    monkeypatch.setenv("HA_RSCTMP", str(tmp_path / "rsctmp"))
    monkeypatch.setenv("OCF_RESOURCE_INSTANCE", "db2_db2a_eth0")
    monkeypatch.setenv("OCF_RESKEY_interface", "eth0")
    link = {"up": True}
    monkeypatch.setattr(db2, "link_up", lambda nic: link["up"])
    assert db2.ethmon(["monitor"]) == db2.OCF_NOT_RUNNING  # the probe before start
    assert db2.ethmon(["start"]) == db2.OCF_SUCCESS
    assert db2.ethmon(["monitor"]) == db2.OCF_SUCCESS
    link["up"] = False
    assert db2.ethmon(["monitor"]) == db2.OCF_SUCCESS  # the rule, not the monitor, bans the promotion
    assert [c[-2:] for c in calls] == [["--update", "1"], ["--update", "0"]]
    assert calls[0][:6] == ["/usr/sbin/crm_attribute", "--type", "status", "--node", "db2a", "--name"]
    assert calls[0][6] == "db2ethmon-eth0"
    assert db2.ethmon(["stop"]) == db2.OCF_SUCCESS and calls[-1][-1] == "--delete"
    assert db2.ethmon(["monitor"]) == db2.OCF_NOT_RUNNING
    assert db2.ethmon(["promote"]) == db2.OCF_ERR_UNIMPLEMENTED


def test_saves_at_the_same_moment_never_fail_nor_leave_a_torn_file(db2, tmp_path) -> None:
    """The agent's monitor, a demote and a `db2 takeover` over SSH may save one node's state at once; a
    shared temporary name made one writer's replace lose the other's file (the agent exited with an error:
    a failed demote in Pacemaker). Each save now writes its own temporary file and keeps the file's mode."""
    import os
    import threading

    activate(db2, "db2a", "PRIMARY")
    path = Path(db2.db_file("db2a"))
    os.chmod(path, 0o644)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(300):
                db2.save("db2a", {"role": "PRIMARY", "writer": n, "i": i, "pad": "x" * 2000})
        except BaseException as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert json.loads(path.read_text())["i"] == 299
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_db2pd_poll_during_a_promote_never_brings_the_old_primary_back(db2, monkeypatch) -> None:
    """The console polls `db2pd -hadr` on both hosts while Pacemaker promotes the standby. A poll on the
    old primary reads its state, and writes it back with the connection noted: without the pair's lock, a
    poll that read PRIMARY just before the takeover wrote STANDBY there saved PRIMARY again after it. Two
    primaries, HADR never back in PEER: CI's real-Pacemaker route walk saw exactly that. Here each thread is
    a host (its name is the host name the script sees) and every read is slowed to widen the window."""
    import threading

    monkeypatch.setattr(db2.socket, "gethostname", lambda: threading.current_thread().name)
    monkeypatch.setenv("OCF_RESKEY_CRM_meta_role", "Unpromoted")
    slow_load = db2.load

    def load(node: str):
        state = slow_load(node)
        time.sleep(0.002)
        return state

    monkeypatch.setattr(db2, "load", load)
    codes: list[int] = []
    outcomes: list[tuple[str, str]] = []
    for _ in range(25):
        with db2.transaction():
            activate(db2, "db2a", "PRIMARY")
            activate(db2, "db2b", "STANDBY")
        done = threading.Event()

        def poll(done: threading.Event) -> None:
            while not done.is_set():
                db2.db2pd(["-hadr", "-db", "HADRDB"])

        def promote() -> None:
            time.sleep(0.003)
            codes.append(db2.agent(["promote"]))

        poller = threading.Thread(target=poll, args=(done,), name="db2a")
        promoter = threading.Thread(target=promote, name="db2b")
        poller.start()
        promoter.start()
        promoter.join()
        time.sleep(0.02)
        done.set()
        poller.join()
        outcomes.append((db2.load("db2a")["role"], db2.load("db2b")["role"]))
    assert set(codes) == {db2.OCF_SUCCESS}
    assert set(outcomes) == {("STANDBY", "PRIMARY")}
