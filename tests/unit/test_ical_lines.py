"""Content lines: folding at 75 octets between characters, durations, escaping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.ical_lines import (
    escape_text,
    fold,
    format_date,
    format_duration,
    format_local,
    format_utc,
    join_lines,
)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=400))
def test_a_folded_line_has_short_pieces_and_unfolds_to_itself(line: str) -> None:
    folded = fold(line)

    pieces = folded.encode().split(b"\r\n")
    for index, piece in enumerate(pieces):
        assert len(piece) <= 75
        piece.decode()  # never split inside a character
        if index:
            assert piece.startswith(b" ")
            assert len(piece) > 1
    assert folded.replace("\r\n ", "") == line


def test_a_line_of_exactly_75_octets_is_not_folded() -> None:
    ascii_line = "S" * 75
    vietnamese = "ệ" * 25  # three octets each

    assert fold(ascii_line) == ascii_line
    assert fold(vietnamese) == vietnamese
    assert fold(ascii_line + "x") == ascii_line + "\r\n x"


def test_four_octet_characters_move_whole_to_the_next_line() -> None:
    folded = fold("A" * 73 + "🌏" + "B")

    assert folded == "A" * 73 + "\r\n 🌏B"


def test_join_lines_ends_every_line_with_crlf_and_has_no_bom() -> None:
    body = join_lines(["BEGIN:VCALENDAR", "END:VCALENDAR"])

    assert body == b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(hours=1), "PT1H"),
        (timedelta(minutes=30), "PT30M"),
        (timedelta(days=1), "P1D"),
        (-timedelta(days=1), "-P1D"),
        (-timedelta(hours=15), "-PT15H"),
        (-timedelta(days=1, hours=2, seconds=5), "-P1DT2H5S"),
        (timedelta(0), "PT0S"),
        (-timedelta(0), "PT0S"),
    ],
)
def test_durations(span: timedelta, text: str) -> None:
    assert format_duration(span) == text


def test_values() -> None:
    assert format_date(date(2026, 8, 28)) == "20260828"
    assert format_local(datetime(2026, 8, 28, 17, 5, 9)) == "20260828T170509"
    moment = datetime(2026, 8, 28, 17, 0, tzinfo=UTC) + timedelta(hours=7)
    assert format_utc(moment) == "20260829T000000Z"
    assert escape_text("a\\b;c,d\r\ne\rf\ng\x00") == "a\\\\b\\;c\\,d\\ne\\nf\\ng"
