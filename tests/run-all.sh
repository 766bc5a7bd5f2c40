#!/usr/bin/env bash
# Install everything the test suite needs and run all of it (the README's second command; .ci/run calls it).
# - Debian packages for the real Pacemaker tier and the tmux test (only as root, only when missing)
# - a project virtualenv in .venv with the test extra
# - ruff and mypy over the product code
# - pytest over tests/ (the `pacemaker` tier must run, not skip, when CI=true)
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
exec .venv/bin/python -m pytest "$@"
