"""The lab's Db2 command line processor for scripts (`db2 -tvf FILE`): CONNECT, the runbook's audit
statements, GRANT/SELECT on a table (writing audit records when it is audited), the runbook's SYSCAT
query, CONNECT RESET / TERMINATE. Outputs follow the real CLP: messages on stdout, `-v` echoes each
statement, exit status 4 when a statement failed, 2 when one warned, else 0.
"""

from __future__ import annotations

import re
from datetime import datetime

from lab.db2admin_state import CatalogState, HostDb2Admin, catalog, host_state
from lab.diag_records import audit_execute
from lab.state import LabCluster, LabHost

Result = tuple[int, str, str]
OK_SQL = "DB20000I  The SQL command completed successfully."
NO_CONNECTION = "SQL1024N  A database connection does not exist.  SQLSTATE=08003"
ADMIN_AUTHS = ("DBADM", "SYSADM", "SECADM", "ACCESSCTRL", "DATAACCESS", "SQLADM", "WLMADM", "EXPLAIN")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_QUERY_WIDTH = re.compile(r"substr\(p\.AUDITPOLICYNAME,1,(\d+)\)", re.IGNORECASE)


def undefined(name: str) -> str:
    return f'SQL0204N  "{name}" is an undefined name.  SQLSTATE=42704'


def exists(name: str, kind: str) -> str:
    return (
        f'SQL0601N  The name of the object to be created is identical to the existing name "{name}" of type '
        f'"{kind}".  SQLSTATE=42710'
    )


def split_statements(text: str) -> list[str]:
    """Return the statements of a `-t` script (terminated by ';'; `--` comments dropped)."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [" ".join(s.split()) for s in body.split(";") if s.strip()]


class ClpSession:
    """One CLP front-end process: its connection lives as long as the script (like db2bp per shell)."""

    def __init__(self, cluster: LabCluster, host: LabHost, user: str) -> None:
        self.cluster = cluster
        self.host = host
        self.user = user
        self.connected: str | None = None
        self.state: HostDb2Admin = host_state(cluster, host)
        self.catalog: CatalogState = catalog(cluster)

    def run(self, statement: str) -> tuple[str, str]:
        """Return (severity "ok"|"warn"|"error", output) for one statement."""
        upper = statement.upper()
        words = upper.split()
        if words[:2] == ["CONNECT", "TO"]:
            return self._connect(words[2] if len(words) > 2 else "")
        if words[:2] == ["CONNECT", "RESET"] or words == ["DISCONNECT", "ALL"]:
            self.connected = None
            return "ok", OK_SQL
        if words[:1] == ["TERMINATE"]:
            self.connected = None
            return "ok", "DB20000I  The TERMINATE command completed successfully."
        if self.connected is None:
            return "error", NO_CONNECTION
        if upper.startswith("CREATE AUDIT POLICY"):
            return self._create_policy(statement)
        if words[:1] == ["AUDIT"]:
            return self._audit(upper)
        if words[:1] == ["SELECT"] and "AUTH_LIST_AUTHORITIES_FOR_AUTHID" in upper:
            return self._authorities(upper)
        if words[:1] == ["SELECT"] and "SYSCAT.AUDIT" in upper:
            return self._select_catalog(statement)
        if words[:1] in (["GRANT"], ["REVOKE"], ["SELECT"]):
            return self._touch_table(statement)
        return "error", f'SQL0104N  An unexpected token "{words[0]}" was found.  SQLSTATE=42601'

    # --- statements ---------------------------------------------------------------------------------
    def _connect(self, database: str) -> tuple[str, str]:
        if database != self.cluster.database.upper():
            return "error", (
                f'SQL1013N  The database alias name or database name "{database}" could not be found.  '
                "SQLSTATE=42705"
            )
        if not self.cluster.db_active.get(self.host.name, False):
            return "error", "SQL1032N  No start database manager command was issued.  SQLSTATE=57019"
        if self.cluster.role_of(self.host.name) != "PRIMARY":
            return "error", 'SQL1776N  The command cannot be issued on an HADR database. Reason code = "1".'
        self.connected = database
        return "ok", (
            "\n   Database Connection Information\n\n"
            f" Database server        = DB2/LINUXX8664 {self.cluster.release.db2_level}\n"
            f" SQL authorization ID   = {self.user.upper()}\n"
            f" Local database alias   = {database}\n"
        )

    def _create_policy(self, statement: str) -> tuple[str, str]:
        match = re.match(
            rf"CREATE AUDIT POLICY ({_IDENT}) CATEGORIES (.+) ERROR TYPE (AUDIT|NORMAL)$", statement, re.I
        )
        if match is None:
            return "error", 'SQL0104N  An unexpected token "END-OF-STATEMENT" was found.  SQLSTATE=42601'
        name, categories, error_type = match.group(1).upper(), match.group(2).upper(), match.group(3).upper()
        if name in self.catalog.policies:
            return "error", exists(name, "AUDIT POLICY")
        execute = re.search(r"EXECUTE STATUS (BOTH|SUCCESS|FAILURE|NONE)", categories)
        status = {"BOTH": "B", "SUCCESS": "S", "FAILURE": "F"}.get(execute.group(1), "N") if execute else "N"
        self.catalog.policies[name] = {"EXECUTESTATUS": status, "ERRORTYPE": error_type[0], "TEXT": statement}
        return "ok", OK_SQL

    def _audit(self, upper: str) -> tuple[str, str]:
        match = re.match(rf"AUDIT (.+) USING POLICY ({_IDENT})$", upper)
        if match is None:
            return "error", 'SQL0104N  An unexpected token "END-OF-STATEMENT" was found.  SQLSTATE=42601'
        target, policy = match.group(1).strip(), match.group(2)
        if policy not in self.catalog.policies:
            return "error", undefined(policy)
        table = re.match(rf"TABLE ({_IDENT})\.({_IDENT})$", target)
        if table is not None:
            schema, name = table.group(1), table.group(2)
            if f"{schema}.{name}" not in self.catalog.tables:
                return "error", undefined(f"{schema}.{name}")
            objects = [(schema, name)]
        else:
            auths = [a.strip() for a in target.split(",")]
            bad = [a for a in auths if a not in ADMIN_AUTHS]
            if bad:
                return "error", f'SQL0104N  An unexpected token "{bad[0]}" was found.  SQLSTATE=42601'
            objects = [("-", a) for a in auths]
        for schema, name in objects:
            if any(u[1:] == (schema, name) for u in self.catalog.uses):
                return "error", exists(name, "AUDIT POLICY ASSOCIATION")
        self.catalog.uses += [(policy, schema, name) for schema, name in objects]
        return "ok", OK_SQL

    def _touch_table(self, statement: str) -> tuple[str, str]:
        match = re.search(rf"(?:TABLE|FROM)\s+({_IDENT})\.({_IDENT})", statement, re.I)
        if match is None:
            return "error", 'SQL0104N  An unexpected token "END-OF-STATEMENT" was found.  SQLSTATE=42601'
        table = f"{match.group(1)}.{match.group(2)}".upper()
        if table not in self.catalog.tables:
            return "error", undefined(table)
        schema, name = table.split(".")
        if any(u[1:] == (schema, name) for u in self.catalog.uses):
            record = audit_execute(
                datetime.now(),
                userid=self.user,
                authid=self.user.upper(),
                statement=statement,
                database=self.cluster.database.upper(),
                instance=self.cluster.instance,
                hostname=self.host.name,
                correlator=len(self.state.pending_audit) + 2,
            )
            self.state.pending_audit.append(record)
            self.catalog.audit_trail.append((self.host.name, record))
        if statement.split()[0].upper() in ("GRANT", "REVOKE"):
            return self._privilege(statement, table)
        return "ok", _table(["EMPNO", "SALARY"], [["000010", "152750.00"]])

    def _privilege(self, statement: str, table: str) -> tuple[str, str]:
        """GRANT/REVOKE <privilege> ON TABLE t TO|FROM USER a, ROLE r: Db2's answers for an unknown role
        (SQL0204N), a privilege already held (SQL0562W) and one not held (SQL0556N)."""
        match = re.match(
            rf"(GRANT|REVOKE)\s+({_IDENT})\s+ON\s+(?:TABLE\s+)?\S+\s+(TO|FROM)\s+(.+)$", statement, re.I
        )
        if match is None:
            return "error", 'SQL0104N  An unexpected token "END-OF-STATEMENT" was found.  SQLSTATE=42601'
        verb, privilege, grantees = match.group(1).upper(), match.group(2).upper(), match.group(4)
        targets: list[tuple[str, str, str, str]] = []
        for item in grantees.split(","):
            parts = item.upper().split()
            kind, name = (parts[0], parts[1]) if len(parts) == 2 else ("USER", parts[-1] if parts else "")
            if kind not in ("USER", "GROUP", "ROLE") or not re.fullmatch(_IDENT, name):
                return "error", f'SQL0104N  An unexpected token "{item.strip()}" was found.  SQLSTATE=42601'
            if kind == "ROLE" and name not in self.catalog.roles:
                return "error", undefined(name)
            targets.append((privilege, table, kind, name))
        if verb == "REVOKE":
            missing = [t for t in targets if t not in self.catalog.held]
            if missing:
                name = missing[0][3]
                return "error", (
                    f'SQL0556N  An attempt to revoke a privilege, security label, exemption, or role from "{name}" '
                    f'was denied because "{name}" does not hold this privilege, security label, exemption, or '
                    "role.  SQLSTATE=42504"
                )
            self.catalog.held.difference_update(targets)
            return "ok", OK_SQL
        self.catalog.grants.append(statement)
        if all(t in self.catalog.held for t in targets):
            return "warn", (
                "SQL0562W  A grant of a privilege was ignored because the grantee already has the privilege "
                "from the grantor.  SQLSTATE=01560"
            )
        self.catalog.held.update(targets)
        return "ok", OK_SQL

    def _authorities(self, upper: str) -> tuple[str, str]:
        """SYSPROC.AUTH_LIST_AUTHORITIES_FOR_AUTHID(SESSION_USER, 'U'), filtered to one AUTHORITY: what
        the session user holds directly (D_USER); the lab grants no authority through groups or roles."""
        match = re.search(r"AUTHORITY\s*=\s*'([A-Z_]+)'", upper)
        wanted = [match.group(1)] if match else ["SECADM"]
        columns = ["AUTHORITY", "D_USER", "D_GROUP", "D_PUBLIC", "ROLE_USER", "ROLE_GROUP", "ROLE_PUBLIC"]
        rows = [
            [auth, "Y" if auth == "SECADM" and self.user.upper() in self.catalog.secadm else "N", *"NNNNN"]
            for auth in wanted
        ]
        return "ok", _table(columns, rows)

    def _select_catalog(self, statement: str) -> tuple[str, str]:
        names = [n.upper() for n in re.findall(r"'([^']*)'", statement)]
        if "SYSCAT.AUDITUSE" in statement.upper():
            width_match = _QUERY_WIDTH.search(statement)
            width = int(width_match.group(1)) if width_match else 10
            rows = [
                [
                    policy[:width],
                    self.catalog.policies[policy]["EXECUTESTATUS"],
                    self.catalog.policies[policy]["ERRORTYPE"],
                    schema[:width],
                    name[:width],
                ]
                for policy, schema, name in self.catalog.uses
                if policy in names and policy in self.catalog.policies
            ]
            headers = ["AUDITPOLICYNAME", "EXECUTESTATUS", "ERRORTYPE", "OBJECTSCHEMA", "OBJECTNAME"]
            widths = [max(15, width), 13, 9, max(12, width), max(10, width)]
            return "ok", _table(headers, rows, widths)
        rows = [[p] for p in self.catalog.policies if p in names]
        return "ok", _table(["POLICY"], rows, [128])


def _table(headers: list[str], rows: list[list[str]], widths: list[int] | None = None) -> str:
    widths = widths or [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = " ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    dashes = " ".join("-" * w for w in widths)
    body = [" ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(["", line, dashes, *body, "", f"  {len(rows)} record(s) selected."])


def run_script(cluster: LabCluster, host: LabHost, user: str, text: str, *, echo: bool) -> Result:
    """Run a `-t` script in one CLP session; return (exit_status, stdout, stderr) like `db2 -tvf`."""
    session = ClpSession(cluster, host, user)
    out: list[str] = []
    worst = 0
    for statement in split_statements(text):
        if echo:
            out.append(statement)
        severity, text_out = session.run(statement)
        out += [text_out, ""]
        worst = max(worst, {"ok": 0, "warn": 2, "error": 4}[severity])
    return worst, "\n".join(out) + "\n", ""
