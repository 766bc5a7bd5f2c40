"""`python -m lab [--clusters N] [--latency MS] [--failover-delay S] [--no-aws] [--dir PATH]`: run only the lab.

The same as `db2ops lab --serve`: prints the inventory path first, runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from services.quiet_warnings import quiet_dependency_warnings

quiet_dependency_warnings()  # this module is the program: before lab.runtime imports asyncssh

from lab.arguments import cluster_count, db2_release  # noqa: E402
from lab.release import releases_help  # noqa: E402
from lab.runtime import LabRuntime, serve_forever  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start the lab and serve until SIGINT/SIGTERM. Returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m lab", description="Run the db2ops embedded lab headless."
    )
    parser.add_argument(
        "--clusters",
        type=cluster_count,
        default=1,
        metavar="N",
        help="simulated clusters, 1 to 200 (default 1)",
    )
    parser.add_argument("--latency", type=int, default=0, metavar="MS", help="added delay per command")
    parser.add_argument("--failover-delay", type=float, default=2.0, metavar="S", help="seconds to promote")
    parser.add_argument("--no-aws", action="store_true", help="do not start moto (no overlay route, no logs)")
    parser.add_argument("--dir", type=Path, default=None, help="where to write keys and the inventory")
    parser.add_argument(
        "--db2", type=db2_release, default=None, metavar="RELEASE", help=f"Db2 release ({releases_help()})"
    )
    args = parser.parse_args(argv)

    async def run() -> None:
        runtime = LabRuntime()
        await runtime.start(
            args.clusters,
            base_dir=args.dir,
            failover_delay_s=args.failover_delay,
            latency_ms=args.latency,
            with_aws=not args.no_aws,
            db2=args.db2,
        )
        await serve_forever(runtime)

    try:
        asyncio.run(run())
    except (ValueError, RuntimeError) as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
