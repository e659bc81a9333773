"""A settings mistake is one line naming the environment variable to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [("WEBHOOK_PORT", "0"), ("ADMIN_TELEGRAM_IDS", "张三"), ("JIXIAO_TIMEZONE", "Mars/Olympus")],
)
def test_a_bad_value_names_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"{variable}: ")
    assert "\n" not in str(caught.value)
