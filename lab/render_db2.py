"""Db2 11.5 outputs rendered from a `LabCluster`: `db2pd -hadr -db DB`, `db2cm -list`, `db2 get db cfg`.

Layouts copy corpus/db2pd-hadr (key = value with ` = ` at col 37, times `MM/DD/YYYY hh:mm:ss.ffffff (epoch)`),
corpus/db2cm-list (single-space "blank" lines, `=` at col 26/32) and corpus/db2-dbcfg-hadr (`(PARAM)`
ending at col 55). Each function returns (exit_status, stdout, stderr).
"""

from __future__ import annotations

import time

from lab.render_corosync import render_qdevice_tool
from lab.render_pacemaker import RESOURCE_INSTANCES
from lab.state import HADR_PORT, LOG_FILE_BYTES, LOG_RATE_BYTES_PER_S, LabCluster

Result = tuple[int, str, str]

HEARTBEAT_INTERVAL_S = 30


def _db2pd_time(epoch: float) -> str:
    t = time.gmtime(epoch)
    micro = int(round((epoch - int(epoch)) * 1_000_000)) % 1_000_000
    return time.strftime("%m/%d/%Y %H:%M:%S", t) + f".{micro:06d} ({int(epoch)})"


def _db2pd_log_time(epoch: float) -> str:
    # Log record times carry whole seconds (".000000"), as in every corpus sample.
    return _db2pd_time(float(int(epoch)))


def _log_position(pos: int) -> str:
    return f"S{pos // LOG_FILE_BYTES:07d}.LOG, {(pos % LOG_FILE_BYTES) // 4096}, {pos}"


def _uptime(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    return f"{days} days {hours:02d}:{minutes:02d}:{secs:02d}"


def not_activated(database: str, member: int = 0) -> str:
    """The db2pd error text for a database that is not active (or unknown) on this member."""
    return (
        f"\nDatabase {database} not activated on database member {member} or this database name cannot be "
        "found in the local database directory.\n\n"
        "Option -hadr requires -db <database> or -alldbs option and active database.\n"
    )


def render_db2pd_hadr(
    cluster: LabCluster, node: str, database: str | None, now: float | None = None
) -> Result:
    """`db2pd -hadr -db DATABASE` on `node` (database None means `-alldbs`).

    An unknown database or an inactive one gets db2pd's "not activated" text. db2pd reports that on stdout
    with exit status 0 (it does not signal the condition through its exit status).
    """
    wanted = cluster.database if database is None else database.upper()
    with cluster.lock:
        now = cluster.clock() if now is None else now
        if wanted != cluster.database.upper() or not cluster.db_active.get(node, False):
            return 0, not_activated(wanted), ""
        primary = cluster.hadr_primary
        standby = cluster.other(primary)
        is_primary = node == primary
        state = cluster.hadr_state(now)
        connected = state != "DISCONNECTED"
        if not is_primary and not connected:
            state = "REMOTE_CATCHUP_PENDING"
        p_pos = cluster.primary_log_pos(now)
        s_pos = cluster.standby_log_pos(now)
        s_time = now - (p_pos - s_pos) / LOG_RATE_BYTES_PER_S if connected else cluster.standby_log_time(now)
        p_time = now
        if not is_primary and not connected:
            # A disconnected standby only knows what it last heard from the primary.
            p_pos, p_time = s_pos, s_time
        since = max(0.0, now - cluster.connect_status_time)
        peer_end = (
            _db2pd_time(float(int(now)) + cluster.peer_window_s)
            if state == "PEER"
            else _db2pd_time(float(int(cluster.connect_status_time)) + cluster.peer_window_s)
        )
        fields = [
            ("HADR_ROLE", "PRIMARY" if is_primary else "STANDBY"),
            ("REPLAY_TYPE", "PHYSICAL"),
            ("HADR_SYNCMODE", cluster.syncmode),
            ("STANDBY_ID", "1" if is_primary else "0"),
            ("LOG_STREAM_ID", "0"),
            ("HADR_STATE", state),
            ("HADR_FLAGS", "TCP_PROTOCOL" if connected else ""),
            ("PRIMARY_MEMBER_HOST", primary),
            ("PRIMARY_INSTANCE", cluster.instance),
            ("PRIMARY_MEMBER", "0"),
            ("STANDBY_MEMBER_HOST", standby),
            ("STANDBY_INSTANCE", cluster.instance),
            ("STANDBY_MEMBER", "0"),
            ("HADR_CONNECT_STATUS", "CONNECTED" if connected else "DISCONNECTED"),
            ("HADR_CONNECT_STATUS_TIME", _db2pd_time(cluster.connect_status_time)),
            ("HEARTBEAT_INTERVAL(seconds)", str(HEARTBEAT_INTERVAL_S)),
            ("HEARTBEAT_MISSED", "0" if connected else str(min(4, int(since // HEARTBEAT_INTERVAL_S)))),
            ("HEARTBEAT_EXPECTED", str(int(since // HEARTBEAT_INTERVAL_S)) if connected else "0"),
            ("HADR_TIMEOUT(seconds)", str(cluster.hadr_timeout_s)),
            ("TIME_SINCE_LAST_RECV(seconds)", "0" if connected else str(int(since))),
            ("PEER_WAIT_LIMIT(seconds)", "0"),
            ("LOG_HADR_WAIT_CUR(seconds)", "0.000"),
            ("LOG_HADR_WAIT_RECENT_AVG(seconds)", "0.000412"),
            ("LOG_HADR_WAIT_ACCUMULATED(seconds)", "1.871"),
            ("LOG_HADR_WAIT_COUNT", "4539"),
            ("SOCK_SEND_BUF_REQUESTED,ACTUAL(bytes)", "0, 87040"),
            ("SOCK_RECV_BUF_REQUESTED,ACTUAL(bytes)", "0, 131072"),
            ("PRIMARY_LOG_FILE,PAGE,POS", _log_position(p_pos)),
            ("STANDBY_LOG_FILE,PAGE,POS", _log_position(s_pos)),
            ("HADR_LOG_GAP(bytes)", str(max(0, p_pos - s_pos))),
            ("STANDBY_REPLAY_LOG_FILE,PAGE,POS", _log_position(s_pos)),
            ("STANDBY_RECV_REPLAY_GAP(bytes)", "0"),
            ("PRIMARY_LOG_TIME", _db2pd_log_time(p_time)),
            ("STANDBY_LOG_TIME", _db2pd_log_time(s_time)),
            ("STANDBY_REPLAY_LOG_TIME", _db2pd_log_time(s_time)),
            ("STANDBY_RECV_BUF_SIZE(pages)", "4304"),
            ("STANDBY_RECV_BUF_PERCENT", "0"),
            ("STANDBY_SPOOL_LIMIT(pages)", "52000"),
            ("STANDBY_SPOOL_PERCENT", "0"),
            ("STANDBY_ERROR_TIME", "NULL"),
            ("PEER_WINDOW(seconds)", str(cluster.peer_window_s)),
            ("PEER_WINDOW_END", peer_end),
            ("READS_ON_STANDBY_ENABLED", "N"),
            (
                "HADR_LAST_TAKEOVER_TIME",
                _db2pd_time(cluster.last_takeover) if cluster.last_takeover else "NULL",
            ),
        ]
        up = _uptime(now - cluster.db_activated_at[node])
        date = time.strftime("%Y-%m-%d-%H.%M.%S", time.gmtime(now)) + f".{int((now % 1) * 1_000_000):06d}"
        header = (
            f"Database Member 0 -- Database {cluster.database} -- {'Active' if is_primary else 'Standby'} -- "
            f"Up {up} -- Date {date}"
        )
    body = [f"{name:>37} = {value}".rstrip() for name, value in fields]
    return 0, "\n".join(["", header, "", *body, ""]) + "\n", ""


def _cm(key: str, value: str, indent: int = 0) -> str:
    width = 26 if indent == 0 else 32
    return f"{' ' * indent + key:<{width}}= {value}"


def render_db2cm_list(cluster: LabCluster, node: str) -> Result:
    """`db2cm -list` on `node`, as the cluster's Db2 release prints it (single-space blank lines)."""
    with cluster.lock:
        online = cluster.online_nodes()
        dc = cluster.dc if cluster.dc in online else (online[0] if online else "")
        promoted = cluster.promoted if cluster.promoted in online else None
        primary_node = promoted or cluster.hadr_primary
        standby_node = cluster.other(primary_node)
        standby_ok = cluster.hadr_rsc in cluster.resources_running(standby_node)
        lines = [
            "      Cluster Status",
            " ",
            "Domain information:",
            " ",
            _cm("HA configuration", "HADR"),
            " ",
            _cm("Domain name", cluster.name),
            _cm("Pacemaker version", cluster.release.pacemaker),
            _cm("Corosync version", cluster.release.corosync),
            _cm("Current domain leader", dc),
            _cm("Number of nodes", "2"),
            _cm("Number of resources", str(RESOURCE_INSTANCES)),
            " ",
            "Node information:",
            "Name name           State",
            "----------------    --------",
        ]
        lines += [f"{n:<20}{'Online' if n in online else 'Offline'}" for n in cluster.db_nodes]
        lines += [" ", "Resource Information:", " "]
        resources: dict[str, list[str]] = {
            cluster.hadr_rsc: [
                _cm("Resource Type", "HADR", 2),
                _cm("DB Name", cluster.database, 4),
                _cm("Managed", "true", 4),
                _cm("HADR Primary Instance", cluster.instance, 4),
                _cm("HADR Primary Node", primary_node, 4),
                _cm("HADR Primary State", "Online" if promoted else "Offline", 4),
                _cm("HADR Standby Instance", cluster.instance if standby_ok else "", 4),
                _cm("HADR Standby Node", standby_node if standby_ok else "", 4),
                _cm("HADR Standby State", "Online" if standby_ok else "Offline", 4),
            ],
            cluster.oip_rsc: [
                _cm("State", "Online" if promoted else "Offline", 2),
                _cm("Managed", "true", 2),
                _cm("Resource Type", "IP", 2),
                _cm("Node", promoted or "", 4),
                _cm("Ip Address", cluster.overlay_ip, 4),
                _cm("Location", promoted or "", 2),
            ],
        }
        for n in cluster.db_nodes:
            running = cluster.instance_rsc(n) in cluster.resources_running(n)
            resources[cluster.instance_rsc(n)] = [
                _cm("State", "Online" if running else "Offline", 2),
                _cm("Managed", "true", 2),
                _cm("Resource Type", "Instance", 2),
                _cm("Node", n, 4),
                _cm("Instance Name", cluster.instance, 4),
            ]
            ethmon = cluster.ethmon_rsc(n) in cluster.resources_running(n)
            resources[cluster.ethmon_rsc(n)] = [
                _cm("State", "Online" if ethmon else "Offline", 2),
                _cm("Managed", "true", 2),
                _cm("Resource Type", "Network Interface", 2),
                _cm("Node", n, 4),
                _cm("Interface Name", cluster.nic, 4),
            ]
        for name in sorted(resources):
            lines += [_cm("Resource Name", name), *resources[name], " "]
        if not cluster.release.db2cm_fencing_section:
            # db2cm before 11.5.8 ends with the resources (no Fencing/Quorum sections, no qdevice block)
            return 0, "\n".join(lines) + "\n", ""
        lines += ["Fencing Information:", "  Not configured", "Quorum Information:", "  Qdevice", " "]
    _, qdevice, _ = render_qdevice_tool(cluster, node, verbose=False)
    return 0, "\n".join(lines) + "\n" + qdevice + "\n", ""


def _cfg(desc: str, param: str | None, value: str, *, bare_empty: bool = False) -> str:
    left = " " + desc + " " * (55 - len(desc) - len(param or "")) + (param or "")
    if value == "" and bare_empty:
        return left + " ="
    return f"{left} = {value}"


def render_db_cfg(cluster: LabCluster, node: str, database: str) -> Result:
    """`db2 get db cfg for DATABASE` on `node` (a shortened listing keeping every HADR line).

    Unknown database: SQL1013N, exit 4. Instance stopped (no quorum): SQL1032N, exit 4.
    """
    wanted = database.upper()
    with cluster.lock:
        if wanted != cluster.database.upper():
            return (
                4,
                f'SQL1013N  The database alias name or database name "{wanted}" could not be found.  '
                "SQLSTATE=42705\n",
                "",
            )
        if not cluster.db_active.get(node, False) and cluster.hosts[node].up:
            return 4, "SQL1032N  No start database manager command was issued.  SQLSTATE=57019\n", ""
        role = cluster.role_of(node)
        remote = cluster.other(node)
        hadr = [
            _cfg("HADR database role", None, role),
            _cfg("HADR local host name", "(HADR_LOCAL_HOST)", node),
            _cfg("HADR local service name", "(HADR_LOCAL_SVC)", str(HADR_PORT)),
            _cfg("HADR remote host name", "(HADR_REMOTE_HOST)", remote),
            _cfg("HADR remote service name", "(HADR_REMOTE_SVC)", str(HADR_PORT)),
            _cfg("HADR instance name of remote server", "(HADR_REMOTE_INST)", cluster.instance),
            _cfg("HADR timeout value", "(HADR_TIMEOUT)", str(cluster.hadr_timeout_s)),
            _cfg("HADR target list", "(HADR_TARGET_LIST)", f"{remote}:{HADR_PORT}"),
            _cfg("HADR log write synchronization mode", "(HADR_SYNCMODE)", cluster.syncmode),
            _cfg("HADR spool log data limit (4KB)", "(HADR_SPOOL_LIMIT)", "AUTOMATIC(52000)"),
            _cfg("HADR log replay delay (seconds)", "(HADR_REPLAY_DELAY)", "0"),
            _cfg("HADR peer window duration (seconds)", "(HADR_PEER_WINDOW)", str(cluster.peer_window_s)),
        ]
    lines = [
        "",
        f"       Database Configuration for Database {wanted}",
        "",
        _cfg("Database configuration release level", None, "0x1500"),
        _cfg("Database release level", None, "0x1500"),
        "",
        _cfg("Database territory", None, "US"),
        _cfg("Database code page", None, "1208"),
        _cfg("Database code set", None, "UTF-8"),
        "",
        _cfg("Log file size (4KB)", "(LOGFILSIZ)", "1024"),
        _cfg("Number of primary log files", "(LOGPRIMARY)", "16"),
        _cfg("Number of secondary log files", "(LOGSECOND)", "22"),
        _cfg(
            "Path to log files", None, f"/database/data/{cluster.instance}/NODE0000/SQL00001/LOGSTREAM0000/"
        ),
        "",
        *hadr,
        "",
        _cfg("First log archive method", "(LOGARCHMETH1)", "DISK:/database/logs/"),
        _cfg("Number of log archive retries on error", "(NUMARCHRETRY)", "5"),
        "",
        _cfg("HADR SSL certificate label", "(HADR_SSL_LABEL)", "", bare_empty=True),
        _cfg("HADR SSL Hostname Validation", "(HADR_SSL_HOST_VAL)", "OFF"),
        "",
    ]
    return 0, "\n".join(lines) + "\n", ""
