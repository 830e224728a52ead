"""Settings: FOCAL_ prefix, Slack's own names, secrets kept secret, bad values named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.settings import DEFAULT_DATABASE_URL, Settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    for name in (
        "FOCAL_DATABASE_URL",
        "FOCAL_TIMEZONE",
        "FOCAL_COUNTRY",
        "FOCAL_SOURCES",
        "FOCAL_REMINDER_HOUR",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_need_nothing() -> None:
    settings = Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.country == "VN"
    assert settings.reminder_hour == 9
    assert settings.slack_bot_token is None
    assert settings.sources == ()


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    (tmp_path / ".env").write_text(
        "FOCAL_COUNTRY=ph\nSLACK_SIGNING_SECRET=s3cret\n", encoding="utf-8"
    )
    monkeypatch.setenv("FOCAL_SOURCES", "calendar.yaml, roster.yaml,https://example.org/a.ics")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-123")
    monkeypatch.setenv("FOCAL_REMINDER_HOUR", "8")
    settings = Settings()
    assert settings.country == "PH"
    assert settings.sources == ("calendar.yaml", "roster.yaml", "https://example.org/a.ics")
    assert settings.reminder_hour == 8
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-123"
    assert settings.slack_signing_secret is not None
    assert "s3cret" not in repr(settings)
    assert "xoxb-123" not in repr(settings)


def test_an_empty_token_means_no_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    assert Settings().slack_bot_token is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FOCAL_TIMEZONE", "Asia/Hanoi", "unknown timezone 'Asia/Hanoi'"),
        ("FOCAL_COUNTRY", "XX", "no public-holiday calendar for country 'XX'"),
        ("FOCAL_REMINDER_HOUR", "24", "less than or equal to 23"),
        ("FOCAL_REMINDER_DAYS", "14,seven", "comma-separated list of whole days"),
        ("FOCAL_REMINDER_DAYS", "400", "within a year"),
        ("FOCAL_ESCALATE_AFTER_DAYS", "0", "greater than or equal to 1"),
    ],
)
def test_bad_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_the_reminder_policy_is_read_sorted_and_without_repeats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FOCAL_REMINDER_DAYS", " -2, 10,5, 0 ,5")
    assert Settings().reminder_days == (10, 5, 0, -2)
