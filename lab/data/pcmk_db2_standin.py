#!/usr/bin/python3
"""Stand-in `db2pd`, `db2cm` and `db2` for the nodes of db2ops' real Pacemaker lab (pcmk-lab.sh).

Db2 cannot run in the lab, so these answer in Db2's real output formats (layouts copied from the corpus:
db2pd-hadr/peer-primary-azure-rhel-v111.txt, db2cm-list/hadr-both-online-qdevice.txt,
db2-dbcfg-hadr/*). Db2's own state is the truth, as on a real cluster: each node keeps its database's
HADR role in /run/db2-hadr.json (lost on a crash, like a reboot), and the pair is "connected" (PEER) while
both databases are active with one PRIMARY and one STANDBY (the HADR TCP connection, modelled by reading
the peer's file through the lab root). `db2 takeover hadr on db X [by force [peer window only]]` changes
the roles with Db2's preconditions and messages; Pacemaker follows through the same script run as the
OCF agent `db2hadr` (the stand-in for IBM's ocf:heartbeat:db2hadr): start activates the database as a
standby, promote takes over, and a monitor that finds the role changed under Pacemaker (a DBA's takeover)
raises or lowers the promotion score so Pacemaker moves the promotion instead of recovering the resource.
`db2ethmon` stands in for IBM's network-interface monitor that db2cm -create -cluster puts on each host: it
watches the interface and keeps the node attribute db2ethmon-<nic> (1 up, 0 down) that db2cm's location
rules read. Invoked through symlinks named db2pd / db2cm / db2 / db2hadr / db2ethmon (argv[0] picks the
tool). Standard library
only: it runs with the distribution's python inside the lab hosts.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

INSTANCE = "db2inst1"
DATABASE = "HADRDB"
NODES = ("db2a", "db2b")
HADR_RSC = f"db2_{INSTANCE}_{INSTANCE}_{DATABASE}"
CLONE = f"{HADR_RSC}-clone"
OIP = f"{HADR_RSC}_AWS_primary-OIP"  # the HA plan's name (services/ha_setup)
OVERLAY_IP = "192.168.1.81"
NIC = "eth0"  # the lab hosts' interface (db2cm -publicEthernet)
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


LAB_ROOT = os.path.dirname(os.path.realpath(__file__))  # installed as $LAB_ROOT/db2-standin.py
PEER_WINDOW_S = 120
SCORE_PRIMARY = 10000  # promotion scores the agent sets (crm_attribute --promotion), as IBM's agent does
SCORE_STANDBY = 1000


def db_file(node: str) -> str:
    """The node's database state; the same file as /run/db2-hadr.json inside that node."""
    return os.path.join(LAB_ROOT, "hosts", node, "run", "db2-hadr.json")


def load(node: str) -> dict[str, Any] | None:
    """The node's database state, or None when the database is not activated there."""
    try:
        with open(db_file(node)) as fh:
            state: dict[str, Any] = json.load(fh)
    except (OSError, ValueError):
        return None
    return state if state.get("role") in ("PRIMARY", "STANDBY") else None


def save(node: str, state: dict[str, Any]) -> None:
    """Replace the node's state file atomically. The temporary file is this writer's own: the agent's
    monitor, a demote and a `db2 takeover` run over SSH may save at the same moment, and a shared
    `.tmp` name let one writer's replace take the other's file away (the agent then exited with an
    error, which Pacemaker recorded as a failed demote)."""
    path = db_file(node)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", dir=os.path.dirname(path) or ".")
    try:
        try:  # keep the file's mode (mkstemp makes 0600; root's agent and the instance owner both read it)
            mode = os.stat(path).st_mode & 0o777
        except OSError:
            mode = 0o644
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as fh:
            json.dump(state, fh)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def transaction() -> Iterator[None]:
    """Hold the pair's lock while reading and rewriting the two nodes' state files. `db2pd` (polled over
    SSH), the agent's monitor and a takeover each read both files and write one or both back: without the
    lock a `db2pd` on the old primary that read PRIMARY just before a takeover wrote STANDBY there saved
    PRIMARY again after it (a lost update: two primaries, HADR never back in PEER). flock on the lab's
    hosts folder, which every lab host sees through the same bind mount, serialises them across hosts."""
    try:
        fd = os.open(os.path.join(LAB_ROOT, "hosts"), os.O_RDONLY)
    except OSError:  # not inside a lab (a bare run): nothing to share with
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def set_role(node: str, state: dict[str, Any], role: str, now: float) -> None:
    if state.get("role") != role:
        state.update(role=role, role_since=now)
    state["db_role"] = role
    save(node, state)


def connected(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """The HADR connection: both databases active, one primary and one standby."""
    return bool(a and b) and {a["role"], b["role"]} == {"PRIMARY", "STANDBY"}  # type: ignore[index]


def observe(local: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Return (local, peer) states; on the local one note when the connection last changed and was seen."""
    mine, peer = load(local), load(other(local))
    if mine is not None:
        now = time.time()
        up = connected(mine, peer)
        if mine.get("peer") != up:
            mine.update(peer=up, peer_since=now)
        if up:
            mine["peer_seen"] = now
        save(local, mine)
    return mine, peer


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
    local = socket.gethostname()
    with transaction():
        state, peer_state = observe(local)
    if db != DATABASE or state is None:
        print(
            f"\nDatabase {db} not activated on database member 0 or this database name cannot be found "
            "in the local database directory.\n\n"
            "Option -hadr requires -db <database> or -alldbs option and active database.\n"
        )
        return 0
    role = state["role"]
    now = time.time()
    up = int(now - state["role_since"])
    primary = local if role == "PRIMARY" else other(local)
    standby = other(primary)
    peer = connected(state, peer_state)
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
    for node in NODES:  # db2cm lists resources by name: each host's instance, then its interface monitor
        out += plain(f"db2_{node}_{INSTANCE}_0", "Instance", node, sub("Instance Name", INSTANCE, 4))
        out += plain(f"db2_{node}_{NIC}", "Network Interface", node, sub("Interface Name", NIC, 4))
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
        local = socket.gethostname()
        try:
            with open(db_file(local)) as fh:
                last = json.load(fh).get("db_role", "STANDBY")
        except (OSError, ValueError):
            last = "STANDBY"
        print("\n".join(DBCFG_HEAD + dbcfg_hadr(last, local)))
        print()
        return 0
    if len(words) >= 5 and words[:3] == ["takeover", "hadr", "on"] and words[3] in ("db", "database"):
        return takeover(args)
    print(
        "DB21034E  The command was processed as an SQL statement because it was not a valid Command Line "
        "Processor command.  During SQL processing it returned:\n"
        "SQL1024N  A database connection does not exist.  SQLSTATE=08003"
    )
    return 4


# ---------------------------------------------------------------- db2 takeover hadr
TAKEOVER_OK = "DB20000I  The TAKEOVER HADR ON DATABASE command completed successfully."
CLP_ERROR = 4  # the CLP's exit status when a command ends with an SQLnnnnN error


def sql1770n(reason: int) -> str:
    # 1: not a standby, 2: a planned takeover outside PEER, 9: BY FORCE PEER WINDOW ONLY outside the window
    return f'SQL1770N  Takeover HADR cannot complete. Reason code = "{reason}".'


def takeover(args: list[str]) -> int:
    """`db2 takeover hadr on db X [by force [peer window only]]` on this node, with Db2's preconditions."""
    words = " ".join(args).split()
    options = [w.lower() for w in words[5:]]
    forced = options[:2] == ["by", "force"]
    window_only = forced and options[2:5] == ["peer", "window", "only"]
    if options != (["by", "force"] + (["peer", "window", "only"] if window_only else []) if forced else []):
        token = words[-1]
        print(
            f'SQL0104N  An unexpected token "{token}" was found following "TAKEOVER HADR ON DATABASE".  '
            'Expected tokens may include:  "BY FORCE".  SQLSTATE=42601'
        )
        return CLP_ERROR
    if words[4].upper() != DATABASE:
        print(
            f'SQL1013N  The database alias name or database name "{words[4].upper()}" could not be found.  '
            "SQLSTATE=42705"
        )
        return CLP_ERROR
    with transaction():
        code, message = take_over(socket.gethostname(), forced, window_only)
    print(message)
    return code


def take_over(local: str, forced: bool, window_only: bool) -> tuple[int, str]:
    """The role change itself (also the agent's promote): returns (CLP exit status, CLP message)."""
    mine, peer = observe(local)
    if mine is None or mine["role"] != "STANDBY":
        return CLP_ERROR, sql1770n(1)
    up = connected(mine, peer)
    if not forced and not up:
        return CLP_ERROR, sql1770n(2)
    now = time.time()
    if window_only and not up and now - float(mine.get("peer_seen") or 0) > PEER_WINDOW_S:
        return CLP_ERROR, sql1770n(9)
    if up and peer is not None:
        # over the HADR connection the old primary is told to become the standby (planned or forced alike)
        set_role(other(local), peer, "STANDBY", now)
    set_role(local, mine, "PRIMARY", now)
    return 0, TAKEOVER_OK


# ---------------------------------------------------------------- OCF agent (ocf:heartbeat:db2hadr stand-in)
OCF_SUCCESS, OCF_ERR_GENERIC, OCF_ERR_UNIMPLEMENTED, OCF_NOT_RUNNING, OCF_RUNNING_PROMOTED = 0, 1, 3, 7, 8
PROMOTED_ROLES = ("Promoted", "Master")
UNPROMOTED_ROLES = ("Unpromoted", "Slave")

META_DATA = """<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="db2hadr" version="1.0">
<version>1.0</version>
<longdesc lang="en">db2ops lab stand-in for IBM's db2hadr agent: a promotable HADR database whose role is
the lab's stand-in Db2 role (promote = takeover; a takeover by the DBA moves the promotion score).</longdesc>
<shortdesc lang="en">Db2 HADR database (db2ops lab stand-in)</shortdesc>
<parameters>
<parameter name="instance" unique="0" required="1">
<longdesc lang="en">instance owners of the primary and the standby</longdesc>
<shortdesc lang="en">instances</shortdesc>
<content type="string" default=""/>
</parameter>
<parameter name="dbname" unique="0" required="1">
<longdesc lang="en">database name</longdesc>
<shortdesc lang="en">database</shortdesc>
<content type="string" default=""/>
</parameter>
</parameters>
<actions>
<action name="start" timeout="900s"/>
<action name="stop" timeout="900s"/>
<action name="promote" timeout="900s"/>
<action name="demote" timeout="900s"/>
<action name="monitor" depth="0" timeout="60s" interval="10s" role="Unpromoted"/>
<action name="monitor" depth="0" timeout="60s" interval="9s" role="Promoted"/>
<action name="notify" timeout="10s"/>
<action name="meta-data" timeout="5s"/>
<action name="validate-all" timeout="30s"/>
</actions>
</resource-agent>
"""


def promotion_score(score: int | None) -> None:
    rsc = os.environ.get("OCF_RESOURCE_INSTANCE", HADR_RSC)
    argv = ["/usr/sbin/crm_attribute", "--promotion", rsc, "--lifetime", "reboot"]
    run(argv + (["--update", str(score)] if score is not None else ["--delete"]))


def agent_log(message: str) -> None:
    print(f"db2hadr(lab): {message}", file=sys.stderr)  # pacemaker-execd logs an agent's stderr


KEEP = object()  # agent_action's "leave the promotion score as it is"


def agent(args: list[str]) -> int:
    action = args[0] if args else ""
    if action == "meta-data":
        print(META_DATA, end="")
        return OCF_SUCCESS
    if action in ("validate-all", "notify"):
        return OCF_SUCCESS
    with transaction():
        code, score = agent_action(action, socket.gethostname())
    if score is not KEEP:  # crm_attribute talks to the CIB: outside the lock, which db2pd waits on
        promotion_score(score)  # type: ignore[arg-type]
    return code


def agent_action(action: str, local: str) -> tuple[int, object]:
    """The agent's work on Db2's state (called under the pair's lock): (OCF exit code, the promotion
    score to set: a number, None to delete it, or KEEP)."""
    mine, _ = observe(local)
    now = time.time()
    if action == "monitor":
        if mine is None:
            return OCF_NOT_RUNNING, KEEP
        expected = os.environ.get("OCF_RESKEY_CRM_meta_role", "")
        changed_under_pacemaker = float(mine.get("role_since", 0)) > float(mine.get("pcmk_since", 0))
        if mine["role"] == "PRIMARY":
            if expected in UNPROMOTED_ROLES:
                # primary where Pacemaker runs the unpromoted instance: a takeover by the DBA (or the gap
                # between demote here and promote elsewhere, which changed nothing in Db2)
                if changed_under_pacemaker:
                    agent_log("HADR role is PRIMARY after a takeover: raising the promotion score")
                    return OCF_SUCCESS, SCORE_PRIMARY
                return OCF_SUCCESS, KEEP
            return OCF_RUNNING_PROMOTED, KEEP
        if expected in PROMOTED_ROLES:
            # the peer took over: report promoted until Pacemaker demotes here, with the standby's score
            if changed_under_pacemaker:
                agent_log("HADR role is STANDBY after a takeover on the peer: lowering the promotion score")
                return OCF_RUNNING_PROMOTED, SCORE_STANDBY
            return OCF_RUNNING_PROMOTED, KEEP
        return OCF_SUCCESS, KEEP
    if action == "start":
        if mine is None:
            mine = {"db_role": "STANDBY"}
            try:
                with open(db_file(local)) as fh:
                    mine = json.load(fh)
            except (OSError, ValueError):
                pass
            mine.pop("role", None)
            set_role(local, mine, "STANDBY", now)  # activated as the standby; promote makes a primary
        mine["pcmk_since"] = now
        save(local, mine)
        return OCF_SUCCESS, SCORE_PRIMARY if mine["role"] == "PRIMARY" else SCORE_STANDBY
    if action == "stop":
        if mine is not None:
            mine.update(role="", pcmk_since=now)  # deactivated; db_role stays for `db2 get db cfg`
            save(local, mine)
        return OCF_SUCCESS, None
    if mine is None:
        return OCF_NOT_RUNNING, KEEP
    if action == "promote":
        if mine["role"] != "PRIMARY":
            peer = load(other(local))
            if peer is not None and peer["role"] == "STANDBY":
                set_role(local, mine, "PRIMARY", now)  # neither was primary: start hadr as primary
            else:
                # a takeover, by force when the primary is gone (the lab does not refuse outside the
                # peer window: Pacemaker's recovery after a long outage must still find a primary)
                code, message = take_over(local, forced=not connected(mine, peer), window_only=False)
                agent_log(message)
                if code != 0:
                    return OCF_ERR_GENERIC, KEEP
                mine = load(local) or mine
        mine["pcmk_since"] = time.time()
        save(local, mine)
        return OCF_SUCCESS, SCORE_PRIMARY
    if action == "demote":
        mine["pcmk_since"] = now  # Db2 keeps its role until the promote elsewhere takes over
        save(local, mine)
        return OCF_SUCCESS, SCORE_STANDBY
    return OCF_ERR_UNIMPLEMENTED, KEEP


# ---------------------------------------------------------------- db2ethmon agent
ETHMON_META_DATA = """<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="db2ethmon" version="1.0">
<version>1.0</version>
<longdesc lang="en">db2ops lab stand-in for IBM's db2ethmon: watches a network interface and keeps the node
attribute db2ethmon-INTERFACE (1 link up, 0 down) that db2cm's location rules read.</longdesc>
<shortdesc lang="en">network interface monitor (db2ops lab stand-in)</shortdesc>
<parameters>
<parameter name="interface" unique="0" required="1">
<longdesc lang="en">the interface to watch</longdesc>
<shortdesc lang="en">interface</shortdesc>
<content type="string" default=""/>
</parameter>
<parameter name="hostname" unique="0" required="1">
<longdesc lang="en">the host the interface belongs to</longdesc>
<shortdesc lang="en">host</shortdesc>
<content type="string" default=""/>
</parameter>
<parameter name="repeat_count" unique="0" required="0">
<longdesc lang="en">checks per monitor</longdesc>
<shortdesc lang="en">repeat count</shortdesc>
<content type="integer" default="4"/>
</parameter>
<parameter name="repeat_interval" unique="0" required="0">
<longdesc lang="en">seconds between checks</longdesc>
<shortdesc lang="en">repeat interval</shortdesc>
<content type="integer" default="4"/>
</parameter>
</parameters>
<actions>
<action name="start" timeout="60s"/>
<action name="stop" timeout="20s"/>
<action name="monitor" depth="0" timeout="30s" interval="4s"/>
<action name="meta-data" timeout="5s"/>
<action name="validate-all" timeout="30s"/>
</actions>
</resource-agent>
"""


def link_up(nic: str) -> bool:
    try:
        with open(f"/sys/class/net/{nic}/operstate") as fh:
            return fh.read().strip() in ("up", "unknown")
    except OSError:
        return False


def ethmon(args: list[str]) -> int:
    action = args[0] if args else ""
    if action == "meta-data":
        print(ETHMON_META_DATA, end="")
        return OCF_SUCCESS
    if action == "validate-all":
        return OCF_SUCCESS
    nic = os.environ.get("OCF_RESKEY_interface", NIC)
    rsc = os.environ.get("OCF_RESOURCE_INSTANCE", f"db2_{socket.gethostname()}_{nic}")
    state = os.path.join(os.environ.get("HA_RSCTMP", "/run/resource-agents"), f"{rsc}.state")
    attribute = ["/usr/sbin/crm_attribute", "--type", "status", "--node", socket.gethostname()]
    attribute += ["--name", f"db2ethmon-{nic}"]
    if action == "stop":
        if os.path.exists(state):
            os.remove(state)
        run([*attribute, "--delete"])
        return OCF_SUCCESS
    if action not in ("start", "monitor"):
        return OCF_ERR_UNIMPLEMENTED
    try:
        with open(state) as fh:
            last = fh.read().strip()
    except OSError:
        if action == "monitor":
            return OCF_NOT_RUNNING
        last = ""
    value = "1" if link_up(nic) else "0"
    if value != last:  # the attribute changes only when the link does (no CIB write every 4 s)
        run([*attribute, "--update", value])
        os.makedirs(os.path.dirname(state), exist_ok=True)
        with open(state, "w") as fh:
            fh.write(value + "\n")
    return OCF_SUCCESS


def main() -> int:
    tool = os.path.basename(sys.argv[0])
    handlers = {"db2pd": db2pd, "db2cm": db2cm, "db2": db2, "db2hadr": agent, "db2ethmon": ethmon}
    if tool not in handlers:
        print(f"run me as db2pd, db2cm, db2, db2hadr or db2ethmon (symlinks), not {tool}", file=sys.stderr)
        return 2
    return handlers[tool](sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
