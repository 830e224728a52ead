"""The ``/focal`` command text parser: examples, and any text at all (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.commands import (
    MAX_TEXT,
    Calendar,
    CommandError,
    Help,
    ListDeadlines,
    NotApplicable,
    Problem,
    Status,
    Submit,
    parse_command,
)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("", Help()),
        ("  help ", Help()),
        ("HELP", Help()),
        ("deadlines", ListDeadlines()),
        ("submit", Submit()),
        ("submit ASOEN37-WORKPLANS", Submit("ASOEN37-WORKPLANS")),
        (
            "submit ASOEN37-WORKPLANS Kế hoạch 2027 🌏\nline two",
            Submit("ASOEN37-WORKPLANS", "Kế hoạch 2027 🌏\nline two"),
        ),
        ("status SUMMIT49-INPUTS", Status("SUMMIT49-INPUTS")),
        ("na AMME19-BRIEF not our sector", NotApplicable("AMME19-BRIEF", "not our sector")),
        ("calendar", Calendar()),
        ("calendar reset", Calendar(reset=True)),
        ("calendar RESET", Calendar(reset=True)),
        ("submit\u00a0X-1\u00a0text", Submit("X-1", "text")),
    ],
)
def test_each_subcommand(text: str, parsed: object) -> None:
    assert parse_command(text) == parsed


@pytest.mark.parametrize(
    ("text", "problem", "detail"),
    [
        ("sbumit X", Problem.UNKNOWN_SUBCOMMAND, "sbumit (did you mean submit?)"),
        ("status", Problem.MISSING_CODE, ""),
        ("na X-1", Problem.MISSING_REASON, "X-1"),
        ("na", Problem.MISSING_CODE, ""),
        ("status <script>", Problem.BAD_CODE, "<script>"),
        ("deadlines please", Problem.UNEXPECTED, "please"),
        ("calendar now", Problem.UNEXPECTED, "now"),
    ],
)
def test_each_mistake_is_named(text: str, problem: Problem, detail: str) -> None:
    error = parse_command(text)
    assert isinstance(error, CommandError)
    assert (error.problem, error.detail) == (problem, detail)


def test_text_up_to_the_limit_is_kept_whole() -> None:
    body = "ý" * MAX_TEXT
    assert parse_command(f"submit X-1 {body}") == Submit("X-1", body)
    too_long = parse_command(f"submit X-1 {body}x")
    assert isinstance(too_long, CommandError)
    assert too_long.problem is Problem.TEXT_TOO_LONG


def test_decomposed_vietnamese_is_normalised() -> None:
    decomposed = "Ke\u0302\u0301 hoa\u0323ch"  # "Kế hoạch" typed with combining marks
    assert parse_command(f"submit X-1 {decomposed}") == Submit("X-1", "Kế hoạch")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_command_or_a_clear_error(text: str) -> None:
    parsed = parse_command(text)
    assert isinstance(
        parsed, Help | ListDeadlines | Submit | Status | NotApplicable | Calendar | CommandError
    )
    if isinstance(parsed, CommandError):
        assert len(parsed.detail) <= 200


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["submit", "status", "na", "calendar", "deadlines", "help"]),
    st.text(max_size=200),
)
def test_any_arguments_to_a_known_subcommand(name: str, rest: str) -> None:
    parsed = parse_command(f"{name} {rest}")
    assert not (isinstance(parsed, CommandError) and parsed.problem is Problem.UNKNOWN_SUBCOMMAND)
