"""The recording's settings: on by default, a week and 900 MB kept, clusters switched off by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.record.recorder import recorder_from_settings
from services.settings import Settings, SettingsError, load_settings, save_settings


def test_defaults_record_a_week() -> None:
    s = Settings()
    assert s.record and s.record_retention_days == 7.0 and s.record_max_mb == 900.0 and s.record_off == ()


def test_clusters_switched_off_by_name(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("record_off: [prod1, secret]\nrecord_retention_days: 2\n")
    settings = load_settings(path)
    assert settings.record_off == ("prod1", "secret") and settings.record_retention_days == 2.0
    recorder = recorder_from_settings(settings, tmp_path / "r.sqlite")
    assert not recorder.enabled("prod1") and recorder.enabled("lab1")
    assert recorder.retention_days == 2.0 and recorder.max_mb == 900.0
    assert load_settings(save_settings(settings, tmp_path / "again.yaml")) == settings
    off = recorder_from_settings(Settings(record=False), tmp_path / "r.sqlite")
    assert not off.enabled("lab1")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("record_off: prod1\n", "'record_off' must be a list of names"),
        ("record_off: [1, 2]\n", "'record_off' must be a list of names"),
        ("record_max_mb: 0\n", "'record_max_mb' must be greater than 0"),
        ("record: maybe\n", "'record' must be true or false"),
    ],
)
def test_bad_values_say_what_to_write(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=needle):
        load_settings(path)
