"""The bot's answers: every refusal in both languages, durations, escaping, the modals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.views import View

from bots.slack.replies import (
    command_error_text,
    duration,
    help_text,
    receipt_text,
    refusal_text,
)
from bots.slack.views import Choice, not_applicable_modal, read_metadata, submit_modal
from core.commands import CommandError, parse_command
from core.commands import Problem as CommandProblem
from services.deadlines import Submittable
from services.submissions import Problem, Receipt

LANGUAGES = ("en", "vi")
NOW = datetime(2026, 8, 20, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("problem", list(CommandProblem))
def test_every_command_error_has_a_message_in_both_languages(
    problem: CommandProblem, language: str
) -> None:
    text = command_error_text(
        CommandError(problem, "submit", "40004"), language=language, cmd="/focal"
    )
    assert text
    assert "{" not in text
    assert "}" not in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("problem", list(Problem))
def test_every_refusal_has_a_message_in_both_languages(problem: Problem, language: str) -> None:
    text = refusal_text(problem, "minh / ASOEN37-X", code="ASOEN37-X", language=language, cmd="/f")
    assert text
    assert "{" not in text
    english = refusal_text(problem, "minh / ASOEN37-X", code="ASOEN37-X", language="en", cmd="/f")
    assert (text == english) is (language == "en")


def test_a_suggestion_is_translated() -> None:
    error = parse_command("deadlinez")
    assert isinstance(error, CommandError)
    assert command_error_text(error, language="vi", cmd="/focal").endswith(
        "— có phải bạn muốn gõ `/focal deadlines`? Gõ `/focal help` để xem danh sách."
    )


def test_what_people_typed_is_escaped() -> None:
    error = CommandError(CommandProblem.BAD_CODE, "submit", "<@U123>&<!here>")
    text = command_error_text(error, language="en", cmd="/focal")
    assert "&lt;@U123&gt;&amp;&lt;!here&gt;" in text
    assert "<!here>" not in text


@pytest.mark.parametrize(
    ("delta", "en", "vi"),
    [
        (timedelta(seconds=10), "1 minute", "1 phút"),
        (timedelta(hours=2, minutes=5), "2 hours 5 minutes", "2 giờ 5 phút"),
        (timedelta(days=1, hours=3, minutes=59), "1 day 3 hours", "1 ngày 3 giờ"),
        (timedelta(days=3, minutes=7), "3 days", "3 ngày"),
    ],
)
def test_durations_name_the_two_largest_units(delta: timedelta, en: str, vi: str) -> None:
    assert (duration(delta, "en"), duration(delta, "vi")) == (en, vi)


def test_a_receipt_says_the_version_and_how_late() -> None:
    due = NOW - timedelta(days=2, hours=3)
    receipt = Receipt(
        "ASOEN37-WORKPLANS",
        "minh",
        3,
        "hoa",
        on_behalf=True,
        submitted_at=NOW,
        due_at=due,
        late=True,
    )
    text = receipt_text(receipt, language="en", owner_name="Le Minh")
    assert text == (
        "Received *ASOEN37-WORKPLANS* v3 — 2 days 3 hours late. "
        "Recorded as Le Minh's input, submitted by you on their behalf."
    )
    assert "bản 3 — muộn 2 ngày 3 giờ" in receipt_text(receipt, language="vi", owner_name="x")


def test_help_names_every_subcommand() -> None:
    for language in LANGUAGES:
        text = help_text(language, cmd="/focal")
        for sub in ("deadlines", "submit", "status", "na", "calendar"):
            assert f"`/focal {sub}" in text


def item(n: int, *, owner: str = "minh", on_behalf: bool = False) -> Submittable:
    return Submittable(
        f"CODE-{n:03d}",
        "Kế hoạch công tác năm 2027 của Nhóm công tác ASEAN về các thành phố bền vững " * 2,
        {},
        NOW,
        owner,
        "Le Minh",
        on_behalf=on_behalf,
    )


def test_the_submit_modal_keeps_to_slacks_limits() -> None:
    items = [item(n) for n in range(150)] + [item(999, owner="aye", on_behalf=True)]
    view = submit_modal(
        items, language="vi", chosen=Choice("CODE-001", None), private_metadata="{}"
    )
    parsed = View(**view)
    parsed.validate_json()  # slack_sdk's checks: title, option counts and lengths...
    options = view["blocks"][0]["element"]["options"]
    assert len(options) == 100
    assert all(len(o["text"]["text"]) <= 75 for o in options)
    assert view["blocks"][0]["element"]["initial_option"]["value"] == "CODE-001"
    assert view["blocks"][1]["element"]["max_length"] == 3000


def test_the_not_applicable_modal_carries_the_code() -> None:
    view = not_applicable_modal("CODE-1", language="en", private_metadata='{"code":"CODE-1"}')
    assert read_metadata(view) == {"code": "CODE-1"}
    assert view["callback_id"] == "focal_not_applicable_view"


@given(st.text(max_size=50), st.text(max_size=20))
def test_a_choice_survives_its_option_value(code: str, owner: str) -> None:
    code = code.replace("|", "")
    choice = Choice(code, owner.replace("|", "") or None)
    assert Choice.parse(choice.value) == choice
