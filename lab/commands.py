"""Command dispatch for the lab's SSH hosts: argv -> (exit_status, stdout, stderr).

The SSH server shlex-splits the client's command line and calls `run_command`. Nothing is ever executed on
the machine: every answer is rendered from the cluster's state model. Other modules add commands with
`register_command(name, handler)` or the `@command(name)` decorator (e.g. lab/commands_db2admin.py); a later
registration for the same name is tried first, and a handler can decline argv it does not understand with
`match=`. Unknown commands answer like bash (`command not found`, exit 127).

Handlers run on the SSH server's event loop: they must be quick and must not block.

The registry itself lives in lab/command_registry.py, which handler modules import; this module holds the
base commands (status tools, db2pd, db2cm, db2ops-lab) and imports every handler module at its end, so the
imports form no cycle (tests/test_import_cycles.py).
"""

from __future__ import annotations

import json

from lab import render_corosync, render_db2, render_pacemaker
from lab.command_registry import (
    _REGISTRY,
    CommandContext,
    Result,
    command,
    not_found,
    reads_stdin,
    register_command,
    run_command,
    run_pipeline,
)
from lab.state import LabCluster

# The registry is re-exported: lab/sshd.py and the tests dispatch and register through lab.commands, which
# is the module that loads every handler.
__all__ = [
    "_REGISTRY",
    "CommandContext",
    "Result",
    "command",
    "lab_control",
    "not_found",
    "reads_stdin",
    "register_command",
    "run_command",
    "run_pipeline",
]


# ---------------------------------------------------------------- Pacemaker / corosync


def _wants_xml(args: list[str]) -> bool:
    for i, arg in enumerate(args):
        if arg in ("--output-as=xml", "--as-xml", "-X"):
            return True
        if arg == "--output-as" and i + 1 < len(args) and args[i + 1] == "xml":
            return True
    return False


@command("crm_mon", roles=("db",))
def _crm_mon(ctx: CommandContext) -> Result:
    if _wants_xml(ctx.args):
        return 0, render_pacemaker.render_crm_mon_xml(ctx.cluster, ctx.argv), ""
    return 0, render_pacemaker.render_crm_mon_text(ctx.cluster), ""


@command("crm", roles=("db",))
def _crm(ctx: CommandContext) -> Result:
    if ctx.args[:1] == ["status"]:
        return 0, render_pacemaker.render_crm_mon_text(ctx.cluster), ""
    return 1, "", f"ERROR: crm {' '.join(ctx.args)}: not emulated by the db2ops lab (try: crm status)\n"


@command("corosync-quorumtool", roles=("db",))
def _quorumtool(ctx: CommandContext) -> Result:
    return render_corosync.render_quorumtool(ctx.cluster, ctx.host.name)


@command("corosync-qdevice-tool")
def _qdevice_tool(ctx: CommandContext) -> Result:
    verbose = any(a.startswith("-") and not a.startswith("--") and "v" in a for a in ctx.args)
    return render_corosync.render_qdevice_tool(ctx.cluster, ctx.host.name, verbose)


@command("corosync-qnetd-tool", roles=("qdevice",))
def _qnetd_tool(ctx: CommandContext) -> Result:
    return render_corosync.render_qnetd_tool(ctx.cluster, ctx.args)


@command("corosync-cfgtool", roles=("db",))
def _cfgtool(ctx: CommandContext) -> Result:
    return render_corosync.render_cfgtool(ctx.cluster, ctx.host.name)


# ---------------------------------------------------------------- Db2


DB2PD_USAGE = "Option -hadr requires -db <database> or -alldbs option and active database.\n"


@command("db2pd", roles=("db",))
def _db2pd(ctx: CommandContext) -> Result:
    args = [a.lower() if a.startswith("-") else a for a in ctx.args]
    if "-hadr" not in args:
        return 1, "", "db2pd: the db2ops lab emulates only `db2pd -hadr -db <database>`\n"
    database: str | None = None
    for flag in ("-db", "-database", "-d"):
        if flag in args:
            i = args.index(flag)
            if i + 1 >= len(args):
                return 0, "\n" + DB2PD_USAGE, ""
            database = args[i + 1]
            break
    if database is None and "-alldbs" not in args:
        return 0, "\n" + DB2PD_USAGE, ""
    return render_db2.render_db2pd_hadr(ctx.cluster, ctx.host.name, database)


@command("db2cm", roles=("db",))
def _db2cm(ctx: CommandContext) -> Result:
    if ctx.args[:1] == ["-list"]:
        return render_db2.render_db2cm_list(ctx.cluster, ctx.host.name)
    return 1, "", f"db2cm {' '.join(ctx.args)}: not emulated by the db2ops lab (try: db2cm -list)\n"


def _db_cfg_words(argv: list[str]) -> list[str]:
    return " ".join(argv[1:]).split()


def _is_get_db_cfg(argv: list[str]) -> bool:
    words = [w.lower() for w in _db_cfg_words(argv)]
    return (
        len(words) >= 5
        and words[0] == "get"
        and words[1] in ("db", "database")
        and words[2] in ("cfg", "config", "configuration")
        and words[3] == "for"
    )


@command("db2", roles=("db",))
def _db2_clp(ctx: CommandContext) -> Result:
    # The CLP prints its errors on stdout; an unknown command is taken as SQL without a connection.
    return (
        4,
        "DB21034E  The command was processed as an SQL statement because it was not a valid Command Line "
        "Processor command.  During SQL processing it returned:\n"
        "SQL1024N  A database connection does not exist.  SQLSTATE=08003\n",
        "",
    )


@command("db2", roles=("db",), match=_is_get_db_cfg)
def _db2_get_db_cfg(ctx: CommandContext) -> Result:
    return render_db2.render_db_cfg(ctx.cluster, ctx.host.name, _db_cfg_words(ctx.argv)[4])


# ---------------------------------------------------------------- small shell utilities


@command("hostname")
def _hostname(ctx: CommandContext) -> Result:
    return 0, ctx.host.name + "\n", ""


@command("true")
def _true(ctx: CommandContext) -> Result:
    return 0, "", ""


@command("cat")
def _cat(ctx: CommandContext) -> Result:
    out, err, status = [], [], 0
    for path in ctx.args:
        if path in ctx.host.files:
            out.append(ctx.host.files[path])
        else:
            err.append(f"cat: {path}: No such file or directory\n")
            status = 1
    return status, "".join(out), "".join(err)


# ---------------------------------------------------------------- lab control (drills)

LAB_VERBS = (
    "status",
    "kill-primary",
    "restore",
    "stop-qnetd",
    "start-qnetd",
    "disconnect-hadr",
    "reconnect-hadr",
    "latency MS",
    "move-primary NODE",
    # answered by lab/commands_cloudwatch.py (the lab's CloudWatch evaluator and agent)
    "confirm-email SUBSCRIPTION_ARN|all",
    "cloudwatch [notifications [ALARM] | series NAMESPACE METRIC | history ALARM]",
    "audit-test",
)
# One verb a line: some verbs take alternatives of their own (ARN|all), which a {a|b|c} list would blur.
LAB_USAGE = "usage: db2ops-lab VERB [ARGS], VERB one of:\n" + "".join(f"  {v}\n" for v in LAB_VERBS)


def lab_control(cluster: LabCluster, args: list[str]) -> Result:
    """Run one drill verb on `cluster`; returns (exit_status, stdout, stderr). Used over SSH and by the TUI."""
    if not args:
        return 2, "", LAB_USAGE
    verb, rest = args[0], args[1:]
    simple = {
        "kill-primary": cluster.kill_primary,
        "restore": cluster.restore,
        "stop-qnetd": cluster.stop_qnetd,
        "start-qnetd": cluster.start_qnetd,
        "disconnect-hadr": cluster.disconnect_hadr,
        "reconnect-hadr": cluster.reconnect_hadr,
    }
    try:
        if verb == "status":
            pass
        elif verb in simple and not rest:
            result = simple[verb]()
            if verb == "kill-primary":
                return 0, f"killed {result} (the HADR primary's host)\n", ""
        elif verb == "latency" and len(rest) == 1 and rest[0].isdigit():
            cluster.set_latency(int(rest[0]))
        elif verb == "move-primary" and len(rest) == 1:
            cluster.move_primary(rest[0])
        else:
            return 2, "", f"db2ops-lab: bad arguments {' '.join(args)!r}\n{LAB_USAGE}"
    except ValueError as exc:
        return 1, "", f"db2ops-lab: {exc}\n"
    return 0, json.dumps(cluster.summary(), indent=2, sort_keys=True) + "\n", ""


@command("db2ops-lab")
def _db2ops_lab(ctx: CommandContext) -> Result:
    return lab_control(ctx.cluster, ctx.args)


# Handler modules register themselves on import; they import this module, hence the import at the end.
# db2admin: the monitoring runbook's host commands (db2audit, dbm cfg, CLP scripts, crontab, CloudWatch agent).
# takeover: db2 takeover hadr, crm resource move/clear/cleanup, crm_resource, cibadmin constraints.
# cloudwatch: `db2ops-lab confirm-email|cloudwatch` for the lab's CloudWatch evaluator.
# ha, ha_cluster: the HA runbook's commands (rpm/dnf/tar, db2cm -create, crm configure; fresh clusters).
from lab import commands_cloudwatch, commands_db2admin, commands_takeover  # noqa: E402,F401,I001
from lab import commands_ha, commands_ha_cluster, commands_net  # noqa: E402,F401,I001

# after commands_ha: its `find` answers every other form (a later registration is asked first)
from lab import commands_evidence  # noqa: E402,F401,I001

# text: the filters of the runbooks' pipelines (grep, head, tail, wc -l, sort).
from lab import commands_text  # noqa: E402,F401,I001
