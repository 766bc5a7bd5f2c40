"""The headless commands that change hosts and AWS through a plan: `setup monitoring|ha` and `failover`.
SIGTERM and SIGHUP stop them as Ctrl-C does (cli_support.run_stoppable)."""

from __future__ import annotations

import argparse
import sys

from tui.cli_support import UserError, closing, console_context, load_inventory, run_stoppable


def cmd_setup(args: argparse.Namespace) -> int:
    """`db2ops setup monitoring|ha`: a dry run by default, --apply, or (monitoring) --prove."""
    return _setup_ha(args) if args.what == "ha" else _setup_monitoring(args)


def _setup_monitoring(args: argparse.Namespace) -> int:
    from services.monitoring.cli import parse_param_overrides, run_prove_it_fires, run_setup_monitoring
    from services.monitoring.params import EMAIL_REQUIRED, NO_EMAIL_WARNING
    from services.monitoring.plan import MonitoringParamError

    mode = "apply" if args.apply else "dry-run"
    inv = load_inventory(args.inventory)
    try:
        params = parse_param_overrides(args.setup_set)
    except MonitoringParamError as exc:
        raise UserError(str(exc)) from None
    if not args.prove and not params.get("email"):
        if args.apply and not args.setup_no_email:
            raise UserError(EMAIL_REQUIRED)
        print(NO_EMAIL_WARNING, file=sys.stderr)
    context = console_context(inv)
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
        return run_stoppable(closing(context, prove))
    setup = run_setup_monitoring(
        inv,
        args.setup_cluster,
        mode=mode,
        as_json=args.json,
        out=sys.stdout,
        params=params,
        context=context,
    )
    return run_stoppable(closing(context, setup))


def _setup_ha(args: argparse.Namespace) -> int:
    from services.ha_setup.cli import parse_ha_overrides, run_setup_ha
    from services.ha_setup.params import HaParamError

    if args.prove:
        raise UserError("--prove is for setup monitoring; setup ha verifies the cluster status itself")
    inv = load_inventory(args.inventory)
    try:
        params = parse_ha_overrides(args.setup_set)
    except HaParamError as exc:
        raise UserError(str(exc)) from None
    mode = "apply" if args.apply else "dry-run"
    context = console_context(inv)
    setup = run_setup_ha(
        inv, args.setup_cluster, mode=mode, as_json=args.json, out=sys.stdout, params=params, context=context
    )
    return run_stoppable(closing(context, setup))


async def cmd_failover(args: argparse.Namespace) -> int:
    from services.failover.cli import run_failover

    inv = load_inventory(args.inventory)
    async with console_context(inv) as context:
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
