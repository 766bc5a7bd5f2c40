"""XDG paths, `locate`, and the typed settings file (errors name file + line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services import paths
from services.settings import Settings, SettingsError, load_settings, save_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_paths_default_to_home_dot_dirs(home: Path) -> None:
    assert paths.config_dir() == home / ".config" / "db2ops"
    assert paths.data_dir() == home / ".local" / "share" / "db2ops"
    assert paths.state_dir() == home / ".local" / "state" / "db2ops"
    assert paths.cache_dir() == home / ".cache" / "db2ops"
    assert paths.default_inventory_path() == home / ".config" / "db2ops" / "inventory.yaml"
    assert paths.settings_path() == home / ".config" / "db2ops" / "settings.yaml"
    assert paths.journal_dir() == home / ".local" / "state" / "db2ops" / "journal"
    assert paths.lab_dir() == home / ".local" / "state" / "db2ops" / "lab"
    assert paths.known_hosts_path() == home / ".ssh" / "known_hosts"


def test_paths_follow_xdg_variables_and_ignore_relative_ones(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")  # the XDG spec says: ignore
    assert paths.config_dir() == home / "cfg" / "db2ops"
    assert paths.state_dir() == home / ".local" / "state" / "db2ops"


def test_locate_report_marks_missing_paths(home: Path) -> None:
    paths.config_dir().mkdir(parents=True)
    report = paths.locate_report(None)
    assert report["config dir"] == str(paths.config_dir())
    assert report["inventory"] == f"{paths.default_inventory_path()} (missing)"
    custom = home / "inv.yaml"
    custom.write_text("clusters: []\n")
    assert paths.locate_report(custom)["inventory"] == str(custom)


def test_missing_settings_file_gives_defaults(home: Path) -> None:
    settings = load_settings()
    assert settings == Settings()
    assert settings.theme == "db2ops-dark"
    assert settings.refresh_interval_s == 2.0
    assert settings.ssh_max_concurrency == 256


def test_deadlines_and_output_cap_are_typed_settings(tmp_path: Path) -> None:
    assert (Settings().status_deadline_s, Settings().command_deadline_s, Settings().ssh_max_output_mb) == (
        10.0,
        60.0,
        16.0,
    )
    path = tmp_path / "s.yaml"
    path.write_text("status_deadline_s: 4\ncommand_deadline_s: 30\nssh_max_output_mb: 0.5\n")
    loaded = load_settings(path)
    assert (loaded.status_deadline_s, loaded.command_deadline_s, loaded.ssh_max_output_mb) == (4.0, 30.0, 0.5)
    path.write_text("status_deadline_s: 0\n")
    with pytest.raises(SettingsError, match="'status_deadline_s' must be greater than 0"):
        load_settings(path)


def test_settings_round_trip_through_save(home: Path) -> None:
    wanted = Settings(theme="db2ops-light", refresh_interval_s=5, log_follow=False, keymap={"refresh": "f5"})
    written = save_settings(wanted)
    assert written == paths.settings_path()
    loaded = load_settings()
    assert loaded == wanted
    assert loaded.refresh_interval_s == 5.0 and isinstance(loaded.refresh_interval_s, float)
    assert "warnings" not in written.read_text()


def test_int_is_accepted_for_float_but_not_bool_for_int(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("ssh_connect_timeout_s: 3\n")
    assert load_settings(path).ssh_connect_timeout_s == 3.0
    path.write_text("theme: x\nssh_max_concurrency: true\n")
    with pytest.raises(SettingsError) as err:
        load_settings(path)
    assert err.value.line == 2
    assert str(err.value).startswith(f"{path} line 2: 'ssh_max_concurrency' must be a whole number")


def test_unknown_setting_is_a_warning_with_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("theme: nord\nrefresh_intervl_s: 3\n")
    settings = load_settings(path)
    assert settings.theme == "nord"
    assert settings.refresh_interval_s == 2.0
    assert settings.warnings == (
        f"{path} line 2: unknown setting 'refresh_intervl_s' ignored (did you mean 'refresh_interval_s'?)",
    )


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("theme: a\nlog_follow: 'yes please'\n", 2, "'log_follow' must be true or false"),
        ("refresh_interval_s: 0\n", 1, "must be greater than 0"),
        ("theme: [a, b]\n", 1, "expected a single value, found a list"),
        ("theme: 'unclosed\n", 2, "YAML syntax error"),
        ("- just\n- a list\n", 1, "must be a mapping"),
        ("theme: a\ntheme: b\n", 2, "appears twice"),
    ],
)
def test_bad_settings_name_file_and_line(tmp_path: Path, text: str, line: int, needle: str) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError) as err:
        load_settings(path)
    assert err.value.line == line
    assert needle in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("refresh_interval_s: -5\n", "use a number greater than 0 (the default is 2.0)"),
        ("ssh_max_concurrency: 0\n", "use a whole number greater than 0 (the default is 256)"),
        ("ssh_connect_timeout_s: abc\n", "use a number greater than 0 (the default is 5.0)"),
        ("theme: 5\n", "use text (the default is 'db2ops-dark')"),
    ],
)
def test_a_bad_value_says_which_values_work(tmp_path: Path, text: str, fix: str) -> None:
    # "'refresh_interval_s' must be greater than 0, not -5.0; use a number" did not say which number.
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError) as err:
        load_settings(path)
    assert str(err.value).endswith(fix)


def test_a_merge_key_bomb_in_settings_loads_at_once_or_is_refused(tmp_path: Path) -> None:
    import time

    level = "&a0 {quit: q}"
    for i in range(1, 21):  # each level merges the one below 9 times: 9^20 merges before memoising
        level = f"&a{i} {{<<: [{level}" + f", *a{i - 1}" * 8 + "]}"
    path = tmp_path / "settings.yaml"
    path.write_text(f"keymap: {level}\n")
    started = time.monotonic()
    assert load_settings(path).keymap == {"quit": "q"}
    assert time.monotonic() - started < 2
    fan = ", ".join(["*big"] * 199)
    keys = ", ".join(f"k{i}: x" for i in range(60))
    path.write_text(f"keymap: {{<<: [&big {{{keys}}}, {fan}]}}\n")
    with pytest.raises(SettingsError, match=r"line 1: merge keys `<<` in keymap bring in more than 10000"):
        load_settings(path)


@pytest.mark.parametrize("depth", [150, 5000])
def test_deeply_nested_yaml_is_a_settings_or_inventory_error_not_a_recursion_error(
    tmp_path: Path, depth: int
) -> None:
    """Found by bench/hostile_report.py: PyYAML's composer recursed into a RecursionError at ~150 levels."""
    from services.inventory.loader import InventoryError, load_inventory

    nested = "{x: " * depth + "1" + "}" * depth
    path = tmp_path / "settings.yaml"
    path.write_text(f"keymap: {nested}\n")
    with pytest.raises(SettingsError, match="nested too deeply"):
        load_settings(path)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(f"clusters: {nested}\n")
    with pytest.raises(InventoryError, match="nested too deeply"):
        load_inventory(inventory)
