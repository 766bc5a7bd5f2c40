"""Lab-only state behind the monitoring runbook's host commands: per host (db2audit paths, dbm cfg,
directories, crontab, CloudWatch agent, audit records not yet archived) and per database (the audit
policies in the catalog, which HADR replicates: kept on the LabCluster, shared by both hosts).

The state is attached to the lab's own objects (`LabHost`, `LabCluster`), so it lives and dies with a lab
runtime and two labs in one process never share it. Files live in `LabHost.files`.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lab.state import LabCluster, LabHost

AGENT_VERSION = "1.300032.2b361"
_ATTR = "_db2admin_state"

# Directories every lab db host has (the instance owner's home, sqllib, the agent's install dir).
SEED_DIRS = (
    "/",
    "/tmp",
    "/etc",
    "/home",
    "/opt",
    "/opt/aws",
    "/opt/aws/amazon-cloudwatch-agent",
    "/opt/aws/amazon-cloudwatch-agent/bin",
    "/opt/aws/amazon-cloudwatch-agent/etc",
    "/opt/aws/amazon-cloudwatch-agent/logs",
    "/var",
    "/var/spool",
    "/var/spool/cron",
)
TABLES = ("SAMPLE.WORKER", "SAMPLE.DEPARTMENT", "SAMPLE.EMPLOYEE")


@dataclass
class HostDb2Admin:
    """One host's instance-level facts and files-adjacent state."""

    instance: str
    datapath: str
    archivepath: str = ""
    audit_buf_sz: int = 0
    dirs: set[str] = field(default_factory=set)
    modes: dict[str, str] = field(default_factory=dict)  # path -> octal mode set by chmod/install
    crontab: str | None = None  # None: "no crontab for <user>"
    agent_status: str = "stopped"
    agent_config_status: str = "not configured"
    agent_started_at: str = ""
    agent_config: dict[str, Any] | None = None  # the config fetch-config loaded
    pending_audit: list[str] = field(default_factory=list)  # records written since the last archive
    archive_seq: int = 0


@dataclass
class CatalogState:
    """The database catalog's audit objects (one per simulated database)."""

    policies: dict[str, dict[str, str]] = field(
        default_factory=dict
    )  # name -> EXECUTESTATUS, ERRORTYPE, text
    uses: list[tuple[str, str, str]] = field(default_factory=list)  # (policy, schema or "-", object name)
    tables: set[str] = field(default_factory=lambda: set(TABLES))
    grants: list[str] = field(default_factory=list)  # the GRANT statements run, in order
    # (privilege, table, "USER"|"GROUP"|"ROLE", name) held now: REVOKE removes; roles the database has
    held: set[tuple[str, str, str, str]] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    secadm: set[str] = field(default_factory=set)  # users holding SECADM (the database's creator)
    # (host, record) of every statement Db2 audited on a table, in order: what the log agent's `audit-test`
    # ships, so the records in CloudWatch are those of the statements that really ran
    audit_trail: list[tuple[str, str]] = field(default_factory=list)


def host_state(cluster: LabCluster, host: LabHost) -> HostDb2Admin:
    """Return (creating on first use) the db2admin state of `host`."""
    state = host.__dict__.get(_ATTR)
    if state is None:
        home = f"/home/{cluster.instance}"
        state = HostDb2Admin(instance=cluster.instance, datapath=f"{home}/sqllib/security/auditdata/")
        state.dirs = set(SEED_DIRS)
        for path in (home, f"{home}/sqllib", f"{home}/sqllib/security", f"{home}/sqllib/security/auditdata"):
            state.dirs.add(path)
        diag = f"{home}/sqllib/db2dump/DIAG0000"
        add_dir(state, diag)
        host.files.setdefault(f"{home}/sqllib/db2profile", "# Db2 instance environment (lab)\n")
        host.files.setdefault(f"{diag}/db2diag.log", "")
        host.__dict__[_ATTR] = state
    return state


def catalog(cluster: LabCluster) -> CatalogState:
    """Return (creating on first use) the audit catalog of the cluster's database."""
    state = cluster.__dict__.get(_ATTR)
    if state is None:
        # CREATE DATABASE grants its creator (the instance owner) DBADM, SECADM, ACCESSCTRL, DATAACCESS
        state = cluster.__dict__[_ATTR] = CatalogState(secadm={cluster.instance.upper()})
    return state


def add_dir(state: HostDb2Admin, path: str) -> None:
    """Create `path` and its parents (mkdir -p)."""
    path = normpath(path)
    while path not in state.dirs:
        state.dirs.add(path)
        path = posixpath.dirname(path)


def normpath(path: str) -> str:
    """Return the path without trailing slash (except "/")."""
    return posixpath.normpath(path) if path.startswith("/") else path


def parent_exists(state: HostDb2Admin, path: str) -> bool:
    """Return True when the directory holding `path` exists."""
    return posixpath.dirname(normpath(path)) in state.dirs


def now_stamp() -> str:
    """Return the current UTC time as the agent's status JSON prints it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def agent_collect_list(cluster: LabCluster, host: LabHost) -> list[dict[str, Any]]:
    """Return the collect_list the lab agent on `host` was configured with by fetch-config ([] when none).

    The lab's log shipper may use it to decide which files it ships and under which group/stream.
    """
    config = host_state(cluster, host).agent_config or {}
    files = config.get("logs", {}).get("logs_collected", {}).get("files", {})
    items = files.get("collect_list", []) if isinstance(files, dict) else []
    return [dict(i) for i in items if isinstance(i, dict)]
