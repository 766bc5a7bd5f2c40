"""The headless commands over what was recorded: `record`, `replay`, `bundle` and `journal`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from tui.cli_support import UserError, cluster_named, console_context, load_inventory


async def cmd_record(args: argparse.Namespace) -> int:
    from services.plans.journal import journal_for
    from services.record.headless import record
    from services.record.recorder import recorder_from_settings
    from services.record.when import parse_duration

    inv = load_inventory(args.inventory)
    cluster = cluster_named(inv, args.record_cluster)
    try:
        for_s = parse_duration(args.record_for) if args.record_for else None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    async with console_context(inv) as context:
        if not context.settings.record or cluster.name in context.settings.record_off:
            raise UserError(f"recording of {cluster.name} is off in settings (record, record_off)")
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


def cmd_replay(args: argparse.Namespace) -> int:
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
        raise UserError(str(exc)) from None
    inventory = None
    try:  # the inventory only names hosts and environments: a replay runs without one
        inventory = load_inventory(args.inventory)
    except UserError:
        pass
    from tui.replay import run_replay

    try:
        return run_replay(opened, start, inventory=inventory, settings=settings)
    except ReplayError as exc:
        raise UserError(str(exc)) from None


def cmd_bundle(args: argparse.Namespace) -> int:
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
        inventory = load_inventory(args.inventory)
        gather = _host_evidence_gatherer(inventory)
    try:
        run_bundle(request, sys.stdout, inventory=inventory, gather=gather)
    except BundleCommandError as exc:
        raise UserError(str(exc), exc.code) from None
    return 0


def _host_evidence_gatherer(inventory):
    """The blocking read of `db2ops bundle --host-evidence`: one ConsoleContext (its SSH pool, the
    settings' timeouts) for the reads, closed after them."""
    from services.record.host_evidence import gather_evidence

    def gather(cluster, since, until):
        async def read():
            async with console_context(inventory) as context:
                return await gather_evidence(cluster, context.runner, since, until)

        return asyncio.run(read())

    return gather


def cmd_journal(args: argparse.Namespace) -> int:
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
        inv = load_inventory(inventory)
        if cluster is not None and not any(c.name == cluster for c in inv.clusters):
            names = ", ".join(c.name for c in inv.clusters) or "none"
            raise UserError(f"no cluster {cluster!r} in {inv.source} (clusters: {names})")
        for c in inv.clusters:
            if cluster in (None, c.name) and journal_dir_for(c) not in directories:
                directories.append(journal_dir_for(c))
    return directories
