#!/usr/bin/python3
"""Stand-in `db2pd`, `db2cm` and `db2` for the nodes of db2ops' real Pacemaker lab (pcmk-lab.sh).

Db2 cannot run in the lab, so these answer in Db2's real output formats (layouts copied from the corpus:
db2pd-hadr/peer-primary-azure-rhel-v111.txt, db2cm-list/hadr-both-online-qdevice.txt,
db2-dbcfg-hadr/*) and follow the node's REAL Pacemaker role: each call asks the local `crm_mon` where the
HADR clone is Promoted. PRIMARY is reported exactly where Pacemaker promoted, STANDBY where the clone is
Unpromoted, and on a node where Pacemaker is down (or the clone is stopped) the database is "not activated".
Invoked through symlinks named db2pd / db2cm / db2 (argv[0] picks the tool). Standard library only: it runs
with the distribution's python inside the lab hosts.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from typing import Any

INSTANCE = "db2inst1"
DATABASE = "HADRDB"
NODES = ("db2a", "db2b")
HADR_RSC = f"db2_{INSTANCE}_{INSTANCE}_{DATABASE}"
CLONE = f"{HADR_RSC}-clone"
OIP = f"{HADR_RSC}-AWS-primary-OIP"
OVERLAY_IP = "192.168.1.81"
HADR_PORT = 50010
STATE_FILE = "/run/db2-standin.json"  # per lab host: /run is private to each host
LOG_POS = "S0000012.LOG, 14151, 3685322855"


class View:
    """What the local crm_mon says, reduced to what Db2's tools would know."""

    def __init__(self, root: ET.Element) -> None:
        self.local = socket.gethostname()
        self.promoted: list[str] = []
        self.unpromoted: list[str] = []
        self.online: dict[str, bool] = {}
        self.started: dict[str, list[str]] = {}
        dc = root.find("summary/current_dc")
        self.dc = dc.get("name", "") if dc is not None and dc.get("present") == "true" else ""
        self.version = dc.get("version", "") if dc is not None else ""
        configured = root.find("summary/resources_configured")
        self.resources_configured = configured.get("number", "0") if configured is not None else "0"
        for node in root.findall("nodes/node"):
            self.online[node.get("name", "")] = node.get("online") == "true"
        for res in root.iter("resource"):
            nodes = [n.get("name", "") for n in res.findall("node")]
            if res.get("id") == HADR_RSC:
                if res.get("role") in ("Promoted", "Master"):
                    self.promoted += nodes
                elif res.get("role") in ("Unpromoted", "Slave"):
                    self.unpromoted += nodes
            elif res.get("active") == "true":
                self.started[res.get("id", "")] = nodes

    @property
    def role(self) -> str | None:
        if self.local in self.promoted:
            return "PRIMARY"
        if self.local in self.unpromoted:
            return "STANDBY"
        return None

    @property
    def peer(self) -> bool:
        return bool(self.promoted) and bool(self.unpromoted)


def cluster_view() -> View | None:
    """The local Pacemaker's view, or None when Pacemaker is not running on this node."""
    try:
        done = subprocess.run(
            ["/usr/sbin/crm_mon", "-1", "--output-as=xml"], capture_output=True, text=True, timeout=20
        )
        root = ET.fromstring(done.stdout)
    except (OSError, subprocess.SubprocessError, ET.ParseError):
        return None
    status = root.find("status")
    if status is not None and status.get("code") != "0":
        return None
    return View(root)


def remember(role: str | None, peer: bool) -> dict[str, Any]:
    """Keep when the role and the peer state last changed (for Up/CONNECT_STATUS_TIME) and the last role."""
    try:
        with open(STATE_FILE) as fh:
            state: dict[str, Any] = json.load(fh)
    except (OSError, ValueError):
        state = {}
    now = time.time()
    if state.get("role") != role:
        state.update(role=role, role_since=now)
    if state.get("peer") != peer:
        state.update(peer=peer, peer_since=now)
    if role:
        state["db_role"] = role
    try:
        with open(STATE_FILE + ".tmp", "w") as fh:
            json.dump(state, fh)
        os.replace(STATE_FILE + ".tmp", STATE_FILE)
    except OSError:
        pass
    return state


def other(node: str) -> str:
    return next((n for n in NODES if n != node), node)


# ---------------------------------------------------------------- db2pd
def hadr_time(epoch: float | None) -> str:
    if epoch is None:
        return "NULL"
    return (
        time.strftime("%m/%d/%Y %H:%M:%S", time.localtime(epoch))
        + f".{int(epoch % 1 * 1e6):06d} ({int(epoch)})"
    )


def db2pd(args: list[str]) -> int:
    lowered = [a.lower() for a in args]
    if "-hadr" not in lowered:
        print("db2pd (db2ops lab stand-in) only answers: db2pd -hadr -db <database>", file=sys.stderr)
        return 1
    db = DATABASE
    if "-db" in lowered and lowered.index("-db") + 1 < len(args):
        db = args[lowered.index("-db") + 1].upper()
    elif "-alldbs" not in lowered:
        print("\nOption -hadr requires -db <database> or -alldbs option and active database.\n")
        return 0
    view = cluster_view()
    role = view.role if view else None
    state = remember(role, bool(view and view.peer))
    if db != DATABASE or role is None:
        print(
            f"\nDatabase {db} not activated on database member 0 or this database name cannot be found "
            "in the local database directory.\n\n"
            "Option -hadr requires -db <database> or -alldbs option and active database.\n"
        )
        return 0
    assert view is not None
    now = time.time()
    up = int(now - state["role_since"])
    primary = view.promoted[0] if view.promoted else other(view.local)
    standby = other(primary)
    peer = view.peer
    if peer:
        hadr_state, connect = "PEER", "CONNECTED"
    elif role == "PRIMARY":
        hadr_state, connect = "DISCONNECTED", "DISCONNECTED"
    else:
        hadr_state, connect = "REMOTE_CATCHUP_PENDING", "DISCONNECTED"
    since_peer = state["peer_since"]
    log_time = state["role_since"]
    fields = [
        ("HADR_ROLE", role),
        ("REPLAY_TYPE", "PHYSICAL"),
        ("HADR_SYNCMODE", "NEARSYNC"),
        ("STANDBY_ID", "1" if role == "PRIMARY" else "0"),
        ("LOG_STREAM_ID", "0"),
        ("HADR_STATE", hadr_state),
        ("HADR_FLAGS", "TCP_PROTOCOL"),
        ("PRIMARY_MEMBER_HOST", primary),
        ("PRIMARY_INSTANCE", INSTANCE),
        ("PRIMARY_MEMBER", "0"),
        ("STANDBY_MEMBER_HOST", standby),
        ("STANDBY_INSTANCE", INSTANCE),
        ("STANDBY_MEMBER", "0"),
        ("HADR_CONNECT_STATUS", connect),
        ("HADR_CONNECT_STATUS_TIME", hadr_time(since_peer)),
        ("HEARTBEAT_INTERVAL(seconds)", "30"),
        ("HEARTBEAT_MISSED", "0" if peer else str(int((now - since_peer) // 30))),
        ("HEARTBEAT_EXPECTED", str(up // 30)),
        ("HADR_TIMEOUT(seconds)", "120"),
        ("TIME_SINCE_LAST_RECV(seconds)", "0" if peer else str(int(now - since_peer))),
        ("PEER_WAIT_LIMIT(seconds)", "0"),
        ("LOG_HADR_WAIT_CUR(seconds)", "0.000"),
        ("LOG_HADR_WAIT_RECENT_AVG(seconds)", "0.000000"),
        ("LOG_HADR_WAIT_ACCUMULATED(seconds)", "0.000"),
        ("LOG_HADR_WAIT_COUNT", "0"),
        ("SOCK_SEND_BUF_REQUESTED,ACTUAL(bytes)", "0, 46080"),
        ("SOCK_RECV_BUF_REQUESTED,ACTUAL(bytes)", "0, 369280"),
        ("PRIMARY_LOG_FILE,PAGE,POS", LOG_POS),
        ("STANDBY_LOG_FILE,PAGE,POS", LOG_POS),
        ("HADR_LOG_GAP(bytes)", "0"),
        ("STANDBY_REPLAY_LOG_FILE,PAGE,POS", LOG_POS),
        ("STANDBY_RECV_REPLAY_GAP(bytes)", "0"),
        ("PRIMARY_LOG_TIME", hadr_time(log_time)),
        ("STANDBY_LOG_TIME", hadr_time(log_time)),
        ("STANDBY_REPLAY_LOG_TIME", hadr_time(log_time)),
        ("STANDBY_RECV_BUF_SIZE(pages)", "2048"),
        ("STANDBY_RECV_BUF_PERCENT", "0"),
        ("STANDBY_SPOOL_LIMIT(pages)", "13000"),
        ("STANDBY_SPOOL_PERCENT", "0"),
        ("STANDBY_ERROR_TIME", "NULL"),
        ("PEER_WINDOW(seconds)", "120"),
        ("PEER_WINDOW_END", hadr_time(now + 120) if peer else "NULL"),
        ("READS_ON_STANDBY_ENABLED", "N"),
    ]
    days, rest = divmod(up, 86400)
    hours, rest = divmod(rest, 3600)
    stamp = time.strftime("%Y-%m-%d-%H.%M.%S", time.localtime(now)) + f".{int(now % 1 * 1e6):06d}"
    activity = "Active" if role == "PRIMARY" else "Standby"
    print()
    print(
        f"Database Member 0 -- Database {DATABASE} -- {activity} -- Up {days} days "
        f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d} -- Date {stamp}"
    )
    print()
    for name, value in fields:
        print(f"{name:>37} = {value}" if value else f"{name:>37} =")
    print()
    return 0


# ---------------------------------------------------------------- db2cm
def db2cm(args: list[str]) -> int:
    if [a.lower() for a in args] != ["-list"]:
        print("db2cm (db2ops lab stand-in) only answers: db2cm -list", file=sys.stderr)
        return 1
    view = cluster_view()
    if view is None:
        print("Line: 1 Error running command:\n    crm_mon -1 --output-as=xml", file=sys.stderr)
        return 1
    primary = view.promoted[0] if view.promoted else ""
    standby = view.unpromoted[0] if view.unpromoted else ""
    out = ["      Cluster Status", " ", "Domain information:", " ", "HA configuration          = HADR", " "]
    out += [
        f"{'Domain name':<26}= {domain_name()}",
        f"{'Pacemaker version':<26}= {view.version}",
        f"{'Corosync version':<26}= {corosync_version()}",
        f"{'Current domain leader':<26}= {view.dc}",
        f"{'Number of nodes':<26}= {len(view.online)}",
        f"{'Number of resources':<26}= {view.resources_configured}",
        " ",
        "Node information:",
        "Name name           State",
        "----------------    --------",
    ]
    out += [f"{n:<20}{'Online' if on else 'Offline'}" for n, on in view.online.items()]
    out += [" ", "Resource Information:", " "]

    def top(key: str, value: str) -> str:
        return f"{key:<26}= {value}"

    def sub(key: str, value: str, indent: int = 2) -> str:
        return f"{' ' * indent}{key:<{32 - indent}}= {value}"

    def state(resource: str) -> tuple[str, str]:
        nodes = view.started.get(resource, [])
        return ("Online", nodes[0]) if nodes else ("Offline", "")

    def plain(name: str, kind: str, node: str, *details: str) -> list[str]:
        """A resource that is not the HADR database: name, state, type, node, then its own details."""
        head = [top("Resource Name", name), sub("State", state(name)[0]), sub("Managed", "true")]
        return [*head, sub("Resource Type", kind), sub("Node", node, 4), *details, " "]

    out += [
        top("Resource Name", HADR_RSC),
        sub("Resource Type", "HADR"),
        sub("DB Name", DATABASE, 4),
        sub("Managed", "true", 4),
        sub("HADR Primary Instance", INSTANCE if primary else "", 4),
        sub("HADR Primary Node", primary, 4),
        sub("HADR Primary State", "Online" if primary else "Offline", 4),
        sub("HADR Standby Instance", INSTANCE if standby else "", 4),
        sub("HADR Standby Node", standby, 4),
        sub("HADR Standby State", "Online" if standby else "Offline", 4),
        " ",
    ]
    oip_node = state(OIP)[1]
    out += plain(OIP, "IP", oip_node, sub("Ip Address", OVERLAY_IP, 4), sub("Location", oip_node))
    for node in NODES:
        out += plain(f"db2_{node}_{INSTANCE}_0", "Instance", node, sub("Instance Name", INSTANCE, 4))
    out += ["Fencing Information:", "  Not configured", "Quorum Information:", "  Qdevice", " "]
    print("\n".join(out))
    qdevice = run(["/usr/sbin/corosync-qdevice-tool", "-s"])
    if qdevice:
        print(qdevice, end="" if qdevice.endswith("\n") else "\n")
    return 0


def run(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def domain_name() -> str:
    try:
        with open("/etc/corosync/corosync.conf") as fh:
            for line in fh:
                if line.strip().startswith("cluster_name:"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def corosync_version() -> str:
    # "Corosync Cluster Engine, version '3.1.7'"
    text = run(["/usr/sbin/corosync", "-v"])
    return text.split("'")[1] if text.count("'") >= 2 else ""


# ---------------------------------------------------------------- db2
DBCFG_HEAD = [
    "",
    f"       Database Configuration for Database {DATABASE}",
    "",
    " Database configuration release level                    = 0x1500",
    " Database release level                                  = 0x1500",
    "",
    " Update to database level pending                        = NO (0x0)",
    " Database territory                                      = US",
    " Database code page                                      = 1208",
    " Database code set                                       = UTF-8",
    " Database country/region code                            = 1",
    " Database collating sequence                             = IDENTITY",
    "",
]


def dbcfg_hadr(role: str, local: str) -> list[str]:
    remote = other(local)
    return [
        f" HADR database role                                      = {role}",
        f" HADR local host name                  (HADR_LOCAL_HOST) = {local}",
        f" HADR local service name                (HADR_LOCAL_SVC) = {HADR_PORT}",
        f" HADR remote host name                (HADR_REMOTE_HOST) = {remote}",
        f" HADR remote service name              (HADR_REMOTE_SVC) = {HADR_PORT}",
        f" HADR instance name of remote server  (HADR_REMOTE_INST) = {INSTANCE}",
        " HADR timeout value                       (HADR_TIMEOUT) = 120",
        f" HADR target list                     (HADR_TARGET_LIST) = {remote}:{HADR_PORT}",
        " HADR log write synchronization mode     (HADR_SYNCMODE) = NEARSYNC",
        " HADR spool log data limit (4KB)      (HADR_SPOOL_LIMIT) = AUTOMATIC(52000)",
        " HADR log replay delay (seconds)     (HADR_REPLAY_DELAY) = 0",
        " HADR peer window duration (seconds)  (HADR_PEER_WINDOW) = 120",
        " HADR SSL certificate label             (HADR_SSL_LABEL) =",
        " HADR SSL Hostname Validation        (HADR_SSL_HOST_VAL) = OFF",
    ]


def db2(args: list[str]) -> int:
    words = " ".join(args).lower().split()
    if words[:3] in (["get", "db", "cfg"], ["get", "database", "configuration"]) and "for" in words:
        at = words.index("for")
        db = words[at + 1].upper() if at + 1 < len(words) else ""
        if db != DATABASE:
            print(
                f'SQL1013N  The database alias name or database name "{db}" could not be found.  SQLSTATE=42705'
            )
            return 4
        view = cluster_view()
        role = view.role if view else None
        state = remember(role, bool(view and view.peer))
        local = socket.gethostname()
        print("\n".join(DBCFG_HEAD + dbcfg_hadr(state.get("db_role", "STANDBY"), local)))
        print()
        return 0
    print(
        "DB21034E  The command was processed as an SQL statement because it was not a valid Command Line "
        "Processor command.  During SQL processing it returned:\n"
        "SQL1024N  A database connection does not exist.  SQLSTATE=08003"
    )
    return 4


def main() -> int:
    tool = os.path.basename(sys.argv[0])
    handlers = {"db2pd": db2pd, "db2cm": db2cm, "db2": db2}
    if tool not in handlers:
        print(f"run me as db2pd, db2cm or db2 (symlinks), not {tool}", file=sys.stderr)
        return 2
    return handlers[tool](sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
