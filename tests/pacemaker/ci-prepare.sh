#!/usr/bin/env bash
# Install the Debian packages the real-Pacemaker tier needs (pacemaker, corosync, qnetd/qdevice, crmsh,
# openssh-server, libxml2-utils...). Idempotent: about a second when everything is already installed.
# Needs root; .ci/run (tests/run-all.sh) calls it before pytest.
set -euo pipefail
exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/lab/data/pcmk-lab.sh" install
