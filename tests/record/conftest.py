import sys
from pathlib import Path

# the drill walk (tests/status/incident_harness.py) makes the recorded snapshots
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "status"))
