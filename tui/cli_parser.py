"""`db2ops`'s argument parser: every sub-command's options and help, `--version`, and the one rewrite of
argv argparse needs (a filter-test pattern that starts with '-')."""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.arguments import cluster_count, db2_release
from lab.release import releases_help

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


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse `db2ops`'s argv (without the program name); argparse exits 2 on bad input."""
    return build_parser().parse_args(_dash_pattern_is_positional(argv))


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
