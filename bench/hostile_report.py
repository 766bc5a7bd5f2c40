"""Report: hostile-input fuzz of every parser, the filter-pattern compiler/evaluator, the inventory and
settings loaders and every command builder (HA, monitoring and failover plans' dry-run argvs).

Each target gets --cases hypothesis-generated inputs built by mutating the real samples in tests/corpus
(truncated, spliced, bytes flipped, `-o…` names, escape sequences, huge numbers; tests/hostile_targets.py).
A case fails when anything but the target's typed errors escapes (ParseError, FilterPatternError,
InventoryError, SettingsError, the params errors, UnsafeOperand), when a builder's dry run puts a `-o…`
value where its tool reads options, or when it takes more than --bound-ms of CPU time. Prints per target:
cases tried, typed errors, failures, slowest ms. Exit 1 if any case failed (the first failures of each
target are printed below the table).

    python bench/hostile_report.py [--cases 10000] [--bound-ms 2000] [--only NAME ...] [--seed N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(_REPO), str(_REPO / "tests")]  # the targets and the corpus helpers live in tests/

from hostile_targets import Figures, run_target, scratch_dir, targets  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=10_000, help="cases per target (default 10000)")
    parser.add_argument(
        "--bound-ms", type=float, default=2000.0, help="CPU ms allowed per case (default 2000)"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these targets")
    parser.add_argument("--seed", type=int, help="hypothesis seed, for a repeatable run")
    args = parser.parse_args(argv)

    with scratch_dir() as work:
        chosen = [t for t in targets(Path(work)) if not args.only or t.name in args.only]
        if not chosen:
            parser.error(f"no target named {', '.join(args.only or [])}")
        print(
            f"hostile input: {args.cases} cases per target, bound {args.bound_ms:g} ms CPU per case, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.1f}"
        )
        print(f"{'target':<16} {'cases':>7} {'typed':>7} {'failures':>8} {'slowest ms':>10} {'time s':>7}")
        results: list[Figures] = []
        for target in chosen:
            started = time.monotonic()
            figures = run_target(target, args.cases, args.bound_ms / 1000, seed=args.seed)
            results.append(figures)
            print(
                f"{figures.name:<16} {figures.cases:>7} {figures.typed_errors:>7} {figures.failure_count:>8} "
                f"{figures.slowest_s * 1000:>10.1f} {time.monotonic() - started:>7.1f}",
                flush=True,
            )
    total = sum(f.failure_count for f in results)
    print(
        f"{'total':<16} {sum(f.cases for f in results):>7} {sum(f.typed_errors for f in results):>7} {total:>8}"
    )
    for figures in results:
        if figures.failures:
            print(f"\n{figures.name}: {figures.failure_count} failure(s); the first {len(figures.failures)}:")
            print("\n".join(figures.failures))
    slowest = max(results, key=lambda f: f.slowest_s)
    print(f"\nslowest case: {slowest.name}, {slowest.slowest_s * 1000:.1f} ms: {slowest.slowest_input}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
