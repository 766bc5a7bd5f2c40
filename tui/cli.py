"""The `db2ops` command line. Headless sub-commands never import Textual; only the console does.

Exit codes: 0 ok/healthy, 1 degraded or "nothing matched", 2 unreachable or bad input, 3 refused (read-only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from lab.arguments import cluster_count, db2_release
from lab.release import releases_help

if TYPE_CHECKING:
    from services.inventory.model import Cluster, Inventory

T = TypeVar("T")

PARSE_KINDS = (
    "crm_mon-xml",
    "quorum",
    "qdevice",
    "qnetd",
    "db2pd-hadr",
    "db2cm-list",
    "dbcfg-hadr",
    "db2diag",
    "db2audit",
    "db2audit-describe",
)


def package_version() -> str:
    """Return db2ops's version: the installed distribution's; when these sources run without being
    installed (PYTHONPATH), pyproject.toml's beside them marked "(not installed)"; else "unknown"."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("db2ops")
    except PackageNotFoundError:
        pass
    import tomllib

    try:
        with (Path(__file__).resolve().parents[1] / "pyproject.toml").open("rb") as fh:
            return f"{tomllib.load(fh)['project']['version']} (not installed)"
    except (OSError, KeyError, TypeError, ValueError):  # no or another pyproject.toml: say so, not fail
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """`--version`: print "db2ops VERSION" and exit 0. The version is read only when asked (not on every
    command), and nothing heavy is imported for it."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"db2ops {package_version()}")
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="db2ops", description="Console for Db2 HADR + Pacemaker clusters on AWS."
    )
    p.add_argument("--version", action=_VersionAction, help="print db2ops's version and exit")
    p.add_argument(
        "--inventory", type=Path, help="inventory YAML (default: the XDG config dir, see `db2ops locate`)"
    )
    p.add_argument("--cluster", help="open this cluster first")
    sub = p.add_subparsers(dest="cmd")

    lab = sub.add_parser(
        "lab", help="run the console on the embedded lab (simulated Db2 hosts over SSH + moto)"
    )
    lab.add_argument(
        "--clusters",
        type=cluster_count,
        default=1,
        metavar="N",
        help="simulated clusters, 1 to 200 (fleet tests)",
    )
    lab.add_argument(
        "--latency", type=int, default=0, metavar="MS", help="latency added to every lab command"
    )
    lab.add_argument(
        "--failover-delay", type=float, default=2.0, metavar="S", help="seconds before the lab promotes"
    )
    lab.add_argument(
        "--serve", action="store_true", help="run only the lab (no UI) and print its inventory path"
    )
    lab.add_argument(
        "--pacemaker", action="store_true", help="use the real Pacemaker cluster (root, Debian packages)"
    )
    lab.add_argument(
        "--down", action="store_true", help="with --pacemaker: stop the real cluster and clean up"
    )
    lab.add_argument(
        "--no-aws", action="store_true", help="no moto: SSH hosts only (faster; no overlay route, no logs)"
    )
    lab.add_argument(
        "--fresh-ha",
        action="store_true",
        help="clusters not yet clustered (HADR only): rehearse `setup ha` / :setup ha on them",
    )
    lab.add_argument(
        "--db2",
        type=db2_release,
        default=None,
        metavar="RELEASE",
        help=f"the Db2 release the simulated clusters run, with the Pacemaker build it ships ({releases_help()})",
    )
    lab.add_argument("--dir", type=Path, help="where the lab writes keys and its inventory")

    st = sub.add_parser(
        "status",
        help="print one snapshot per cluster",
        description="Print one snapshot per cluster of the inventory. Exit 0 healthy, 1 degraded, 2 unreachable.",
        epilog="--json prints one object, the same shape for one cluster, several or --cluster NAME: "
        '{"schema_version": 1, "exit_code": 0|1|2, "clusters": [{"cluster": NAME, "severity": ..., '
        '"environment": LABEL, "verdicts": [...], "crm": {...}, "hadr": {HOST: {...}}, "alarms": {"value": [{"name", "state", '
        '"since"}], ...}, ...}]}. exit_code is the worst cluster\'s '
        "and the process exit status; each cluster also has its own exit_code.",
    )
    st.add_argument("--cluster", dest="status_cluster", metavar="NAME", help="only this cluster")
    st.add_argument(
        "--json",
        action="store_true",
        help='JSON output: {"schema_version": 1, "exit_code": N, "clusters": [...]} (see below)',
    )

    ck = sub.add_parser(
        "check",
        help="audit one cluster's configuration across Db2, Pacemaker and AWS (read-only)",
        description="Read-only configuration audit of one cluster: HADR_PEER_WINDOW against the db2hadr "
        "monitor, the overlay-IP resource's constraints and monitor, and more. Each finding has a stable "
        "code, a severity, why it matters and the fix. Exit 0 no findings, 1 findings, 2 bad input or a "
        "source that could not be read.",
        epilog='--json prints {"schema_version": 1, "cluster": NAME, "exit_code": 0|1|2, "checked": [...], '
        '"unreadable": [...], "findings": [{"code", "severity", "layer", "summary", "why", "fix"}]}.',
    )
    ck.add_argument(
        "--cluster", dest="check_cluster", metavar="NAME", required=True, help="the cluster to audit"
    )
    ck.add_argument("--json", action="store_true", help="JSON output (see below)")

    pa = sub.add_parser(
        "parse",
        help="parse a saved tool output (from a ticket) and print it",
        description="Parse a saved tool output and print a short text summary of it (db2diag, db2audit: "
        "one line per record). --json prints every parsed field instead.",
    )
    pa.add_argument("kind", choices=PARSE_KINDS)
    pa.add_argument("file", type=Path)
    pa.add_argument(
        "--json",
        action="store_true",
        help="JSON: one object with every field (db2diag, db2audit: one object per record, per line)",
    )

    ft = sub.add_parser("filter-test", help="show which events of FILE a CloudWatch filter pattern matches")
    ft.add_argument("pattern")
    ft.add_argument("file", type=Path)
    ft.add_argument(
        "--events",
        choices=["auto", "record", "line"],
        default="auto",
        help="what one CloudWatch event is: a db2diag record (an agent with multi_line_start_pattern), a "
        "line (the runbook's agent config), or auto (records for a db2diag.log, else lines)",
    )

    lg = sub.add_parser(
        "logs",
        help="print one cluster's db2diag and audit records from CloudWatch (like aws logs tail)",
        description="Print the records of one cluster's hosts from the CloudWatch log groups (only its own "
        "streams: the groups may be shared with other clusters), oldest first; --follow keeps printing new "
        "ones until Ctrl-C or SIGTERM (exit 0). Exit 0 records printed, 1 none in the window, 2 bad input "
        "or CloudWatch unreadable.",
        epilog="--json prints one object per line: {time (ISO-8601 UTC), cluster, host, host_known, stream, "
        "group, source (diag|audit), level, summary, message}. A stream no host of the inventory writes "
        'shows as host "?STREAM" with host_known false.',
    )
    lg.add_argument("--cluster", dest="logs_cluster", metavar="NAME", required=True, help="the cluster")
    lg.add_argument(
        "--group", dest="logs_group", choices=["audit", "diag", "all"], default="all", help="default all"
    )
    lg.add_argument(
        "--since",
        dest="logs_since",
        default="15m",
        metavar="RANGE",
        help="how far back: 15m (default), 2h, 1d, or `2026-11-26 10:00..2026-11-26 11:00` (UTC)",
    )
    lg.add_argument("--follow", action="store_true", help="keep printing new records (Live Tail or polling)")
    lg.add_argument("--json", action="store_true", help="one JSON object per record, per line")

    sub.add_parser("locate", help="print where db2ops keeps its files")

    rec = sub.add_parser(
        "record",
        help="record one cluster's status (as the console does) until Ctrl-C or --for",
        description="Poll one cluster at the settings' refresh interval and record every snapshot, its events, "
        "alarm changes and journal lines to the state dir's record.sqlite (for a jump host's tmux or cron). "
        "Ctrl-C, SIGTERM or SIGHUP stop it cleanly. Exit 0, or 1 when the recording was paused.",
    )
    rec.add_argument("--cluster", dest="record_cluster", metavar="NAME", required=True)
    rec.add_argument(
        "--for", dest="record_for", metavar="DURATION", help="stop after this long: 90s, 10m, 2h, 1d"
    )
    rec.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    tr = sub.add_parser(
        "trust", help="show a host's SSH key fingerprint and, if you confirm, add it to known_hosts"
    )
    tr.add_argument("host", help="host name from the inventory")
    tr.add_argument("--cluster", dest="trust_cluster", help="the cluster of that host (when names repeat)")

    su = sub.add_parser("setup", help="run a setup plan headless")
    su.add_argument("what", choices=["monitoring", "ha"])
    su.add_argument("--cluster", dest="setup_cluster", required=True)
    mode = su.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="show every command and API call (default)")
    mode.add_argument("--apply", action="store_true", help="apply (refused on read-only clusters)")
    mode.add_argument(
        "--prove",
        action="store_true",
        help="prove it fires: run the runbook's test statement, watch event -> metric -> ALARM -> SNS "
        "(a change: refused on read-only clusters)",
    )
    su.add_argument("--json", action="store_true")
    su.add_argument(
        "--set",
        dest="setup_set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a runbook default (e.g. --set email=dba@example.com --set table=SAMPLE.WORKER)",
    )
    su.add_argument(
        "--no-email",
        dest="setup_no_email",
        action="store_true",
        help="setup monitoring: apply without an e-mail subscription (nobody will be notified)",
    )
    su.add_argument(
        "--test-role",
        dest="setup_test_role",
        default="",
        metavar="ROLE",
        help="--prove: grant the test SELECT to this role too (none by default; revoked in the same step)",
    )

    fo = sub.add_parser("failover", help="guided failover headless: preflight and dry run, or --apply")
    fo.add_argument("--cluster", dest="failover_cluster", metavar="NAME", required=True)
    fo.add_argument("--to", dest="failover_to", metavar="NODE", help="target node (default: the standby)")
    fo.add_argument(
        "--kind", dest="failover_kind", choices=["planned", "forced", "pacemaker"], default="planned"
    )
    fo_mode = fo.add_mutually_exclusive_group()
    fo_mode.add_argument("--dry-run", action="store_true", help="preflight and every command (default)")
    fo_mode.add_argument("--apply", action="store_true", help="fail over (needs --confirm)")
    fo.add_argument(
        "--confirm",
        dest="failover_confirm",
        metavar="CLUSTER/NODE",
        help="typed confirmation (forced: CLUSTER/NODE/force)",
    )
    fo.add_argument(
        "--json",
        action="store_true",
        help="one JSON object at the end, like setup --json: outcome, exit_code, message, the facts, and "
        "the checks, commands (dry run), progress and observations (apply)",
    )

    rp = sub.add_parser(
        "replay",
        help="open the console's screens on a recording (or a bundle) at a recorded time; changes nothing",
    )
    rp.add_argument("--cluster", dest="replay_cluster", help="the recorded cluster to open")
    rp_when = rp.add_mutually_exclusive_group()
    rp_when.add_argument(
        "--at", help='where to start: "03:12", "2026-12-06 03:12:33", or a duration ago ("10m")'
    )
    rp_when.add_argument("--incident", type=int, help="start at incident N of the cluster")
    rp.add_argument("--bundle", type=Path, help="replay a bundle (db2ops bundle -o FILE.tar.gz)")
    rp.add_argument("--store", type=Path, help="the recording store (default: the state dir's)")

    bu = sub.add_parser(
        "bundle", help="write the post-incident bundle (report, raw evidence, recording) of a recorded span"
    )
    bu.add_argument("--cluster", dest="bundle_cluster", metavar="NAME")
    bu_span = bu.add_mutually_exclusive_group(required=True)
    bu_span.add_argument("--incident", type=int, metavar="N", help="the cluster's Nth recorded incident")
    bu_span.add_argument(
        "--since", metavar="T", help="a time (03:12, 2026-11-30T03:12:00Z) or a duration ago (10m)"
    )
    bu.add_argument("--until", metavar="T", help="end of the span (default: now)")
    bu.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.tar.gz")
    bu.add_argument("--store", type=Path, metavar="PATH", help="the recording (default: the state dir's)")
    bu.add_argument(
        "--host-evidence",
        action="store_true",
        help="also read the span's evidence on the Db2 hosts through SSH (read-only: the Pacemaker journal, "
        "pe-input files, db2diag records, db2pd -hadr now) into host/; the commands are printed first",
    )
    bu.add_argument(
        "--dry-run",
        dest="bundle_dry_run",
        action="store_true",
        help="with --host-evidence: print the commands it would run, run nothing, write nothing",
    )

    jo = sub.add_parser("journal", help="print the operator journal")
    jo.add_argument("--cluster", dest="journal_cluster")
    jo_format = jo.add_mutually_exclusive_group()
    jo_format.add_argument("--markdown", action="store_true", help="export as a Markdown runbook")
    jo_format.add_argument("--json", action="store_true", help="one JSON object per line, as stored")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(_dash_pattern_is_positional(sys.argv[1:] if argv is None else argv))
    from services.quiet_warnings import quiet_dependency_warnings

    quiet_dependency_warnings()  # before any command imports asyncssh (the console, the lab, SSH)
    headless = args.cmd not in (None, "replay") and not (args.cmd == "lab" and not args.serve)
    streams = (sys.stdout, sys.stderr)
    if headless:  # names, remote stderr and journal lines reach the terminal without escape sequences
        from services.text_safety import SafeStream

        sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    try:
        return _main(args)
    finally:
        sys.stdout, sys.stderr = streams


def _main(args: argparse.Namespace) -> int:
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `db2ops journal | head`: the reader left, which is fine
        sys.stderr.close()
        return 0
    except _UserError as exc:
        print(f"db2ops: {exc}", file=sys.stderr)
        return exc.code


def _dash_pattern_is_positional(argv: list[str]) -> list[str]:
    """Return argv with `--` before a filter-test pattern that starts with '-' (an exclusion like
    `-appusr`), which argparse would otherwise take for an unknown option."""
    argv = list(argv)
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in ("--inventory", "--cluster"):
            i += 2
            continue
        if token == "filter-test":
            options: list[str] = []
            positional: list[str] = []
            rest = argv[i + 1 :]
            k = 0
            while k < len(rest):  # filter-test's own option may come anywhere: move it first
                if rest[k] == "--events" and k + 1 < len(rest):
                    options += rest[k : k + 2]
                    k += 2
                    continue
                (options if rest[k].startswith("--events=") else positional).append(rest[k])
                k += 1
            if positional and positional[0].startswith("-") and positional[0] not in ("-h", "--help", "--"):
                positional.insert(0, "--")
            return argv[: i + 1] + options + positional
        if not token.startswith("-"):
            return argv  # another sub-command
        i += 1
    return argv


class _UserError(Exception):
    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def _cmd_setup_ha(args: argparse.Namespace) -> int:
    from services.ha_setup.cli import parse_ha_overrides, run_setup_ha
    from services.ha_setup.params import HaParamError

    if args.prove:
        raise _UserError("--prove is for setup monitoring; setup ha verifies the cluster status itself")
    inv = _load_inventory(args.inventory)
    try:
        params = parse_ha_overrides(args.setup_set)
    except HaParamError as exc:
        raise _UserError(str(exc)) from None
    mode = "apply" if args.apply else "dry-run"
    context = _console_context(inv)
    setup = run_setup_ha(
        inv, args.setup_cluster, mode=mode, as_json=args.json, out=sys.stdout, params=params, context=context
    )
    return _run_stoppable(_closing(context, setup))


async def _cmd_failover(args: argparse.Namespace) -> int:
    from services.failover.cli import run_failover

    inv = _load_inventory(args.inventory)
    async with _console_context(inv) as context:
        return await run_failover(
            inv,
            args.failover_cluster,
            target=args.failover_to,
            kind=args.failover_kind,
            apply=args.apply,
            confirm=args.failover_confirm,
            as_json=args.json,
            out=sys.stdout,
            runner=context.runner,
        )


def _dispatch(args: argparse.Namespace) -> int:
    if args.cmd == "locate":
        from services.paths import locate_report

        for k, v in locate_report(args.inventory).items():
            print(f"{k:<14} {v}")
        return 0
    if args.cmd == "parse":
        return _cmd_parse(args)
    if args.cmd == "replay":
        return _cmd_replay(args)
    if args.cmd == "bundle":
        return _cmd_bundle(args)
    if args.cmd == "filter-test":
        from services.logs.cli import filter_test

        return filter_test(args.pattern, args.file, sys.stdout, mode=args.events)
    if args.cmd == "status":
        return asyncio.run(_cmd_status(args))
    if args.cmd == "logs":
        return _cmd_logs(args)
    if args.cmd == "check":
        return asyncio.run(_cmd_check(args))
    if args.cmd == "setup" and args.what == "ha":
        return _cmd_setup_ha(args)
    if args.cmd == "setup":
        from services.monitoring.cli import parse_param_overrides, run_prove_it_fires, run_setup_monitoring
        from services.monitoring.params import EMAIL_REQUIRED, NO_EMAIL_WARNING
        from services.monitoring.plan import MonitoringParamError

        mode = "apply" if args.apply else "dry-run"
        inv = _load_inventory(args.inventory)
        try:
            params = parse_param_overrides(args.setup_set)
        except MonitoringParamError as exc:
            raise _UserError(str(exc)) from None
        if not args.prove and not params.get("email"):
            if args.apply and not args.setup_no_email:
                raise _UserError(EMAIL_REQUIRED)
            print(NO_EMAIL_WARNING, file=sys.stderr)
        context = _console_context(inv)
        if args.prove:
            prove = run_prove_it_fires(
                inv,
                args.setup_cluster,
                as_json=args.json,
                out=sys.stdout,
                params=params,
                context=context,
                test_role=args.setup_test_role,
            )
            return _run_stoppable(_closing(context, prove))
        setup = run_setup_monitoring(
            inv,
            args.setup_cluster,
            mode=mode,
            as_json=args.json,
            out=sys.stdout,
            params=params,
            context=context,
        )
        return _run_stoppable(_closing(context, setup))
    if args.cmd == "failover":
        return _run_stoppable(_cmd_failover(args))
    if args.cmd == "journal":
        return _cmd_journal(args)
    if args.cmd == "record":
        return asyncio.run(_cmd_record(args))
    if args.cmd == "trust":
        return asyncio.run(_cmd_trust(args))
    if args.cmd == "lab":
        from tui.lab_cli import run_lab

        return run_lab(args)
    return _run_console(args)


def _cmd_logs(args: argparse.Namespace) -> int:
    """`db2ops logs`: one cluster's records, read within the command deadline, or followed until Ctrl-C,
    SIGTERM or SIGHUP (which end the follow cleanly: exit 0)."""
    import signal

    from services.logs.cloudwatch import CloudWatchLogs
    from services.logs.follow_cli import run_logs
    from services.settings import SettingsError, load_settings
    from tui.backends import insights_engine_for

    inv = _load_inventory(args.inventory)
    cluster = _cluster_named(inv, args.logs_cluster)
    try:
        deadline_s = load_settings().command_deadline_s
    except SettingsError as exc:
        raise _UserError(str(exc)) from None
    # the lab's moto ignores filter patterns and Insights filters: the engine says who evaluates them
    logs = CloudWatchLogs.for_cluster(cluster, insights_engine=insights_engine_for(cluster))

    async def command() -> int:
        stop = asyncio.Event()
        run = run_logs(
            cluster,
            logs,
            sys.stdout,
            sys.stderr,
            group=args.logs_group,
            since=args.logs_since,
            follow=args.follow,
            as_json=args.json,
            stop=stop,
        )
        if not args.follow:
            return await _within_command_deadline(deadline_s, run, f"the logs of {cluster.name}")
        loop = asyncio.get_running_loop()
        names = [getattr(signal, n) for n in ("SIGINT", *STOP_SIGNALS) if hasattr(signal, n)]
        for signum in names:
            loop.add_signal_handler(signum, stop.set)
        try:
            return await run
        finally:
            for signum in names:
                loop.remove_signal_handler(signum)

    return asyncio.run(command())


def _cmd_bundle(args: argparse.Namespace) -> int:
    """`db2ops bundle`: services/record/bundle_cli.py does it; errors come back with their exit code."""
    from services.plans.journal import default_journal_dir
    from services.record.bundle_cli import BundleCommandError, BundleRequest, run_bundle

    request = BundleRequest(
        args.bundle_cluster or args.cluster,
        args.output,
        args.incident,
        args.since,
        args.until,
        args.store,
        default_journal_dir(),
        args.host_evidence,
        args.bundle_dry_run,
    )
    inventory, gather = None, None
    if args.host_evidence:  # only then is the inventory read and a host reached
        inventory = _load_inventory(args.inventory)
        gather = _host_evidence_gatherer(inventory)
    try:
        run_bundle(request, sys.stdout, inventory=inventory, gather=gather)
    except BundleCommandError as exc:
        raise _UserError(str(exc), exc.code) from None
    return 0


def _host_evidence_gatherer(inventory):
    """The blocking read of `db2ops bundle --host-evidence`: one ConsoleContext (its SSH pool, the
    settings' timeouts) for the reads, closed after them."""
    from services.record.host_evidence import gather_evidence

    def gather(cluster, since, until):
        async def read():
            async with _console_context(inventory) as context:
                return await gather_evidence(cluster, context.runner, since, until)

        return asyncio.run(read())

    return gather


def _cmd_journal(args: argparse.Namespace) -> int:
    """`db2ops journal`: every record (intents, outcomes, interrupted) as text, Markdown or JSON lines; the
    intents with no outcome (a killed run) are reported at the end ("unfinished: ...")."""
    from services.plans.journal import export_markdown
    from services.plans.journal_text import render_journal_text

    records, unfinished = _journal_records(args.inventory, args.journal_cluster)
    if args.markdown:
        print(export_markdown(records, unfinished=unfinished))
    elif args.json:  # as stored: JSON escapes every control character, nothing raw reaches the terminal
        for e in records:
            print(json.dumps(e.to_dict(), default=str))
    else:
        print(render_journal_text(records, unfinished))
    return 0


def _journal_records(inventory: Path | None, cluster: str | None) -> tuple[list, list]:
    """Return (records, unfinished intents) of `cluster` (or all), oldest first, from _journal_dirs."""
    from services.plans.journal import Journal

    records, unfinished = [], []
    for directory in _journal_dirs(inventory, cluster):
        read = Journal(directory).read(cluster)
        records += read.intents + read.entries
        unfinished += read.unfinished
    key = lambda e: e.when  # noqa: E731 - stable: file order within the same second
    return sorted(records, key=key), sorted(unfinished, key=key)


def _journal_dirs(inventory: Path | None, cluster: str | None) -> list[Path]:
    """Return the journal directories to read: the operator journal's, plus the lab journals of the
    inventory's lab clusters (given, or the default inventory when it exists)."""
    from services.paths import default_inventory_path
    from services.plans.journal import default_journal_dir, journal_dir_for

    directories = [default_journal_dir()]
    if inventory is not None or default_inventory_path().exists():
        inv = _load_inventory(inventory)
        if cluster is not None and not any(c.name == cluster for c in inv.clusters):
            names = ", ".join(c.name for c in inv.clusters) or "none"
            raise _UserError(f"no cluster {cluster!r} in {inv.source} (clusters: {names})")
        for c in inv.clusters:
            if cluster in (None, c.name) and journal_dir_for(c) not in directories:
                directories.append(journal_dir_for(c))
    return directories


def _cluster_named(inv: Inventory, name: str) -> Cluster:
    """The inventory's cluster `name`, or a user error that lists the known ones."""
    cluster = inv.cluster(name)
    if cluster is None:
        names = ", ".join(c.name for c in inv.clusters) or "none"
        raise _UserError(f"no cluster {name!r} in {inv.source}; known: {names}")
    return cluster


def _load_inventory(path: Path | None):
    from services.inventory.loader import InventoryError, load_inventory
    from services.paths import default_inventory_path

    try:
        inv = load_inventory(path or default_inventory_path())
    except InventoryError as exc:
        raise _UserError(str(exc)) from None
    for w in inv.warnings:
        print(f"db2ops: warning: {w}", file=sys.stderr)
    return inv


def _console_context(inventory):
    """Return the command's one ConsoleContext over `inventory` and settings.yaml (its SSH pool has the
    settings' timeouts); use it as `async with`, which closes the pool."""
    from services.context import ConsoleContext
    from services.settings import SettingsError
    from tui.backends import extras_chooser, insights_engine_for

    try:
        # the CLI has no lab in its process: a lab cluster's CloudWatch extras are reached over SSH
        context = ConsoleContext.from_settings_file(
            inventory, extras_for=extras_chooser(None), insights_for=insights_engine_for
        )
    except SettingsError as exc:
        raise _UserError(str(exc)) from None
    for w in context.settings.warnings:
        print(f"db2ops: warning: {w}", file=sys.stderr)
    return context


STOP_SIGNALS = ("SIGTERM", "SIGHUP")  # a `kill`, a dropped jump-host session: handled like Ctrl-C


def _run_stoppable(command: Awaitable[int]) -> int:
    """Run a headless command that may change hosts; SIGTERM and SIGHUP cancel it as Ctrl-C does, so it
    journals an "interrupted" outcome for the step it was applying and says where it stopped. Returns the
    command's exit code, or 128 + the signal's number when a signal stopped it (130 for Ctrl-C, in main)."""
    import signal

    received: list[int] = []

    async def guarded() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        names = [getattr(signal, name) for name in STOP_SIGNALS if hasattr(signal, name)]

        def stop(signum: int) -> None:
            if not received:  # a second signal while the first one's cancellation unwinds: ignored
                received.append(signum)
                task.cancel()

        for signum in names:
            loop.add_signal_handler(signum, stop, signum)
        try:
            return await command
        finally:
            for signum in names:
                loop.remove_signal_handler(signum)

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:
        if not received:
            raise
        name = signal.Signals(received[0]).name
        try:
            print(f"db2ops: stopped by {name}", file=sys.stderr, flush=True)
        except OSError:  # SIGHUP: the terminal may be gone
            pass
        return 128 + received[0]


async def _closing(context, command: Awaitable[int]) -> int:
    """Await `command` (which runs on `context`), then close the context (its SSH pool)."""
    async with context:
        return await command


async def _within_command_deadline(deadline_s: float, work: Awaitable[T], what: str) -> T:
    """Return what `work` returns, or stop with exit 2 after `deadline_s` (settings' command_deadline_s):
    a headless read never hangs on a host or endpoint that accepts connections and never answers."""
    try:
        async with asyncio.timeout(deadline_s) as budget:
            return await work
    except TimeoutError:
        if not budget.expired():
            raise
        raise _UserError(
            f"{what} did not come back within {deadline_s:g} s; check that the hosts and AWS endpoints answer "
            f"from this machine (command_deadline_s in settings)"
        ) from None


async def _cmd_trust(args: argparse.Namespace) -> int:
    from services.ssh.pool import HostKeyChanged, HostKeyUnknown, SshError, trust_host_key

    inv = _load_inventory(args.inventory)
    found = [
        (c, h)
        for c in inv.clusters
        for h in c.hosts
        if h.name == args.host and (args.trust_cluster is None or c.name == args.trust_cluster)
    ]
    if not found:
        raise _UserError(f"no host {args.host!r} in {inv.source}; `db2ops status` lists the hosts")
    if len(found) > 1:
        raise _UserError(f"host {args.host!r} is in several clusters: add --cluster NAME")
    _, host = found[0]
    async with _console_context(inv) as context:
        try:
            await _within_command_deadline(
                context.settings.command_deadline_s, context.runner.run(host, ["true"]), f"{host.name}'s key"
            )
        except HostKeyChanged as exc:
            print(f"db2ops: REFUSED: {exc}", file=sys.stderr)
            return 3
        except HostKeyUnknown as exc:
            print(
                f"host {host.name} ({exc.address}:{exc.port})\n  {exc.key_type} key fingerprint {exc.fingerprint}"
            )
            print("Compare it with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` run on the host itself.")
            answer = input("Trust this key and add it to known_hosts? [y/N] ") if sys.stdin.isatty() else ""
            if answer.strip().lower() not in ("y", "yes"):
                print("not trusted; nothing written")
                return 1
            path = trust_host_key(exc)
            print(f"trusted: added to {path}")
            return 0
        except SshError as exc:
            raise _UserError(str(exc)) from None
    print(f"{host.name}: its key is already known")
    return 0


def _other_kind_hint(args: argparse.Namespace, text: str | None = None) -> str:
    """ "; it reads as KIND: db2ops parse KIND FILE" when another parser reads the file, else ""."""
    from services.parsers import guess_kind

    if text is None:
        try:
            with args.file.open(encoding="utf-8", errors="replace") as fh:
                text = fh.read(1 << 16)
        except OSError:
            return ""
    kind = guess_kind(text, exclude=[args.kind])
    return f"; it reads as {kind}: db2ops parse {kind} {args.file}" if kind else ""


def _cmd_parse(args: argparse.Namespace) -> int:
    if args.kind in ("db2diag", "db2audit"):
        from services.logs.cli import parse_log_file

        try:
            parse_log_file(args.kind, args.file, sys.stdout, as_json=args.json)
        except BrokenPipeError:  # `| head`: main() ends quietly
            raise
        except OSError as exc:
            raise _UserError(f"cannot read {args.file}: {exc.strerror}") from None
        except ValueError as exc:
            raise _UserError(f"{args.file}: {exc}{_other_kind_hint(args)}") from None
        return 0
    from services.capped_read import read_text_capped
    from services.parsers import PARSERS

    try:
        text = read_text_capped(args.file)  # /dev/zero: "output larger than 64 MB", not a MemoryError
    except OSError as exc:
        raise _UserError(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        value = PARSERS[args.kind](text)
    except ValueError as exc:  # ParseError
        raise _UserError(f"{args.file}: {exc}{_other_kind_hint(args, text)}") from None
    if args.json:
        from services.status.render_json import _plain

        print(json.dumps(_plain(value), indent=2, default=str))
    else:  # a few lines to read; --json has every field
        from services.parsers.text_summary import render_parse_text

        print(render_parse_text(args.kind, value))
    return 0


async def _cmd_status(args: argparse.Namespace) -> int:
    from services.status.render_json import EXIT_UNREACHABLE, status_document, status_exit_code

    inv = _load_inventory(args.inventory)
    clusters = list(inv.clusters)
    if args.status_cluster:
        c = _cluster_named(inv, args.status_cluster)
        clusters = [c]
    async with _console_context(inv) as context:
        statuses = await _within_command_deadline(
            context.settings.command_deadline_s,
            asyncio.gather(*(context.snapshot(c) for c in clusters)),
            "the status of " + ", ".join(c.name for c in clusters),
        )
        unknown_keys = context.unknown_host_keys()
    code = status_exit_code(statuses)
    code = EXIT_UNREACHABLE if unknown_keys and code == 0 else code
    if args.json:
        document = status_document(statuses, exit_code=code)
        for entry, cluster in zip(document["clusters"], clusters, strict=True):
            # the inventory's label (a lab on a stand-in release says so there: lab/release.py)
            entry["environment"] = cluster.environment
        print(json.dumps(document, indent=2, default=str))
    else:
        from services.status.render_text import render_status_text

        for s in statuses:
            print(render_status_text(s))
    for err in unknown_keys:
        print(f"db2ops: {err}", file=sys.stderr)
    return code


async def _cmd_record(args: argparse.Namespace) -> int:
    from services.plans.journal import journal_for
    from services.record.headless import record
    from services.record.recorder import recorder_from_settings
    from services.record.when import parse_duration

    inv = _load_inventory(args.inventory)
    cluster = _cluster_named(inv, args.record_cluster)
    try:
        for_s = parse_duration(args.record_for) if args.record_for else None
    except ValueError as exc:
        raise _UserError(str(exc)) from None
    async with _console_context(inv) as context:
        if not context.settings.record or cluster.name in context.settings.record_off:
            raise _UserError(f"recording of {cluster.name} is off in settings (record, record_off)")
        recorder = recorder_from_settings(context.settings)
        recorder.watch_journal(cluster.name, journal_for(cluster).path)
        # the timeline's own reads (log records of interest, alarm changes): its log records are recorded
        context.recorder = recorder
        sources = context.timeline_sources_for(cluster)
        return await record(
            cluster,
            context.status,
            recorder,
            interval=context.settings.refresh_interval_s,
            for_s=for_s,
            out=sys.stdout,
            as_json=args.json,
            logs=sources.poll,
            logs_note=sources.note_text,
        )


async def _cmd_check(args: argparse.Namespace) -> int:
    from services.check.render import render_check_text
    from services.check.service import run_check

    inv = _load_inventory(args.inventory)
    cluster = _cluster_named(inv, args.check_cluster)
    async with _console_context(inv) as context:
        runner = await context.host_runner()
        report = await _within_command_deadline(
            context.settings.command_deadline_s,
            run_check(cluster, runner, timeout_s=context.settings.status_deadline_s),
            f"the check of {cluster.name}",
        )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(render_check_text(report))
    return report.exit_code


def _cmd_replay(args: argparse.Namespace) -> int:
    from services.record.replay_feed import ReplayError, open_reader, resolve_start
    from services.settings import SettingsError, load_settings

    try:
        opened = open_reader(args.store, args.bundle)
        start = resolve_start(
            opened.reader,
            cluster=args.replay_cluster or args.cluster,
            at=args.at,
            incident=args.incident,
            where=opened.name,
        )
        settings = load_settings()
    except (ReplayError, SettingsError) as exc:
        raise _UserError(str(exc)) from None
    inventory = None
    try:  # the inventory only names hosts and environments: a replay runs without one
        inventory = _load_inventory(args.inventory)
    except _UserError:
        pass
    from tui.replay import run_replay

    try:
        return run_replay(opened, start, inventory=inventory, settings=settings)
    except ReplayError as exc:
        raise _UserError(str(exc)) from None


def _run_console(args: argparse.Namespace) -> int:
    from services.settings import load_settings

    inv = _load_inventory(args.inventory)
    from tui.app import run_console

    return run_console(inv, settings=load_settings(), start_cluster=args.cluster)


if __name__ == "__main__":
    sys.exit(main())
