"""The feed renderer: what a feed says, parsed back with icalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from core.feeds import DeadlineState, Feed, FeedDeadline, FeedMeeting, feed_etag, render_feed

STAMP = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)


def meeting(uid: str = "m1@focal", **changes: object) -> FeedMeeting:
    values: dict[str, object] = {
        "uid": uid,
        "recurrence_id": "",
        "title": "ASOEN-37",
        "start": datetime(2026, 10, 12, 9, 0),
        "end": datetime(2026, 10, 12, 17, 0),
        "timezone": "Asia/Ho_Chi_Minh",
        "all_day": False,
        "cancelled": False,
        "tentative": False,
        "sequence": 0,
    }
    values.update(changes)
    return FeedMeeting(**values)  # type: ignore[arg-type]


def deadline(uid: str = "d1@focal", **changes: object) -> FeedDeadline:
    values: dict[str, object] = {
        "uid": uid,
        "title": "Workplans",
        "due_date": date(2026, 8, 28),
        "state": DeadlineState.DUE,
        "sequence": 0,
    }
    values.update(changes)
    return FeedDeadline(**values)  # type: ignore[arg-type]


def feed(*events: FeedMeeting | FeedDeadline, language: str = "en") -> Feed:
    return Feed(
        name="AWGESC",
        language=language,
        stamp=STAMP,
        meetings=[e for e in events if isinstance(e, FeedMeeting)],
        deadlines=[e for e in events if isinstance(e, FeedDeadline)],
    )


def events_of(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_a_meeting_and_a_deadline_parse_back() -> None:
    body = render_feed(feed(meeting(), deadline()))

    events = events_of(body)
    start = events["m1@focal"].decoded("DTSTART")
    assert start == datetime(2026, 10, 12, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert start.astimezone(UTC) == datetime(2026, 10, 12, 2, 0, tzinfo=UTC)
    assert str(events["m1@focal"]["STATUS"]) == "CONFIRMED"
    due = events["d1@focal"]
    assert due.decoded("DTSTART") == date(2026, 8, 28)
    assert due.decoded("DTEND") == date(2026, 8, 29)
    assert str(due["SUMMARY"]) == "Due: Workplans"
    assert [a["TRIGGER"].dt for a in due.walk("VALARM")] == [-timedelta(days=1)]
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert b"METHOD" not in body


def test_same_data_same_bytes_and_etag() -> None:
    one = render_feed(feed(meeting(), deadline()))
    two = render_feed(feed(deadline(), meeting()))

    assert one == two
    assert feed_etag(one) == feed_etag(two)
    assert feed_etag(one).startswith('"')
    assert feed_etag(one).endswith('"')


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language 'fr'"):
        render_feed(feed(meeting(), language="fr"))
