"""Root conftest: make tests/ importable so test modules can `from corpus import CORPUS`, and keep every
test (and every process it starts) off the network's AWS parts."""

import os
import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

# A real-AWS client (no endpoint) resolves credentials when it is built; botocore's chain would then ask
# the EC2 instance metadata service at 169.254.169.254, an address no test may contact. Subprocesses
# (the `db2ops` CLI under test) inherit this.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
