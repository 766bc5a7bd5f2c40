"""Realistic db2diag.log and db2audit extract records for the lab's CloudWatch agent (lab/log_agent.py).

The layout is the one the corpus shows (../shared/corpus/FORMATS.md section 1): header with the record id
left-justified so `LEVEL:` sits at column 53, `±MMM` minute offset, two-column labels at columns 0/31/53,
`I<offset>E<length>` record ids whose offset/length add up like a real file. Texts are taken from the
corpus (pcmk-takeover-*, pcmk-db2havend-*, hadr-wiki-*, container-*); the few records the corpus lacks
(forced takeover on the standby, log archive) are modelled on them and say so where they are written.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

_HADR = "DB2 UDB, High Availability Disaster Recovery"


@dataclass
class HostDiagLog:
    """One host's db2diag.log as it grows: byte offset, process ids and EDU numbers stay consistent."""

    host: str
    instance: str = "db2inst1"
    database: str = "HADRDB"
    utc_offset_minutes: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    offset: int = 0
    sysc_pid: int = 0
    tid: int = 0
    eduids: dict[str, int] = field(default_factory=dict)
    appl_counter: int = 24_700
    log_file: int = 12

    def __post_init__(self) -> None:
        self.offset = self.offset or self.rng.randrange(400_000, 900_000)
        self.sysc_pid = self.sysc_pid or self.rng.randrange(200_000, 300_000)
        self.tid = self.tid or self.rng.randrange(139_700_000_000_000, 139_799_999_999_999)

    def restart_db2(self) -> None:
        """A new db2sysc process (after a crash/reboot): new PID, TIDs and EDU numbers."""
        self.sysc_pid = self.rng.randrange(200_000, 300_000)
        self.tid = self.rng.randrange(139_700_000_000_000, 139_799_999_999_999)
        self.eduids.clear()

    def eduid(self, name: str) -> int:
        if name not in self.eduids:
            self.eduids[name] = self.rng.randrange(20, 200)
        return self.eduids[name]

    def stamp(self, when: datetime) -> str:
        """`when` (aware UTC) as Db2 writes it: local time then the signed minute offset."""
        local = when + timedelta(minutes=self.utc_offset_minutes)
        return f"{local:%Y-%m-%d-%H.%M.%S.%f}{self.utc_offset_minutes:+04d}"

    def record(
        self,
        when: datetime,
        level: str,
        function: str,
        body: list[str],
        *,
        proc: str = "db2sysc 0",
        pid: int | None = None,
        tid: int | None = None,
        with_db: bool = True,
        app: tuple[str, str] | None = None,
        edu: str | None = None,
        event: bool = False,
    ) -> str:
        """Return one record's text (no trailing newline) and advance the file offset past it."""
        lines = [
            f"PID     : {pid or self.sysc_pid:<21}TID : {tid or self.tid:<16}PROC : {proc}",
            f"INSTANCE: {self.instance:<21}NODE : {'000':<15}DB   : {self.database}"
            if with_db
            else f"INSTANCE: {self.instance:<21}NODE : 000",
        ]
        if app:
            lines.append(f"APPHDL  : {app[0]:<21}APPID: {app[1]}")
        lines.append(f"HOSTNAME: {self.host}")
        if edu:
            lines.append(f"EDUID   : {self.eduid(edu):<21}EDUNAME: {edu} ({self.database}) 0")
        lines.append(f"FUNCTION: {function}")
        lines.extend(body)
        rest = "\n".join(lines)
        prefix = "E" if event else "I"
        length = 0
        for _ in range(3):  # the id's own width changes the length it reports
            rid = f"{prefix}{self.offset}E{length}"
            text = f"{self.stamp(when)} {rid:<22}LEVEL: {level}\n{rest}"
            length = len(text.encode()) + 1  # size includes the final LF
        self.offset += length + 1  # plus the blank separator line
        return text

    def next_app(self, when: datetime) -> tuple[str, str]:
        self.appl_counter += 1
        return f"0-{self.appl_counter}", f"*LOCAL.DB2.{when:%y%m%d%H%M%S}"

    # ------------------------------------------------------------------ routine records
    def routine(self, when: datetime, primary: bool, resource: str) -> str:
        """A record of normal life: db2havend monitor calls (Event), log archives (Info), STMM changes,
        authentication warnings, now and then an application Error."""
        roll = self.rng.random()
        if roll < 0.35:
            return self.havend_attrd(when, resource, 2 if primary else 1)
        if roll < 0.55 and primary:
            return self.archive(when)
        if roll < 0.70:
            old = self.rng.choice((4096, 4352, 4608))
            new = old + self.rng.choice((-256, 256))
            change = f'CHANGE  : STMM CFG DB {self.database}: "Locklist" From: "{old}" <automatic>  To: "{new}" <automatic>'
            return self.record(
                when,
                "Event",
                "DB2 UDB, config/install, sqlfLogUpdateCfgParam, probe:20",
                [change],
                edu="db2stmm",
                event=True,
            )
        if roll < 0.88:
            user = self.rng.choice(("appusr", "batchusr", "reporting"))
            payload = f"Password validation for user {user} failed with rc = -2146500507"
            return self.record(
                when,
                "Warning",
                "DB2 UDB, bsu security, sqlexLogPluginMessage, probe:20",
                [f"DATA #1 : String with size, {len(payload)} bytes", payload],
                edu="db2agent",
            )
        return self.record(  # the corpus's Error record (container sample), with this host's values
            when,
            "Error",
            "DB2 UDB, base sys utilities, sqleriar_database, probe:9",
            [
                "RETCODE : ZRC=0x8005006D=-2147155859=SQLE_CA_BUILT",
                '          "SQLCA has been built and saved in component specific control block."',
            ],
            proc="db2bp",
            pid=self.rng.randrange(10_000, 99_999),
            app=self.next_app(when),
        )

    def havend_attrd(self, when: datetime, resource: str, value: int) -> str:
        """db2havend running `attrd_updater -Q` (pcmk-db2havend-02), as Pacemaker's monitor does."""
        pid = self.rng.randrange(1_700_000, 1_800_000)
        attr = f"db2hadr-{resource.removeprefix('db2_')}"
        args = f"-n {attr} -Q -N {self.host}"
        out = f'name="{attr}" host="{self.host}" value="{value}"'
        return self.havend(when, pid, "/usr/sbin/attrd_updater", args, out)

    def havend(self, when: datetime, pid: int, program: str, args: str, out: str) -> str:
        zero = f"Object not dumped: Address: 0x00007FFC{self.rng.randrange(16**8):08X} Size: 0 Reason: Zero-length data"
        body = [
            f"DATA #1 : String, {len(program)} bytes",
            program,
            f"DATA #2 : String, {len(args)} bytes",
            args,
            "DATA #3 : String, 0 bytes",
            zero,
            f"DATA #4 : String, {len(out.encode())} bytes",
            out,
            "DATA #5 : signed integer, 4 bytes",
            str(pid + 1),
        ]
        return self.record(
            when,
            "Event",
            "DB2 Common, Pacemaker, db2CMVendorPCMKExecute, probe:409",
            body,
            proc="db2havend (db2ha)",
            pid=pid,
            with_db=False,
        )

    def archive(self, when: datetime) -> str:
        # Modelled: the ADM1846I archive message Db2 writes after each log file (not in the corpus).
        self.log_file += 1
        return self.record(
            when,
            "Info",
            "DB2 UDB, data protection services, sqlpgArchiveLogFile, probe:3180",
            [
                f'MESSAGE : ADM1846I  Completed archive for log file "S{self.log_file:07d}.LOG" to',
                f'          "DISK:/db2/archive/{self.instance}/{self.database}/NODE0000/LOGSTREAM0000/C0000000/" from',
                '          "/db2/log/NODE0000/LOGSTREAM0000/".',
            ],
            edu="db2logmgr",
        )

    # ------------------------------------------------------------------ HADR role/state records
    def hadr_state(self, when: datetime, new: str, old: str, conn: int = 1) -> str:
        """`CHANGE : HADR state set to <new> (was <old>), connId=<n>` (pcmk-takeover-02, hadr-wiki)."""
        return self.record(
            when,
            "Event",
            f"{_HADR}, hdrSetHdrState, probe:10000",
            [f"CHANGE  : HADR state set to {new} (was {old}), connId={conn}"],
            edu="db2hadrp.0.1" if new.startswith("HDR_P") else "db2hadrs.0.0",
            event=True,
        )

    def hadr_role(self, when: datetime, new: str, old: str) -> str:
        """The V10.1+ multi-line role change (hadr-wiki-role-change, hdrSetDbRoleAndDbType)."""
        return self.record(
            when,
            "Event",
            f"{_HADR}, hdrSetDbRoleAndDbType, probe:10020",
            [
                "CHANGE  : HADR DATABASE ROLE/TYPE -",
                f"HADR database role set to {new} (was {old}).",
                "HADR database type set to PHYSICAL (was PHYSICAL).",
            ],
            app=self.next_app(when),
            edu="db2agent",
            event=True,
        )

    def takeover_command(self, when: datetime) -> str:
        """`START : Received TAKEOVER HADR command.` (pcmk-takeover-02)."""
        return self.record(
            when,
            "Event",
            "DB2 UDB, base sys utilities, sqeDBMgr::StartUsingLocalDatabase, probe:13",
            ["START   : Received TAKEOVER HADR command."],
            app=self.next_app(when),
            edu="db2agnti",
            event=True,
        )

    def takeover_info(self, when: datetime, forced: bool) -> str:
        """pcmk-takeover-01 for a graceful takeover (on the old primary); for a forced one the standby's
        counterpart (modelled on it: the corpus has no forced-takeover record)."""
        if forced:
            func, text, edu = (
                "hdrStbyTkHandleInitialRequest, probe:46000",
                "Standby has started forced takeover.",
                "db2hadrs.0.0",
            )
        else:
            func, text, edu = (
                "hdrPriTkHandleInitialRequest, probe:56040",
                "Primary has started non-forced takeover request.",
                "db2hadrp.0.1",
            )
        return self.record(when, "Info", f"{_HADR}, {func}", [f"MESSAGE : {text}"], edu=edu)

    def connection_lost(self, when: datetime) -> str:
        """The standby losing its primary: Severe with the connection-refused RETCODE (hadr-wiki 2006,
        written in the current RETCODE layout)."""
        return self.record(
            when,
            "Severe",
            f"{_HADR}, hdrEduAcceptEvent, probe:20280",
            [
                "MESSAGE : Failed to connect to primary. rc:",
                'RETCODE : ZRC=0x810F0019=-2129723367=SQLO_CONN_REFUSED "Connection refused"',
            ],
            edu="db2hadrs.0.0",
        )

    def connected(self, when: datetime, conn: int) -> str:
        """`Connection succeeded, connId=n` (hadr-wiki-state-and-connect, hdrHandleHsAck)."""
        return self.record(
            when,
            "Info",
            f"{_HADR}, hdrHandleHsAck, probe:30440",
            ["DATA #1 : <preformatted>", f"Connection succeeded, connId={conn}"],
            edu="db2hadrp.0.1",
        )

    def resource_enabled(self, when: datetime, resource: str) -> str:
        """`HADR Resource enabled.` with its DATA fields (pcmk-db2havend-02, sqlhaPcmkEnableHADRResource)."""
        values = [
            ("String", "HADR Resource enabled."),
            ("String", resource),
            ("String", self.instance),
            ("String", self.instance),
            ("String", self.database),
            ("String", f"db2hadr-{resource.removeprefix('db2_')}"),
        ]
        body = []
        for i, (kind, value) in enumerate(values, 1):
            body += [f"DATA #{i} : {kind}, {len(value)} bytes", value]
        body += ["DATA #7 : unsigned integer, 8 bytes", "21"]
        return self.record(
            when,
            "Event",
            "DB2 UDB, high avail services, sqlhaPcmkEnableHADRResource, probe:221",
            body,
            edu="db2hadrs.0.0",
            event=True,
        )


# ---------------------------------------------------------------------- db2audit extract records
_COMPILATION_ENV = [
    "    isolation level=CS",
    "    query optimization=5",
    "    min_dec_div_3=NO",
    "    degree=1",
    "    sqlrules=DB2",
    "    refresh age=+00000000000000.000000",
    "    schema={schema}",
    "    maintained table type=SYSTEM",
    "    resolution timestamp={resolution}",
    "    federated asynchrony=0;",
]


# `db2audit extract` writes a long statement over several lines: the one real sample (Db2 11.5.8, corpus
# db2audit/extract-report-context-checking-v1158.txt) breaks `text=` after exactly 64 characters of the value,
# at a blank it drops, and the continuation line is not indented. Modelled as a word wrap of the value at 64
# (a word longer than that is cut); the same for `statement text=`.
AUDIT_TEXT_WIDTH = 64


def wrap_audit_text(value: str, width: int = AUDIT_TEXT_WIDTH) -> str:
    """Return `value` as an extract report writes it: lines of at most `width` characters, broken at a blank
    (dropped), continuation lines unindented."""
    lines: list[str] = []
    rest = value
    while len(rest) > width:
        cut = rest.rfind(" ", 0, width + 1)
        if cut <= 0:  # no blank to break at: cut the word
            lines.append(rest[:width])
            rest = rest[width:]
        else:
            lines.append(rest[:cut])
            rest = rest[cut + 1 :]
    lines.append(rest)
    return "\n".join(lines)


def audit_execute(
    when: datetime,
    *,
    userid: str,
    authid: str,
    statement: str,
    database: str,
    instance: str,
    hostname: str,
    application: str = "db2bp",
    correlator: int = 1,
    status: int = 0,
) -> str:
    """Return an EXECUTE/STATEMENT audit record as `db2audit extract` writes it (IBM 10.5 sample layout,
    11.5 trailer fields from the v11.5.8 corpus sample). `when` is written as is (no offset)."""
    stamp = f"{when:%Y-%m-%d-%H.%M.%S.%f}"
    appid = f"*LOCAL.{userid}.{when:%y%m%d%H%M%S}"
    env = [
        line.format(schema=authid, resolution=f"{when:%Y-%m-%d-%H.%M.%S}.000000") for line in _COMPILATION_ENV
    ]
    lines = [
        f"timestamp={stamp};",
        "  category=EXECUTE;",
        "  audit event=STATEMENT;",
        f"  event correlator={correlator};",
        f"  event status={status};",
        f"  database={database};",
        f"  userid={userid};",
        f"  authid={authid};",
        f"  session authid={authid};",
        f"  application id={appid};",
        f"  application name={application};",
        "  package schema=NULLID;",
        "  package name=SQLC2P31;",
        "  package section=203;",
        f"  uow id={correlator + 1};",
        "  activity id=1;",
        "  statement invocation id=0;",
        "  statement nesting level=0;",
        f"  statement text={wrap_audit_text(statement)};",
        "  statement isolation level=CS;",
        "  compilation environment=",
        *env,
        f"  local transaction id=0x{correlator:04x}020000000000;",
        "  global transaction id=0x0000000000000000000000000000000000000000;",
        f"  instance name={instance};",
        f"  hostname={hostname};",
    ]
    return "\n".join(lines)


ROUTINE_APP_STATEMENTS = (
    "SELECT EMPNO, LASTNAME, SALARY FROM SAMPLE.WORKER WHERE EMPNO = ?",
    "UPDATE SAMPLE.WORKER SET PHONENO = ? WHERE EMPNO = ?",
    "select count(*) from sample.worker where workdept = ?",
)
ROUTINE_ADMIN_STATEMENTS = (
    "CALL SYSPROC.ADMIN_CMD('RUNSTATS ON TABLE SAMPLE.DEPARTMENT WITH DISTRIBUTION')",
    "SELECT TABNAME, CARD FROM SYSCAT.TABLES WHERE TABSCHEMA = 'SAMPLE'",
)
# The proof's default test statement (services/monitoring/prove_it_fires.py): the runbook's grant without its
# "role trole" (a database without role TROLE answers SQL0204N). The log agent ships it only when no audited
# statement ran since its last test; otherwise it ships the records of the statements that ran.
GRANT_TEST_STATEMENT = "grant select on table sample.worker to user abcuser"
# Lower-case SQL from the application connected as upper-case APPUSR: `worker -appusr` matches it.
CASE_TRAP_STATEMENT = "select empno, salary from sample.worker where empno = ?"
