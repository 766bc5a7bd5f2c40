"""The `db2ops` command line. Headless sub-commands never import Textual; only the console does.

The parser is tui/cli_parser.py; the headless commands are tui/cli_reads.py (status, check, logs, parse,
trust), tui/cli_evidence.py (record, replay, bundle, journal) and tui/cli_changes.py (setup, failover),
over tui/cli_support.py.

Exit codes: 0 ok/healthy, 1 degraded or "nothing matched", 2 unreachable or bad input, 3 refused (read-only).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from tui import cli_changes, cli_evidence, cli_reads
from tui.cli_parser import build_parser, package_version, parse_args
from tui.cli_support import UserError, load_inventory, run_stoppable

__all__ = ["build_parser", "main", "package_version"]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
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
    except UserError as exc:
        print(f"db2ops: {exc}", file=sys.stderr)
        return exc.code


def _dispatch(args: argparse.Namespace) -> int:
    if args.cmd == "locate":
        return cli_reads.cmd_locate(args)
    if args.cmd == "parse":
        return cli_reads.cmd_parse(args)
    if args.cmd == "replay":
        return cli_evidence.cmd_replay(args)
    if args.cmd == "bundle":
        return cli_evidence.cmd_bundle(args)
    if args.cmd == "filter-test":
        return cli_reads.cmd_filter_test(args)
    if args.cmd == "status":
        return asyncio.run(cli_reads.cmd_status(args))
    if args.cmd == "logs":
        return cli_reads.cmd_logs(args)
    if args.cmd == "check":
        return asyncio.run(cli_reads.cmd_check(args))
    if args.cmd == "setup":
        return cli_changes.cmd_setup(args)
    if args.cmd == "failover":
        return run_stoppable(cli_changes.cmd_failover(args))
    if args.cmd == "journal":
        return cli_evidence.cmd_journal(args)
    if args.cmd == "record":
        return asyncio.run(cli_evidence.cmd_record(args))
    if args.cmd == "trust":
        return asyncio.run(cli_reads.cmd_trust(args))
    if args.cmd == "lab":
        from tui.lab_cli import run_lab

        return run_lab(args)
    return _run_console(args)


def _run_console(args: argparse.Namespace) -> int:
    from services.settings import load_settings

    inv = load_inventory(args.inventory)
    from tui.app import run_console

    return run_console(inv, settings=load_settings(), start_cluster=args.cluster)


if __name__ == "__main__":
    sys.exit(main())
