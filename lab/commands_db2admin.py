"""Lab host answers for the monitoring runbook: db2audit, `db2 get/update dbm cfg`, `db2 -tvf FILE`,
crontab, tee/install/mkdir/test/chmod/cp/rm on the host's tiny file system, and
amazon-cloudwatch-agent-ctl. Registered on import (lab/commands.py imports this module at its end).

Messages copy the real tools (corpus/db2audit describe layout, CLP message ids, GNU coreutils wording,
the agent's status JSON). State: lab/db2admin_state.py. Nothing is executed on the machine.
"""

from __future__ import annotations

from datetime import datetime

from lab.cloudwatch_agent_ctl import agent_ctl
from lab.clp_script import run_script
from lab.command_registry import CommandContext, Result, register_command
from lab.db2admin_state import HostDb2Admin, add_dir, host_state, normpath, parent_exists
from lab.render_db2 import _cfg

AUD_OK = "AUD0000I Operation succeeded."
DB = ("db",)


def _st(ctx: CommandContext) -> HostDb2Admin:
    return host_state(ctx.cluster, ctx.host)


def _user(ctx: CommandContext) -> str:
    return ctx.env.get("USER") or ctx.cluster.instance


# ---------------------------------------------------------------- db2audit


def _describe(ctx: CommandContext) -> str:
    st = _st(ctx)
    lines = [
        "DB2 AUDIT SETTINGS:",
        "",
        'Audit active: "FALSE "',
        *(
            f'Log {kind} events: "BOTH"'
            for kind in (
                "audit",
                "checking",
                "object maintenance",
                "security maintenance",
                "system administrator",
                "validate",
                "context",
            )
        ),
        'Return SQLCA on audit error: "FALSE "',
        f'Audit Data Path: "{st.datapath}"',
        f'Audit Archive Path: "{st.archivepath}"',
        "",
        AUD_OK,
    ]
    return "\n".join(lines) + "\n"


def _db2audit(ctx: CommandContext) -> Result:
    st, args = _st(ctx), ctx.args
    verb = args[0].lower() if args else ""
    if verb == "describe":
        return 0, _describe(ctx), ""
    if verb == "configure" and len(args) == 3 and args[1].lower() in ("datapath", "archivepath"):
        path = args[2]
        if not path.startswith("/") or normpath(path) not in st.dirs:
            return 1, f"AUD0031E  The path {path} specified is not valid or does not exist.\n", ""
        path = path if path.endswith("/") else path + "/"
        if args[1].lower() == "datapath":
            st.datapath = path
        else:
            st.archivepath = path
        return 0, AUD_OK + "\n", ""
    if verb == "flush":
        return 0, AUD_OK + "\n", ""
    if verb == "archive":
        return _archive(ctx)
    if verb == "extract":
        return _extract(ctx)
    return 1, "", "db2audit: the db2ops lab emulates describe, configure, flush, archive and extract\n"


def _archive(ctx: CommandContext) -> Result:
    st, args = _st(ctx), [a.lower() for a in ctx.args]
    database = ctx.args[args.index("database") + 1].upper() if "database" in args[:-1] else ""
    if database and database != ctx.cluster.database.upper():
        return 4, f"AUD0013N  The database {database} was not found.\n", ""
    target = st.archivepath or st.datapath
    st.archive_seq += 1
    name = (
        f"db2audit.db.{ctx.cluster.database.upper()}.log.0.{datetime.now():%Y%m%d%H%M%S}{st.archive_seq:02d}"
    )
    ctx.host.files[normpath(target) + "/" + name] = "\n\n".join(st.pending_audit)
    st.pending_audit.clear()
    header = (
        "Member   DB Partition   AUD      Archived or Interim Log File\n"
        "Number   Number         Message\n"
        "-------- -------------- -------- -------------------------------------------------------------\n"
    )
    return 0, f"{header}       0              0 AUD0000I {name}\n\n{AUD_OK}\n", ""


def _extract(ctx: CommandContext) -> Result:
    st, args = _st(ctx), ctx.args
    lower = [a.lower() for a in args]
    if "file" not in lower[:-1] or "files" not in lower[:-1]:
        return 1, "", "db2audit extract: usage: db2audit extract file OUT from files ARCHIVE...\n"
    out_name = args[lower.index("file") + 1]
    sources = args[lower.index("files") + 1 :]
    cwd = ctx.env.get("PWD") or normpath(st.archivepath or st.datapath)
    base = normpath(st.archivepath or cwd)

    def resolve(name: str) -> str:
        return name if name.startswith("/") else f"{base}/{name}"

    records = []
    for source in sources:
        path = resolve(source)
        if path not in ctx.host.files:
            return 1, f"AUD0032N  The audit log file {source} was not found.\n", ""
        if ctx.host.files[path]:
            records.append(ctx.host.files[path])
    out_path = resolve(out_name)
    text = "".join(r.rstrip("\n") + "\n\n" for r in records)
    ctx.host.files[out_path] = ctx.host.files.get(out_path, "") + text  # extract appends
    return 0, AUD_OK + "\n", ""


# ---------------------------------------------------------------- db2 (dbm cfg, scripts)


def _words(argv: list[str]) -> list[str]:
    return [w.lower() for w in " ".join(argv[1:]).split()]


def _is_get_dbm(argv: list[str]) -> bool:
    w = _words(argv)
    return w[:2] == ["get", "dbm"] or w[:4] == ["get", "database", "manager", "configuration"]


def _is_update_dbm(argv: list[str]) -> bool:
    w = _words(argv)
    return w[:2] == ["update", "dbm"] and "using" in w


def _script_file(argv: list[str]) -> tuple[str | None, bool]:
    """Return (file after -f, echo?) from CLP options like -tvf FILE; (None, False) when not a script run."""
    for i, arg in enumerate(argv[1:], start=1):
        if arg.startswith("-") and "f" in arg[1:] and i + 1 < len(argv):
            return argv[i + 1], "v" in arg
    return None, False


def _is_script(argv: list[str]) -> bool:
    return _script_file(argv)[0] is not None


def _reads_stdin_script(argv: list[str]) -> bool:
    return _script_file(argv)[0] in ("/dev/stdin", "-")


def _dbm_cfg(ctx: CommandContext) -> Result:
    st = _st(ctx)
    lines = [
        "",
        "          Database Manager Configuration",
        "",
        "     Node type = Enterprise Server Edition with local and remote clients",
        "",
        _cfg("Database manager configuration release level", None, "0x1500"),
        "",
        _cfg("CPU speed (millisec/instruction)", "(CPUSPEED)", "2.361721e-07"),
        _cfg("Communications bandwidth (MB/sec)", "(COMM_BANDWIDTH)", "1.000000e+02"),
        "",
        _cfg("Max number of concurrently active databases", "(NUMDB)", "32"),
        _cfg("Federated Database System Support", "(FEDERATED)", "NO"),
        "",
        _cfg("Default charge-back account", "(DFT_ACCOUNT_STR)", "", bare_empty=True),
        "",
        _cfg("Diagnostic error capture level", "(DIAGLEVEL)", "3"),
        _cfg(
            "Diagnostic data directory path", "(DIAGPATH)", f"/home/{ctx.cluster.instance}/sqllib/db2dump/ $m"
        ),
        _cfg(
            "Current member resolved DIAGPATH", None, f"/home/{ctx.cluster.instance}/sqllib/db2dump/DIAG0000/"
        ),
        _cfg("Size of rotating db2diag & notify logs (MB)", "(DIAGSIZE)", "0"),
        "",
        _cfg("SYSADM group name", "(SYSADM_GROUP)", "DB2IADM1"),
        _cfg("SYSCTRL group name", "(SYSCTRL_GROUP)", "", bare_empty=True),
        _cfg("SYSMAINT group name", "(SYSMAINT_GROUP)", "", bare_empty=True),
        _cfg("SYSMON group name", "(SYSMON_GROUP)", "", bare_empty=True),
        "",
        _cfg("Database manager authentication", "(AUTHENTICATION)", "SERVER"),
        _cfg("Trust all clients", "(TRUST_ALLCLNTS)", "YES"),
        "",
        _cfg("Audit buffer size (4KB)", "(AUDIT_BUF_SZ)", str(st.audit_buf_sz)),
        _cfg("Agent stack size", "(AGENT_STACK_SZ)", "1024"),
        _cfg("Sort heap threshold (4KB)", "(SHEAPTHRES)", "0"),
        "",
        _cfg("Default database path", "(DFTDBPATH)", f"/home/{ctx.cluster.instance}"),
        _cfg("TCP/IP Service name", "(SVCENAME)", "db2c_db2inst1"),
        _cfg("Cluster manager", None, "PACEMAKER"),
        "",
    ]
    return 0, "\n".join(lines) + "\n", ""


def _update_dbm(ctx: CommandContext) -> Result:
    w = _words(ctx.argv)
    pairs = w[w.index("using") + 1 :]
    if len(pairs) % 2 or not pairs:
        return 4, 'SQL0104N  An unexpected token "END-OF-STATEMENT" was found.  SQLSTATE=42601\n', ""
    for name, value in zip(pairs[::2], pairs[1::2], strict=True):
        if name != "audit_buf_sz":
            continue  # other parameters are accepted and ignored by the lab
        if not value.isdigit() or not 0 <= int(value) <= 65000:
            return (
                4,
                f'SQL5130N  The value "{value}" specified for the configuration parameter "audit_buf_sz" is not in the valid range of "0" to "65000".\n',
                "",
            )
        _st(ctx).audit_buf_sz = int(value)
    return 0, "DB20000I  The UPDATE DATABASE MANAGER CONFIGURATION command completed successfully.\n", ""


def _db2_script(ctx: CommandContext) -> Result:
    path, echo = _script_file(ctx.argv)
    if path in ("/dev/stdin", "-"):
        text = ctx.stdin
    elif path in ctx.host.files:
        text = ctx.host.files[path]
    else:
        return 4, f'DB21001E  The file "{path}" cannot be opened.\n', ""
    return run_script(ctx.cluster, ctx.host, _user(ctx), text, echo=echo)


# ---------------------------------------------------------------- files


def _tee(ctx: CommandContext) -> Result:
    append = any(a in ("-a", "--append") for a in ctx.args)
    targets = [a for a in ctx.args if not a.startswith("-")]
    st = _st(ctx)
    for path in targets:
        if not parent_exists(st, path) or normpath(path) in st.dirs:
            return 1, ctx.stdin, f"tee: {path}: No such file or directory\n"
        ctx.host.files[path] = (ctx.host.files.get(path, "") if append else "") + ctx.stdin
    return 0, ctx.stdin, ""


def _install(ctx: CommandContext) -> Result:
    args, mode, st = list(ctx.args), "0755", _st(ctx)
    if "-m" in args:
        i = args.index("-m")
        mode = args[i + 1] if i + 1 < len(args) else mode
        del args[i : i + 2]
    if args[:1] == ["-d"]:
        for path in args[1:]:
            add_dir(st, path)
        return 0, "", ""
    if len(args) != 2:
        return 1, "", "install: missing destination file operand\n"
    source, dest = args
    data = ctx.stdin if source in ("/dev/stdin", "-") else ctx.host.files.get(source)
    if data is None:
        return 1, "", f"install: cannot stat '{source}': No such file or directory\n"
    if not parent_exists(st, dest):
        return 1, "", f"install: cannot create regular file '{dest}': No such file or directory\n"
    ctx.host.files[dest] = data
    st.modes[dest] = mode
    return 0, "", ""


def _mkdir(ctx: CommandContext) -> Result:
    st = _st(ctx)
    parents = "-p" in ctx.args
    for path in (a for a in ctx.args if not a.startswith("-")):
        if normpath(path) in ctx.host.files:
            return 1, "", f"mkdir: cannot create directory '{path}': File exists\n"
        if not parents and not parent_exists(st, path):
            return 1, "", f"mkdir: cannot create directory '{path}': No such file or directory\n"
        add_dir(st, path)
    return 0, "", ""


def _test(ctx: CommandContext) -> Result:
    if len(ctx.args) != 2:
        return 2, "", "test: the db2ops lab emulates only test -f|-d|-e|-s|-x PATH\n"
    flag, path = ctx.args
    is_file, is_dir = path in ctx.host.files, normpath(path) in _st(ctx).dirs
    mode = _st(ctx).modes.get(path, "0644" if is_file else "0755")  # tee creates files 0644 (umask 022)
    executable = (is_file or is_dir) and any(int(d) & 1 for d in mode[-3:] if d.isdigit())
    ok = {
        "-f": is_file,
        "-d": is_dir,
        "-e": is_file or is_dir,
        "-s": bool(ctx.host.files.get(path)),
        "-x": executable,
    }.get(flag)
    return (0 if ok else 1), "", ""


def _chmod(ctx: CommandContext) -> Result:
    if len(ctx.args) < 2:
        return 1, "", "chmod: missing operand\n"
    mode, paths = ctx.args[0], ctx.args[1:]
    for path in paths:
        if path not in ctx.host.files and normpath(path) not in _st(ctx).dirs:
            return 1, "", f"chmod: cannot access '{path}': No such file or directory\n"
        _st(ctx).modes[path] = mode
    return 0, "", ""


def _cp(ctx: CommandContext) -> Result:
    paths = [a for a in ctx.args if not a.startswith("-")]
    if len(paths) != 2:
        return 1, "", "cp: the db2ops lab emulates only cp [-p] SOURCE DEST\n"
    source, dest = paths
    if source not in ctx.host.files:
        return 1, "", f"cp: cannot stat '{source}': No such file or directory\n"
    ctx.host.files[dest] = ctx.host.files[source]
    return 0, "", ""


def _rm(ctx: CommandContext) -> Result:
    force = any(a.startswith("-") and "f" in a for a in ctx.args)
    for path in (a for a in ctx.args if not a.startswith("-")):
        if ctx.host.files.pop(path, None) is None and not force:
            return 1, "", f"rm: cannot remove '{path}': No such file or directory\n"
    return 0, "", ""


# ---------------------------------------------------------------- crontab


def _crontab(ctx: CommandContext) -> Result:
    st, args, user = _st(ctx), ctx.args, _user(ctx)
    if args == ["-l"]:
        if st.crontab is None:
            return 1, "", f"no crontab for {user}\n"
        return 0, st.crontab, ""
    if args == ["-r"]:
        if st.crontab is None:
            return 1, "", f"no crontab for {user}\n"
        st.crontab = None
        return 0, "", ""
    if args == ["-"]:
        for number, line in enumerate(ctx.stdin.splitlines(), start=1):
            fields = line.split()
            if not fields or fields[0].startswith("#") or "=" in fields[0]:
                continue
            if len(fields) < 6 and not fields[0].startswith("@"):
                return 1, "", f'"-":{number}: bad command\nerrors in crontab file, can\'t install.\n'
        st.crontab = ctx.stdin
        ctx.host.files[f"/var/spool/cron/{user}"] = ctx.stdin
        return 0, "", ""
    return 1, "", "crontab: the db2ops lab emulates crontab -l, crontab - and crontab -r\n"


def register() -> None:
    """Register every handler of this module with lab/commands.py (done once, on import)."""
    register_command("db2audit", _db2audit, roles=DB)
    register_command("db2", _dbm_cfg, roles=DB, match=_is_get_dbm)
    register_command("db2", _update_dbm, roles=DB, match=_is_update_dbm)
    register_command("db2", _db2_script, roles=DB, match=_is_script)
    register_command("db2", _db2_script, roles=DB, match=_reads_stdin_script, reads_stdin=True)
    register_command("tee", _tee, reads_stdin=True)
    register_command("install", _install, reads_stdin=True)
    register_command("mkdir", _mkdir)
    register_command("test", _test)
    register_command("chmod", _chmod)
    register_command("cp", _cp)
    register_command("rm", _rm)
    register_command("crontab", _crontab, match=lambda argv: argv[1:] != ["-"])
    register_command("crontab", _crontab, match=lambda argv: argv[1:] == ["-"], reads_stdin=True)
    register_command("amazon-cloudwatch-agent-ctl", agent_ctl, roles=DB)


register()
