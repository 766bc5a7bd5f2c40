"""asyncssh, boto3 and moto stay off the path to the first frame (they load in a worker afterwards)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("asyncssh", "boto3", "botocore", "moto")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_importing_the_app_and_its_first_screens_loads_no_ssh_or_aws_library():
    modules = _modules_after(
        "import tui.app, tui.lab_cli, lab.session, screens.status, screens.fleet, screens.starting, screens.help, "
        "screens.host_key, screens.command_prompt"
    )
    assert "textual.app" in modules  # the probe really imported the console
    assert _heavy(modules) == []


def test_building_the_app_for_the_lab_loads_no_ssh_or_aws_library():
    modules = _modules_after(
        "from services.inventory.model import Inventory\n"
        "from services.settings import Settings\n"
        "from tui.app import Db2OpsApp\n"
        "app = Db2OpsApp(Inventory(), Settings(), lab=object())"
    )
    assert _heavy(modules) == []


def test_db2ops_lab_paints_its_first_frame_without_ssh_or_aws_libraries(tmp_path):
    """Run the real `db2ops lab` path on a pty; at the first frame, dump sys.modules and quit."""
    import os
    import pty

    dump = tmp_path / "modules.json"
    probe = (
        "import json, sys\n"
        "import tui.app as A\n"
        "def at_first_frame(self):\n"
        f"    open({str(dump)!r}, 'w').write(json.dumps(sorted(sys.modules)))\n"
        "    self.exit(0)\n"
        "A.Db2OpsApp._after_first_frame = at_first_frame\n"
        "from tui.cli import main\n"
        f"sys.exit(main(['lab', '--dir', {str(tmp_path / 'lab')!r}]))\n"
    )
    master, slave = pty.openpty()
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"), TERM="xterm-256color")
    proc = subprocess.Popen([sys.executable, "-c", probe], stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    while True:  # drain the terminal so the app never blocks on output
        try:
            if not os.read(master, 65536):
                break
        except OSError:
            break
    assert proc.wait(timeout=120) == 0
    os.close(master)
    modules = set(json.loads(dump.read_text()))
    assert "screens.starting" in modules  # the lab's placeholder screen was painted
    assert _heavy(modules) == []
