"""Settings from the environment and a ``.env`` file (prefix ``FOCAL_``; Slack's own names)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.source import is_timezone
from core.workdays import is_supported_country

DEFAULT_DATABASE_URL = "sqlite:///var/focal.sqlite"
SLACK_API_URL = "https://slack.com/api/"


class Settings(BaseSettings):
    """Every setting Focal reads. ``.env.example`` lists them with a comment each."""

    model_config = SettingsConfigDict(
        env_prefix="FOCAL_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    database_url: str = DEFAULT_DATABASE_URL
    public_url: str = "http://127.0.0.1:8000"
    timezone: str = "Asia/Ho_Chi_Minh"
    country: str = "VN"
    reminder_hour: int = Field(default=9, ge=0, le=23)
    reminder_days: Annotated[tuple[int, ...], NoDecode] = (14, 7, 3, 1, 0, -1, -3)
    escalate_after_days: int = Field(default=3, ge=1, le=60)
    digest_window_days: int = Field(default=14, ge=1, le=90)
    send_concurrency: int = Field(default=8, ge=1, le=64)
    slack_api_url: str = SLACK_API_URL
    slack_command: str = "/focal"
    digest_channel: str | None = None
    sources: Annotated[tuple[str, ...], NoDecode] = ()

    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if not is_timezone(value):
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name such as Asia/Ho_Chi_Minh"
            )
        return value

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        value = value.upper()
        if not is_supported_country(value):
            raise ValueError(f"no public-holiday calendar for country {value!r}")
        return value

    @field_validator("sources", mode="before")
    @classmethod
    def _split_sources(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
            except ValueError:
                raise ValueError(
                    "a comma-separated list of whole days relative to the due date, "
                    "e.g. 14,7,3,1,0,-1,-3"
                ) from None
        return value

    @field_validator("reminder_days")
    @classmethod
    def _sensible_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("at least one day, e.g. 0 for the due date itself")
        if any(abs(day) > 365 for day in value):  # noqa: PLR2004
            raise ValueError("days are within a year of the due date")
        return tuple(sorted(set(value), reverse=True))

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value
