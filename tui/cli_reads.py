"""The headless commands that read a cluster or a saved file and print it: `status`, `check`, `logs`,
`parse`, `filter-test`, `locate`, and `trust` (reads a host's key; writes known_hosts only when confirmed)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from tui.cli_support import (
    STOP_SIGNALS,
    UserError,
    cluster_named,
    console_context,
    load_inventory,
    within_command_deadline,
)


async def cmd_status(args: argparse.Namespace) -> int:
    from services.status.render_json import EXIT_UNREACHABLE, status_document, status_exit_code

    inv = load_inventory(args.inventory)
    clusters = list(inv.clusters)
    if args.status_cluster:
        c = cluster_named(inv, args.status_cluster)
        clusters = [c]
    async with console_context(inv) as context:
        statuses = await within_command_deadline(
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


async def cmd_check(args: argparse.Namespace) -> int:
    from services.check.render import render_check_text
    from services.check.service import run_check

    inv = load_inventory(args.inventory)
    cluster = cluster_named(inv, args.check_cluster)
    async with console_context(inv) as context:
        runner = await context.host_runner()
        report = await within_command_deadline(
            context.settings.command_deadline_s,
            run_check(cluster, runner, timeout_s=context.settings.status_deadline_s),
            f"the check of {cluster.name}",
        )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(render_check_text(report))
    return report.exit_code


def cmd_logs(args: argparse.Namespace) -> int:
    """`db2ops logs`: one cluster's records, read within the command deadline, or followed until Ctrl-C,
    SIGTERM or SIGHUP (which end the follow cleanly: exit 0)."""
    import signal

    from services.logs.cloudwatch import CloudWatchLogs
    from services.logs.follow_cli import run_logs
    from services.settings import SettingsError, load_settings
    from tui.backends import insights_engine_for

    inv = load_inventory(args.inventory)
    cluster = cluster_named(inv, args.logs_cluster)
    try:
        deadline_s = load_settings().command_deadline_s
    except SettingsError as exc:
        raise UserError(str(exc)) from None
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
            return await within_command_deadline(deadline_s, run, f"the logs of {cluster.name}")
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


def cmd_parse(args: argparse.Namespace) -> int:
    if args.kind in ("db2diag", "db2audit"):
        from services.logs.cli import parse_log_file

        try:
            parse_log_file(args.kind, args.file, sys.stdout, as_json=args.json)
        except BrokenPipeError:  # `| head`: main() ends quietly
            raise
        except OSError as exc:
            raise UserError(f"cannot read {args.file}: {exc.strerror}") from None
        except ValueError as exc:
            raise UserError(f"{args.file}: {exc}{_other_kind_hint(args)}") from None
        return 0
    from services.capped_read import read_text_capped
    from services.parsers import PARSERS

    try:
        text = read_text_capped(args.file)  # /dev/zero: "output larger than 64 MB", not a MemoryError
    except OSError as exc:
        raise UserError(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        value = PARSERS[args.kind](text)
    except ValueError as exc:  # ParseError
        raise UserError(f"{args.file}: {exc}{_other_kind_hint(args, text)}") from None
    if args.json:
        from services.status.render_json import _plain

        print(json.dumps(_plain(value), indent=2, default=str))
    else:  # a few lines to read; --json has every field
        from services.parsers.text_summary import render_parse_text

        print(render_parse_text(args.kind, value))
    return 0


async def cmd_trust(args: argparse.Namespace) -> int:
    from services.ssh.pool import HostKeyChanged, HostKeyUnknown, SshError, trust_host_key

    inv = load_inventory(args.inventory)
    found = [
        (c, h)
        for c in inv.clusters
        for h in c.hosts
        if h.name == args.host and (args.trust_cluster is None or c.name == args.trust_cluster)
    ]
    if not found:
        raise UserError(f"no host {args.host!r} in {inv.source}; `db2ops status` lists the hosts")
    if len(found) > 1:
        raise UserError(f"host {args.host!r} is in several clusters: add --cluster NAME")
    _, host = found[0]
    async with console_context(inv) as context:
        try:
            await within_command_deadline(
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
            raise UserError(str(exc)) from None
    print(f"{host.name}: its key is already known")
    return 0


def cmd_filter_test(args: argparse.Namespace) -> int:
    from services.logs.cli import filter_test

    return filter_test(args.pattern, args.file, sys.stdout, mode=args.events)


def cmd_locate(args: argparse.Namespace) -> int:
    from services.paths import locate_report

    for k, v in locate_report(args.inventory).items():
        print(f"{k:<14} {v}")
    return 0
