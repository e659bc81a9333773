"""Settings from environment variables and an optional `.env` file, validated at start.

A missing or malformed setting is one clear line on stderr and exit code 2 (see `load_settings`),
never a traceback. The token is a `SecretStr`, so it does not show in reprs or logs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_path
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

APP_NAME = "jixiao"
SQLITE_FILE_NAME = "jixiao.sqlite3"
TELEGRAM_API = "https://api.telegram.org/bot"
TELEGRAM_FILES = "https://api.telegram.org/file/bot"

def default_data_dir() -> Path:
    """The user's data directory (platformdirs), as storage.db.default_data_dir; kept here so
    that reading the settings does not import the database layer."""
    return user_data_path(APP_NAME, appauthor=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    admin_telegram_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), alias="ADMIN_TELEGRAM_IDS"
    )
    telegram_api_base_url: str = Field(default=TELEGRAM_API, alias="TELEGRAM_API_BASE_URL")
    telegram_file_base_url: str = Field(default=TELEGRAM_FILES, alias="TELEGRAM_FILE_BASE_URL")
    # The user's data directory (platformdirs: ~/.local/share/jixiao on Linux), so `jixiao chat`
    # finds its data again from any working directory.
    data_dir: Path = Field(default_factory=lambda: default_data_dir(), alias="JIXIAO_DATA_DIR")
    timezone: str = Field(default="Asia/Shanghai", alias="JIXIAO_TIMEZONE")
    webhook_url: str | None = Field(default=None, alias="WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="WEBHOOK_SECRET_TOKEN")
    webhook_listen: str = Field(default="127.0.0.1", alias="WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, alias="WEBHOOK_PORT", ge=1, le=65535)

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            try:
                return frozenset(int(part) for part in parts if part)
            except ValueError:
                raise ValueError(
                    "must be comma-separated Telegram user ids, e.g. 12345,67890"
                ) from None
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value().strip()
            head, _, tail = raw.partition(":")
            if not head.isdigit() or len(tail) < 20:
                raise ValueError("is not a bot token (expected 123456:ABC… from @BotFather)")
            return SecretStr(raw)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. Asia/Shanghai") from None
        return value

    @field_validator("telegram_api_base_url", "telegram_file_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_dir(cls, value: object) -> object:
        if isinstance(value, str):
            # An empty JIXIAO_DATA_DIR= means "not set", not the working directory.
            return Path(value.strip()).expanduser() if value.strip() else default_data_dir()
        return value.expanduser() if isinstance(value, Path) else value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / SQLITE_FILE_NAME).resolve()}"


class SettingsError(Exception):
    pass


def load_settings(*, require_token: bool = False) -> Settings:
    """Settings or a SettingsError whose message is one line naming the variable."""
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        # Fields are validated by alias, so the place is already the variable's name.
        name = str(first["loc"][0]) if first["loc"] else "?"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
    if require_token and settings.telegram_bot_token is None:
        raise SettingsError("TELEGRAM_BOT_TOKEN: not set (get one from @BotFather)")
    return settings


def settings_or_exit(*, require_token: bool = False) -> Settings:
    try:
        return load_settings(require_token=require_token)
    except SettingsError as error:
        print(f"配置错误 / configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
