"""`db2ops lab`: the console (or, with --serve, only the lab) on the embedded lab or the real Pacemaker lab."""

from __future__ import annotations

import argparse
import asyncio
import sys


def run_lab(args: argparse.Namespace) -> int:
    if args.pacemaker:
        return _run_pacemaker_lab(args)
    from lab.session import LabSession

    session = LabSession(
        args.clusters,
        base_dir=args.dir,
        failover_delay_s=args.failover_delay,
        latency_ms=args.latency,
        with_aws=not args.no_aws,
        fresh_ha=getattr(args, "fresh_ha", False),
        db2=getattr(args, "db2", None),
    )
    if args.serve:
        return asyncio.run(_serve(session))
    from services.inventory.model import Inventory
    from services.settings import load_settings
    from tui.app import run_console

    # The console paints first and starts the lab in a worker (keeps moto/asyncssh off the first frame).
    return run_console(Inventory(), settings=load_settings(), lab=session, start_cluster=args.cluster)


async def _serve(session) -> int:
    from lab.runtime import serve_forever

    try:
        await session.start()
    except Exception as exc:
        print(f"db2ops lab: the lab did not start: {exc}", file=sys.stderr)
        await session.stop()
        return 2
    for w in session.warnings:
        print(f"db2ops lab: warning: {w}", file=sys.stderr)
    try:
        await serve_forever(session.runtime, on_stop=session.stop)
    finally:
        await session.stop()
    return 0


def _run_pacemaker_lab(args: argparse.Namespace) -> int:
    from lab.pacemaker import (
        PacemakerLabError,
        pacemaker_lab_available,
        start_pacemaker_lab,
        stop_pacemaker_lab,
    )

    if args.down:
        try:
            stop_pacemaker_lab()
        except PacemakerLabError as exc:
            print(f"db2ops lab --pacemaker --down: {exc}", file=sys.stderr)
            return 2
        return 0
    missing = pacemaker_lab_available()
    if missing:
        print(f"db2ops lab --pacemaker: {missing}", file=sys.stderr)
        return 2
    try:
        path = asyncio.run(start_pacemaker_lab())
    except PacemakerLabError as exc:
        print(f"db2ops lab --pacemaker: {exc}", file=sys.stderr)
        return 2
    if args.serve:
        print(path)
        print(f"real Pacemaker lab running: try  db2ops --inventory {path} status --json")
        print("stop it with: db2ops lab --pacemaker --down  (or the lab script's `down`)")
        return 0
    from services.inventory.loader import load_inventory
    from services.settings import load_settings
    from tui.app import run_console

    return run_console(load_inventory(path), settings=load_settings(), start_cluster=args.cluster)
