"""Root conftest: make tests/ importable so test modules can `from corpus import CORPUS`."""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
