"""Argument types shared by `db2ops lab` and `python -m lab`: argparse only, so `db2ops --help` stays light."""

from __future__ import annotations

import argparse

# The lab's own bound (lab.runtime checks it again); kept here so the CLI can say so without asyncssh.
MAX_CLUSTERS = 200


def db2_release(text: str) -> str:
    """argparse type of `--db2`: a Db2 release the lab models (lab/release.py), e.g. 11.5.9 or 12.1."""
    from lab.release import release

    try:
        return release(text).db2
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cluster_count(text: str) -> int:
    """argparse type of `--clusters`: a whole number from 1 to MAX_CLUSTERS.

    Raises argparse.ArgumentTypeError (argparse prints it with the usage and exits 2) otherwise, so
    `--clusters 0` is refused before anything starts instead of running a lab with no cluster.
    """
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number: give how many lab clusters to run (1 to {MAX_CLUSTERS})"
        ) from None
    if not 1 <= count <= MAX_CLUSTERS:
        raise argparse.ArgumentTypeError(f"the lab runs 1 to {MAX_CLUSTERS} clusters, not {count}")
    return count
