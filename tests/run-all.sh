#!/usr/bin/env bash
# Install everything the test suite needs and run all of it (the README's second command; .ci/run calls it).
# - Debian packages for the real Pacemaker tier and the tmux test (only as root, only when missing)
# - a project virtualenv in .venv with the test extra
# - ruff and mypy over the product code (mypy: strict on services/ and lab/, [tool.mypy] in pyproject.toml)
# - pytest over tests/ in two runs:
#   1. everything except the `pacemaker` and `tmux` tiers, on two cores (pytest-xdist, whole files per
#      worker so each file's tests keep their order and share one process as in a serial run);
#   2. the `pacemaker` and `tmux` tiers alone, one test at a time: the Pacemaker lab builds network
#      namespaces and a bridge with fixed names and measures how long the cluster takes to converge, the
#      tmux test reads a real terminal against the clock; neither may share the machine with the other or
#      with a busy second worker. The `pacemaker` tier must run, not skip, when CI=true (its conftest).
# Arguments go to both runs (e.g. `-x`, `-k takeover`, `tests/parsers`); a run that selects nothing is
# not an error unless neither selects anything. With `-m` the marker expression is yours: one run, as given.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  bash tests/pacemaker/ci-prepare.sh
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'

export PATH="$PWD/.venv/bin:$PATH"
.venv/bin/ruff check .
# Types: strict on services/ and lab/, the default checks on tui/ and screens/ ([tool.mypy] in pyproject.toml).
.venv/bin/mypy

pytest=(.venv/bin/python -m pytest)
stop_early=false
for arg in "$@"; do
  case $arg in
    -m | -m?* | --markexpr | --markexpr=*) exec "${pytest[@]}" "$@" ;;
    -x | --exitfirst | --maxfail | --maxfail=*) stop_early=true ;;
  esac
done

NO_TESTS=5 # pytest's exit status when the selection is empty
parallel=0
"${pytest[@]}" -n 2 --dist loadfile -m "not pacemaker and not tmux" "$@" || parallel=$?
case $parallel in
  0 | "$NO_TESTS") ;;
  1) # failures: still run the serial tiers (CI reports everything), unless told to stop at the first
    if $stop_early; then exit 1; fi ;;
  *) exit "$parallel" ;; # interrupted, internal or usage error: the second run would fare no better
esac

serial=0
# `-n 0` last: one at a time even when the arguments ask for workers
"${pytest[@]}" -m "pacemaker or tmux" "$@" -n 0 || serial=$?
if [ "$parallel" = "$NO_TESTS" ] && [ "$serial" = "$NO_TESTS" ]; then
  exit "$NO_TESTS"
fi
for status in "$parallel" "$serial"; do
  if [ "$status" != 0 ] && [ "$status" != "$NO_TESTS" ]; then
    exit "$status"
  fi
done
