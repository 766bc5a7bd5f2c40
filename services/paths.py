"""Where db2ops keeps its files: XDG base directories under a "db2ops" sub-directory.

Every function reads the environment at call time (not at import), so tests and `db2ops locate` see the
current XDG_* variables. Nothing here creates directories; writers create what they need.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_DIR_NAME = "db2ops"


def _xdg(var: str, default: str) -> Path:
    # The XDG spec says a relative or empty value must be ignored.
    value = os.environ.get(var, "")
    base = Path(value) if value and os.path.isabs(value) else Path.home() / default
    return base / APP_DIR_NAME


def config_dir() -> Path:
    """Return $XDG_CONFIG_HOME/db2ops (default ~/.config/db2ops): inventory and settings."""
    return _xdg("XDG_CONFIG_HOME", ".config")


def data_dir() -> Path:
    """Return $XDG_DATA_HOME/db2ops (default ~/.local/share/db2ops): user themes and saved data."""
    return _xdg("XDG_DATA_HOME", ".local/share")


def state_dir() -> Path:
    """Return $XDG_STATE_HOME/db2ops (default ~/.local/state/db2ops): journal and lab files."""
    return _xdg("XDG_STATE_HOME", ".local/state")


def cache_dir() -> Path:
    """Return $XDG_CACHE_HOME/db2ops (default ~/.cache/db2ops): disposable caches."""
    return _xdg("XDG_CACHE_HOME", ".cache")


def default_inventory_path() -> Path:
    """Return the inventory used when `--inventory` is not given: config_dir()/inventory.yaml."""
    return config_dir() / "inventory.yaml"


def settings_path() -> Path:
    """Return the settings file: config_dir()/settings.yaml."""
    return config_dir() / "settings.yaml"


def themes_dir() -> Path:
    """Return the directory for user themes: data_dir()/themes."""
    return data_dir() / "themes"


def journal_dir() -> Path:
    """Return the operator journal directory: state_dir()/journal."""
    return state_dir() / "journal"


def lab_dir() -> Path:
    """Return the embedded lab's directory (keys, known_hosts, inventory): state_dir()/lab."""
    return state_dir() / "lab"


def lab_journal_dir(lab_base: Path | None = None) -> Path:
    """Return the operator journal directory of the lab whose files are in `lab_base` (default lab_dir()):
    lab_base/journal. Each lab run starts it empty; real clusters never write there."""
    return (lab_base if lab_base is not None else lab_dir()) / "journal"


LAB_MARKER = "db2ops-lab.json"  # written by the embedded lab in its directory: the clusters it runs


def write_lab_marker(lab_base: Path, clusters: list[str]) -> Path:
    """Write the marker saying `lab_base` is an embedded lab's directory running `clusters`; return it."""
    import json

    path = lab_base / LAB_MARKER
    path.write_text(json.dumps({"clusters": sorted(clusters)}), encoding="utf-8")
    return path


def lab_base_of(known_hosts: str | None, cluster: str) -> Path | None:
    """Return the embedded lab directory whose known_hosts is `known_hosts` when that lab runs `cluster`
    (its marker names it), else None. The inventory's `lab: true` is not trusted for this: a real cluster
    marked `lab: true` by mistake must keep its journal in the operator journal."""
    import json

    if not known_hosts:
        return None
    base = Path(known_hosts).parent
    try:
        names = json.loads((base / LAB_MARKER).read_text(encoding="utf-8")).get("clusters", [])
    except (OSError, ValueError, AttributeError):
        return None
    return base if isinstance(names, list) and cluster in names else None


def known_hosts_path() -> Path:
    """Return the user's OpenSSH known_hosts (~/.ssh/known_hosts), used unless a host overrides it."""
    return Path.home() / ".ssh" / "known_hosts"


def ssh_config_path() -> Path:
    """Return the user's OpenSSH client config (~/.ssh/config); it may not exist."""
    return Path.home() / ".ssh" / "config"


def locate_report(inventory_path: Path | None = None) -> dict[str, str]:
    """Return label -> path (with "(missing)" when absent) for `db2ops locate`.

    `inventory_path` is the `--inventory` argument; None means the default inventory path. For a lab's
    inventory (its directory holds the lab's journal) "lab" and "lab journal" name that lab's.
    """
    inventory = inventory_path if inventory_path is not None else default_inventory_path()
    # A lab's inventory sits in its lab directory next to the lab's journal: report that lab's journal.
    lab_base = (
        inventory.parent
        if (inventory.parent / "journal").is_dir() and inventory.parent != state_dir()
        else None
    )
    entries = {
        "inventory": inventory,
        "settings": settings_path(),
        "config dir": config_dir(),
        "data dir": data_dir(),
        "themes": themes_dir(),
        "state dir": state_dir(),
        "journal": journal_dir(),
        "lab": lab_base if lab_base is not None else lab_dir(),
        "lab journal": lab_journal_dir(lab_base),
        "cache dir": cache_dir(),
        "ssh known_hosts": known_hosts_path(),
        "ssh config": ssh_config_path(),
    }
    return {label: f"{path}" + ("" if path.exists() else " (missing)") for label, path in entries.items()}
