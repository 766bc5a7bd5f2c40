"""Runbook action 1-2: db2audit paths, audit_buf_sz, and the audit policies (checked with the SYSCAT query)."""

from __future__ import annotations

import posixpath

from services.inventory.model import Host
from services.monitoring.db2_text import parse_audit_buf_sz, parse_audit_paths, parse_clp_table, sql_messages
from services.monitoring.params import MonitoringParams
from services.plans import (
    Action,
    HostCommand,
    HostCommandStep,
    PlanContext,
    Step,
    StepFailed,
    StepState,
    VerifiedByCheck,
    ssh_action,
)
from services.ssh.errors import CommandTimeout, HostUnreachable

ADMIN_AUTHORITIES = ("DBADM", "SYSADM", "SECADM")
# CREATE AUDIT POLICY and AUDIT need SECADM. Db2's table function lists it held directly (D_USER), through a
# group or PUBLIC, or through a role (ROLE_*): 'Y' in any of them means the session user holds it.
SECADM_QUERY = (
    "select AUTHORITY, D_USER, D_GROUP, D_PUBLIC, ROLE_USER, ROLE_GROUP, ROLE_PUBLIC from "
    "table(SYSPROC.AUTH_LIST_AUTHORITIES_FOR_AUTHID(SESSION_USER, 'U')) as t where AUTHORITY = 'SECADM'"
)


def _dir(path: str) -> str:
    return path if path.endswith("/") else path + "/"


async def _run_read(
    ctx: PlanContext,
    host: Host,
    argv: list[str],
    *,
    input: str | None = None,
    ok_exit: tuple[int, ...] = (0, 1, 2),
) -> str:
    result = await ctx.read(host, argv, input=input)
    if result.exit_status == 127 or "command not found" in result.stderr:
        raise StepFailed(
            f"{host.name}: `{argv[0]}` not found for user {host.user or 'the ssh user'}; connect as the "
            "instance owner (inventory `user:`) whose profile loads sqllib/db2profile"
        )
    if result.exit_status not in ok_exit:  # CLP: 1 = no rows, 2 = warning, 4 = a statement failed
        detail = (result.stdout.strip() or result.stderr.strip()).splitlines()[-1:] or [""]
        raise StepFailed(f"{host.name}: `{result.command}` exited {result.exit_status}: {detail[0]}")
    return result.stdout


class AuditPathsStep(VerifiedByCheck, HostCommandStep):
    """db2audit configure datapath / archivepath (instance level: on every db host)."""

    def __init__(self, host: Host, params: MonitoringParams) -> None:
        super().__init__(
            id=f"audit-paths@{host.name}",
            title=f"Audit data and archive paths on {host.name}",
            host=host,
            explain="db2audit writes the active audit log to the data path and `db2audit archive` moves it to "
            "the archive path, where the cron job extracts it for the CloudWatch agent.",
        )
        self.params = params

    async def check(self, ctx: PlanContext) -> StepState:
        data, archive = parse_audit_paths(await _run_read(ctx, self.host, ["db2audit", "describe"]))
        want_data, want_archive = _dir(self.params.datapath or ""), _dir(self.params.archivepath or "")
        done = _dir(data) == want_data and _dir(archive) == want_archive
        detail = (
            f"data path {want_data}, archive path {want_archive}"
            if done
            else f"data path is {data or '(not set)'!s}, archive path {archive or '(not set)'!s}; "
            f"wanted {want_data} and {want_archive}"
        )
        return StepState(done, detail)

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        p = self.params
        return [
            HostCommand(("mkdir", "-p", "--", p.datapath or "", p.archivepath or "")),
            HostCommand(("db2audit", "configure", "datapath", _dir(p.datapath or ""))),
            HostCommand(("db2audit", "configure", "archivepath", _dir(p.archivepath or ""))),
        ]


class AuditBufSzStep(VerifiedByCheck, HostCommandStep):
    """db2 update dbm cfg using audit_buf_sz N (takes effect after an instance restart)."""

    def __init__(self, host: Host, params: MonitoringParams) -> None:
        super().__init__(
            id=f"audit-buf-sz@{host.name}",
            title=f"Audit buffer (AUDIT_BUF_SZ {params.audit_buf_sz}) on {host.name}",
            host=host,
            explain=f"AUDIT_BUF_SZ {params.audit_buf_sz} (4 KB pages) lets statements not wait for audit "
            "records to reach disk. It is not dynamic: it takes effect at the next db2stop/db2start of "
            "the instance; db2ops does not restart it (on an HADR pair: restart the standby, take over, "
            "restart the old primary).",
        )
        self.params = params

    async def check(self, ctx: PlanContext) -> StepState:
        value = parse_audit_buf_sz(await _run_read(ctx, self.host, ["db2", "get", "dbm", "cfg"]))
        want = self.params.audit_buf_sz
        if value == want:
            return StepState(True, f"AUDIT_BUF_SZ = {value} (active after the next instance restart)")
        return StepState(False, f"AUDIT_BUF_SZ = {value}, wanted {want}")

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        argv = ("db2", "update", "dbm", "cfg", "using", "audit_buf_sz", str(self.params.audit_buf_sz))
        # CLP exit 2 = warning (e.g. SQL1362W "not changed dynamically"): the value is stored.
        return [HostCommand(argv, note="needs an instance restart to take effect", ok_exit=(0, 2))]


class AuditPoliciesStep(Step):
    """The runbook's two audit policies, created once on the HADR primary (the catalog replicates)."""

    def __init__(self, hosts: tuple[Host, ...], params: MonitoringParams) -> None:
        self.hosts = hosts
        self.params = params
        self.id = "audit-policies"
        self.title = f"Audit policies {params.table_policy} (on {params.table}) and {params.admin_policy}"
        self.target = "primary"
        self.explain = (
            "Audit policies live in the database catalog: they are created once on the HADR primary and "
            "HADR replays them on the standby. Checked with the runbook's SYSCAT.AUDITPOLICIES/AUDITUSE query."
        )
        self.host: Host | None = None
        self.secadm = True  # whether the connecting user holds SECADM (read by every check)

    # --- SQL -----------------------------------------------------------------------------------------
    def _query(self) -> str:
        p = self.params
        width = max(10, len(p.table_policy), len(p.admin_policy), len(p.table_schema), len(p.table_name))
        return (
            f"select trim(substr(p.AUDITPOLICYNAME,1,{width})) AUDITPOLICYNAME, EXECUTESTATUS, ERRORTYPE,"
            f"substr(OBJECTSCHEMA,1,{width}) as OBJECTSCHEMA, substr(OBJECTNAME,1,{width}) as OBJECTNAME "
            "from SYSCAT.AUDITPOLICIES p,SYSCAT.AUDITUSE u where p.AUDITPOLICYNAME=u.AUDITPOLICYNAME and "
            f"p.AUDITPOLICYNAME in ('{p.table_policy.upper()}','{p.admin_policy.upper()}')"
        )

    def _check_script(self) -> str:
        p = self.params
        return (
            f"CONNECT TO {p.database};\n"
            f"{self._query()};\n"
            f"select AUDITPOLICYNAME as POLICY from SYSCAT.AUDITPOLICIES where AUDITPOLICYNAME in "
            f"('{p.table_policy.upper()}','{p.admin_policy.upper()}');\n"
            f"{SECADM_QUERY};\n"
            "CONNECT RESET;\n"
        )

    def _statements(self, policies: set[str], uses: set[tuple[str, str, str]]) -> list[str]:
        p = self.params
        tab, adm = p.table_policy.upper(), p.admin_policy.upper()
        out = []
        if tab not in policies:
            out.append(f"CREATE AUDIT POLICY {tab} CATEGORIES EXECUTE STATUS BOTH ERROR TYPE AUDIT")
        if (tab, p.table_schema, p.table_name) not in uses:
            out.append(f"AUDIT TABLE {p.table_schema}.{p.table_name} USING POLICY {tab}")
        if adm not in policies:
            out.append(
                f"CREATE AUDIT POLICY {adm} CATEGORIES EXECUTE STATUS BOTH,SYSADMIN STATUS BOTH ERROR TYPE AUDIT"
            )
        missing = [a for a in ADMIN_AUTHORITIES if (adm, "-", a) not in uses]
        if missing:
            out.append(f"AUDIT {','.join(missing)} USING POLICY {adm}")
        return out

    @property
    def script_path(self) -> str:
        return f"{self.params.instance_home}/dbaudit/db2ops_audit_policies.sql"

    # --- Step ----------------------------------------------------------------------------------------
    def _no_secadm(self, host: Host, statements: list[str]) -> str:
        user = (host.user or "the ssh user").upper()
        return (
            f"{host.name}: {user} does not hold SECADM, which CREATE AUDIT POLICY and AUDIT need (SQL0551N "
            f"otherwise); nothing was run. Ask your security administrator to run `db2 grant secadm on database "
            f"to user {user}` on {self.params.database} (or connect as a user who holds it), then re-run. "
            "Still to run: " + "; ".join(statements)
        )

    async def _read_state(self, ctx: PlanContext) -> tuple[Host, set[str], set[tuple[str, str, str]]]:
        refused: list[str] = []
        for host in self.hosts:
            try:
                text = await _run_read(
                    ctx, host, ["db2", "-tvf", "/dev/stdin"], input=self._check_script(), ok_exit=(0, 1, 2, 4)
                )
            except (HostUnreachable, CommandTimeout) as exc:  # down after a takeover: ask the other host
                refused.append(str(exc))
                continue
            codes = sql_messages(text)
            if any(c.endswith(("N", "C")) for c in codes):
                refused.append(
                    f"{host.name}: {codes[0]}" + (" (HADR standby)" if "SQL1776N" in codes else "")
                )
                continue
            rows = parse_clp_table(text, "AUDITPOLICYNAME")
            uses = {(r[0], r[3], r[4]) for r in rows if len(r) == 5 and r[1] == "B" and r[2] == "A"}
            policies = {r[0] for r in parse_clp_table(text, "POLICY") if r}
            auth = [r for r in parse_clp_table(text, "AUTHORITY") if r and r[0] == "SECADM"]
            self.secadm = bool(auth) and "Y" in auth[0][1:]
            return host, policies, uses
        raise StepFailed(
            f"no db host accepted a connection to {self.params.database} ({'; '.join(refused)}); "
            "make the HADR primary reachable and its database active, then re-run"
        )

    async def check(self, ctx: PlanContext) -> StepState:
        host, policies, uses = await self._read_state(ctx)
        self.host, self.target = host, host.name
        missing = self._statements(policies, uses)
        ctx.facts[self.id] = {"host": host.name, "statements": missing}
        if not missing:
            return StepState(True, f"both policies exist and are attached (checked on primary {host.name})")
        if not self.secadm:
            return StepState(False, "cannot be applied yet: " + self._no_secadm(host, missing))
        return StepState(False, f"on primary {host.name}, missing: " + "; ".join(missing))

    def _script(self, statements: list[str]) -> str:
        body = "".join(f"{s};\n" for s in statements)
        return f"CONNECT TO {self.params.database};\n{body}CONNECT RESET;\n"

    def describe(self, ctx: PlanContext) -> list[Action]:
        facts = ctx.facts.get(self.id) or {}
        host = facts.get("host") or "(the HADR primary)"
        statements = facts.get("statements") or self._statements(set(), set())
        return [
            ssh_action(host, ["mkdir", "-p", "--", posixpath.dirname(self.script_path)]),
            ssh_action(
                host, ["tee", "--", self.script_path], input=self._script(statements), note="CLP script"
            ),
            ssh_action(host, ["db2", "-tvf", self.script_path], note="one CLP session: connect + statements"),
        ]

    async def apply(self, ctx: PlanContext) -> None:
        host, policies, uses = await self._read_state(ctx)  # fresh: the primary may have moved
        self.host, self.target = host, host.name
        statements = self._statements(policies, uses)
        if not statements:
            return
        if not self.secadm:  # checked before anything is written: a half-applied script helps nobody
            raise StepFailed(self._no_secadm(host, statements))
        await ctx.write(host, ["mkdir", "-p", "--", posixpath.dirname(self.script_path)])
        await ctx.write(host, ["tee", "--", self.script_path], input=self._script(statements))
        # A CLP session exists per db2 front-end process, so connect and statements share one `db2 -tvf`.
        result = await ctx.write(host, ["db2", "-tvf", self.script_path], ok_exit=(0, 1, 2, 4, 8))
        errors = [c for c in sql_messages(result.stdout) if c.endswith(("N", "C"))]
        if result.exit_status >= 4 or errors:
            raise StepFailed(
                f"{host.name}: `db2 -tvf {self.script_path}` failed ({', '.join(errors) or result.exit_status}); "
                f"read the CLP output there (`db2 ? {errors[0] if errors else 'SQLnnnn'}` explains the code)"
            )

    async def verify(self, ctx: PlanContext) -> bool | str:
        _, policies, uses = await self._read_state(ctx)
        missing = self._statements(policies, uses)
        return True if not missing else "still missing after the script ran: " + "; ".join(missing)
