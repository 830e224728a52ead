"""The feed renderer: what a feed says, parsed back with icalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from core.feeds import DeadlineState, Feed, FeedDeadline, FeedMeeting, feed_etag, render_feed
from tests.zones import ASEAN_ZONES

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


def lines_of(body: bytes) -> list[str]:
    """The unfolded content lines."""
    return body.decode().replace("\r\n ", "").split("\r\n")[:-1]


def event_lines(body: bytes, uid: str) -> list[str]:
    lines = lines_of(body)
    start = lines.index(f"UID:{uid}") - 1
    return lines[start : lines.index("END:VEVENT", start) + 1]


def test_calendar_properties_and_no_method() -> None:
    body = render_feed(feed(meeting()))

    assert lines_of(body)[:8] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Focal//Focal feeds//EN",
        "CALSCALE:GREGORIAN",
        "NAME:AWGESC",
        "X-WR-CALNAME:AWGESC",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    assert not any(line.startswith("METHOD") for line in lines_of(body))


def test_refresh_and_alarm_come_from_the_feed() -> None:
    body = render_feed(
        Feed(
            name="n",
            language="en",
            stamp=STAMP,
            meetings=[],
            deadlines=[deadline()],
            refresh=timedelta(minutes=30),
            alarm_before=timedelta(hours=15),
        )
    )

    assert "REFRESH-INTERVAL;VALUE=DURATION:PT30M" in lines_of(body)
    assert "X-PUBLISHED-TTL:PT30M" in lines_of(body)
    assert "TRIGGER:-PT15H" in lines_of(body)


def test_a_timed_meeting_names_its_zone_and_the_zone_is_defined_once() -> None:
    body = render_feed(
        feed(
            meeting("b@focal", timezone="Asia/Yangon"),
            meeting(
                "a@focal",
                timezone="Asia/Yangon",
                start=datetime(2027, 3, 1, 9),
                end=datetime(2027, 3, 1, 10),
            ),
            meeting("c@focal", timezone="Asia/Bangkok", end=datetime(2028, 1, 2, 17)),
            meeting("d@focal", timezone="Asia/Manila", all_day=True),
        )
    )

    lines = lines_of(body)
    assert [line for line in lines if line.startswith("TZID:")] == [
        "TZID:Asia/Bangkok",
        "TZID:Asia/Yangon",
    ]  # sorted; none for a zone only all-day meetings use
    assert "DTSTART;TZID=Asia/Yangon:20261012T090000" in event_lines(body, "b@focal")
    assert "DTEND;TZID=Asia/Yangon:20261012T170000" in event_lines(body, "b@focal")
    yangon = lines[lines.index("TZID:Asia/Yangon") - 1 : lines.index("TZID:Asia/Yangon") + 8]
    assert yangon == [
        "BEGIN:VTIMEZONE",
        "TZID:Asia/Yangon",
        "BEGIN:STANDARD",
        "DTSTART:20260101T000000",  # the first year of its meetings: one clean rule
        "TZNAME:+0630",
        "TZOFFSETFROM:+0630",
        "TZOFFSETTO:+0630",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
    assert not any(line.startswith("COMMENT") for line in lines)
    start = events_of(body)["b@focal"].decoded("DTSTART")
    assert start.astimezone(UTC) == datetime(2026, 10, 12, 2, 30, tzinfo=UTC)


def test_an_all_day_meeting_ends_the_day_after_its_last_day() -> None:
    body = render_feed(
        feed(meeting(all_day=True, start=datetime(2026, 9, 1), end=datetime(2026, 9, 3)))
    )

    lines = event_lines(body, "m1@focal")
    assert "DTSTART;VALUE=DATE:20260901" in lines
    assert "DTEND;VALUE=DATE:20260904" in lines
    assert "BEGIN:VTIMEZONE" not in lines_of(body)


def test_statuses_and_the_cancelled_prefix_in_both_languages() -> None:
    events = (
        meeting("c@focal", cancelled=True, title="ASOEN-37"),
        meeting("t@focal", tentative=True),
        meeting("k@focal"),
    )

    english = events_of(render_feed(feed(*events)))
    vietnamese = events_of(render_feed(feed(*events, language="vi")))

    assert str(english["c@focal"]["SUMMARY"]) == "Cancelled: ASOEN-37"
    assert str(vietnamese["c@focal"]["SUMMARY"]) == "Đã hủy: ASOEN-37"
    assert str(english["c@focal"]["STATUS"]) == "CANCELLED"
    assert str(english["c@focal"]["TRANSP"]) == "TRANSPARENT"
    assert str(english["t@focal"]["STATUS"]) == "TENTATIVE"
    assert str(english["k@focal"]["STATUS"]) == "CONFIRMED"
    assert str(english["t@focal"]["SUMMARY"]) == "ASOEN-37"


@pytest.mark.parametrize(
    ("state", "english", "vietnamese", "alarm"),
    [
        (DeadlineState.DUE, "Due: Workplans", "Hạn nộp: Workplans", True),
        (DeadlineState.OVERDUE, "Overdue: Workplans", "Quá hạn: Workplans", True),
        (DeadlineState.SUBMITTED, "Submitted: Workplans", "Đã nộp: Workplans", False),
        (
            DeadlineState.NOT_APPLICABLE,
            "Not applicable: Workplans",
            "Không áp dụng: Workplans",
            False,
        ),
    ],
)
def test_a_deadline_title_says_its_state_and_only_owed_ones_alarm(
    state: DeadlineState, english: str, vietnamese: str, alarm: bool
) -> None:
    one = deadline(state=state)

    en = events_of(render_feed(feed(one)))["d1@focal"]
    vi = events_of(render_feed(feed(one, language="vi")))["d1@focal"]

    assert str(en["SUMMARY"]) == english
    assert str(vi["SUMMARY"]) == vietnamese
    assert str(en["TRANSP"]) == "TRANSPARENT"
    alarms = en.walk("VALARM")
    assert len(alarms) == int(alarm)
    if alarm:
        assert str(alarms[0]["ACTION"]) == "DISPLAY"
        assert str(alarms[0]["DESCRIPTION"]) == "Input due: Workplans"
        assert str(vi.walk("VALARM")[0]["DESCRIPTION"]) == "Sắp đến hạn nộp: Workplans"


def test_stamp_sequence_and_recurrence_id() -> None:
    body = render_feed(
        feed(
            meeting("r@focal", recurrence_id="20261012T020000Z", sequence=3),
            meeting(
                "r@focal",
                recurrence_id="20261019T020000Z",
                start=datetime(2026, 10, 19, 9),
                end=datetime(2026, 10, 19, 10),
            ),
            meeting("a@focal", recurrence_id="20260901", all_day=True),
        )
    )

    first = event_lines(body, "r@focal")
    assert first[1:6] == [
        "UID:r@focal",
        "RECURRENCE-ID:20261012T020000Z",
        "SEQUENCE:3",
        "DTSTAMP:20260501T030000Z",
        "LAST-MODIFIED:20260501T030000Z",
    ]
    assert "RECURRENCE-ID;VALUE=DATE:20260901" in event_lines(body, "a@focal")
    parsed = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert [e.decoded("RECURRENCE-ID") for e in parsed[1:]] == [
        datetime(2026, 10, 12, 2, 0, tzinfo=UTC),
        datetime(2026, 10, 19, 2, 0, tzinfo=UTC),
    ]


def test_a_change_of_time_or_state_shows_as_a_higher_sequence_and_a_new_etag() -> None:
    before = render_feed(feed(meeting(sequence=1), deadline(sequence=4)))
    after = render_feed(
        feed(
            meeting(sequence=2, start=datetime(2026, 10, 13, 9), end=datetime(2026, 10, 13, 17)),
            deadline(sequence=5, state=DeadlineState.SUBMITTED),
        )
    )

    assert int(events_of(before)["m1@focal"]["SEQUENCE"]) == 1
    assert int(events_of(after)["m1@focal"]["SEQUENCE"]) == 2
    assert int(events_of(after)["d1@focal"]["SEQUENCE"]) == 5
    assert feed_etag(before) != feed_etag(after)


def test_text_is_escaped_normalised_and_cleaned() -> None:
    decomposed = "Tie\u0302\u0301ng Vie\u0323\u0302t"
    body = render_feed(
        feed(
            meeting(
                title=f"{decomposed}; a, b\\c",
                venue="Hà Nội\r\nViệt Nam",
                description="one\x00two\x1bthree\ttab",
                url="https://example.org/a?b=1,2;c\r\n",
            )
        )
    )

    lines = event_lines(body, "m1@focal")
    assert "SUMMARY:Tiếng Việt\\; a\\, b\\\\c" in lines
    assert "LOCATION:Hà Nội\\nViệt Nam" in lines
    assert "DESCRIPTION:onetwothree\ttab" in lines
    assert "URL:https://example.org/a?b=1,2;c" in lines
    event = events_of(body)["m1@focal"]
    assert str(event["SUMMARY"]) == "Tiếng Việt; a, b\\c"
    assert str(event["LOCATION"]) == "Hà Nội\nViệt Nam"


def test_long_lines_fold_at_75_octets_between_characters() -> None:
    title = "Hội nghị Bộ trưởng Môi trường ASEAN 东盟环境部长会议 🌏🌱👩🏽‍💼 " * 6
    body = render_feed(feed(meeting(title=title)))

    physical = body.split(b"\r\n")[:-1]
    assert max(len(line) for line in physical) <= 75
    assert any(len(line) >= 72 for line in physical)
    for line in physical:
        line.decode()
    assert str(events_of(body)["m1@focal"]["SUMMARY"]) == title


def test_a_repeated_event_is_written_once_and_a_conflicting_one_refused() -> None:
    once = render_feed(feed(meeting(), deadline()))
    assert render_feed(feed(meeting(), meeting(), deadline())) == once

    with pytest.raises(ValueError, match="two different feed events have UID 'm1@focal'"):
        render_feed(feed(meeting(), meeting(sequence=1)))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (meeting(timezone="Asia/Saigon City"), "'Asia/Saigon City' is not an IANA time zone"),
        (meeting(end=datetime(2026, 10, 12, 8)), "meeting m1@focal ends before it starts"),
        (
            meeting(recurrence_id="2026-10-12"),
            "recurrence id '2026-10-12' is not YYYYMMDDTHHMMSSZ \\(UTC\\), the form for a timed",
        ),
        (
            meeting(recurrence_id="20261012T020000Z", all_day=True),
            "recurrence id '20261012T020000Z' is not YYYYMMDD, the form for an all-day meeting",
        ),
        (
            meeting(start=datetime(2026, 10, 12, 9, tzinfo=UTC)),
            "start and end must be local wall-clock times",
        ),
        (meeting(uid=""), "every feed event needs a UID"),
    ],
)
def test_bad_events_are_refused_with_one_clear_message(bad: FeedMeeting, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_feed(feed(bad))


def test_text_that_is_not_unicode_is_refused() -> None:
    with pytest.raises(ValueError, match=r"holds '\\udc80', which is not a Unicode character"):
        render_feed(feed(meeting(title="bad \udc80 byte")))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (deadline(due_date=datetime(2026, 8, 28, 17)), "due_date must be a date, not a datetime"),
        (deadline(state="late"), "'late' is not a deadline state"),
        (deadline(sequence=-1), "event d1@focal: SEQUENCE -1 is negative"),
    ],
)
def test_bad_deadlines_are_refused_with_one_clear_message(bad: FeedDeadline, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_feed(feed(bad))


def test_a_naive_stamp_and_a_bad_refresh_are_refused() -> None:
    naive = Feed("n", "en", datetime(2026, 5, 1), [meeting()], [])
    with pytest.raises(ValueError, match="has no time zone"):
        render_feed(naive)
    with pytest.raises(ValueError, match="refresh interval must be positive"):
        render_feed(Feed("n", "en", STAMP, [], [], refresh=timedelta(0)))
    with pytest.raises(ValueError, match="alarm must come before the due day"):
        render_feed(Feed("n", "en", STAMP, [], [], alarm_before=timedelta(hours=-1)))


def test_an_empty_feed_is_a_valid_calendar() -> None:
    body = render_feed(feed())

    calendar = icalendar.Calendar.from_ical(body)
    assert calendar.walk("VEVENT") == []
    assert lines_of(body)[-1] == "END:VCALENDAR"


def vtimezone_of(zone: str, first: int, last: int) -> list[str]:
    """The VTIMEZONE a feed with meetings in ``zone`` from ``first`` to ``last`` carries."""
    body = render_feed(
        feed(
            meeting(timezone=zone, start=datetime(first, 3, 1, 9), end=datetime(first, 3, 1, 10)),
            meeting("z@focal", timezone=zone, start=datetime(last, 6, 1), end=datetime(last, 6, 2)),
        )
    )
    lines = lines_of(body)
    return lines[lines.index("BEGIN:VTIMEZONE") : lines.index("END:VTIMEZONE") + 1]


@pytest.mark.parametrize("zone", [*ASEAN_ZONES, "UTC", "Etc/GMT-7"])
def test_a_steady_zone_has_the_vtimezone_icalendar_writes(zone: str) -> None:
    written = vtimezone_of(zone, 2026, 2028)

    reference = icalendar.Timezone.from_tzinfo(
        ZoneInfo(zone), tzid=zone, first_date=date(2026, 1, 1), last_date=date(2029, 12, 31)
    )
    expected = reference.to_ical().decode().replace("\r\n ", "").split("\r\n")[:-1]
    assert written == [line for line in expected if not line.startswith("COMMENT")]
    assert written.count("BEGIN:STANDARD") == 1


def test_a_zone_with_summer_time_has_one_observance_per_change_at_its_onset() -> None:
    assert vtimezone_of("Europe/Berlin", 2026, 2026) == [
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Berlin",
        *("BEGIN:STANDARD", "DTSTART:20260101T000000", "TZNAME:CET"),
        *("TZOFFSETFROM:+0100", "TZOFFSETTO:+0100", "END:STANDARD"),
        *("BEGIN:DAYLIGHT", "DTSTART:20260329T020000", "TZNAME:CEST"),  # 02:00 CET
        *("TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "END:DAYLIGHT"),
        *("BEGIN:STANDARD", "DTSTART:20261025T030000", "TZNAME:CET"),  # 03:00 CEST
        *("TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD"),
        *("BEGIN:DAYLIGHT", "DTSTART:20270328T020000", "TZNAME:CEST"),
        *("TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "END:DAYLIGHT"),
        *("BEGIN:STANDARD", "DTSTART:20271031T030000", "TZNAME:CET"),
        *("TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD"),
        "END:VTIMEZONE",
    ]


@pytest.mark.parametrize(
    ("zone", "first", "last", "changes"),
    [
        ("Asia/Dili", 1999, 2001, 1),  # +08 to +09 on 17 September 2000
        ("Australia/Sydney", 2026, 2026, 4),
        ("America/Sao_Paulo", 2018, 2020, 3),  # daylight saving time abolished in 2019
        ("America/New_York", 2026, 2030, 12),  # to the end of the year after the last
    ],
)
def test_every_onset_is_the_instant_the_offset_changes(
    zone: str, first: int, last: int, changes: int
) -> None:
    written = vtimezone_of(zone, first, last)

    assert not any(line.startswith(("RDATE", "RRULE")) for line in written)
    parsed = icalendar.Calendar.from_ical(
        "BEGIN:VCALENDAR\r\n" + "\r\n".join(written) + "\r\nEND:VCALENDAR\r\n"
    )
    onsets = []
    for observance in parsed.walk("VTIMEZONE")[0].subcomponents:
        before, after = observance.TZOFFSETFROM, observance.TZOFFSETTO
        onset = observance.DTSTART.replace(tzinfo=UTC) - before
        onsets.append(onset)
        if before == after:
            continue  # the offset the range starts with
        just_before = (onset - timedelta(seconds=1)).astimezone(ZoneInfo(zone))
        assert just_before.utcoffset() == before
        assert onset.astimezone(ZoneInfo(zone)).utcoffset() == after
    assert onsets == sorted(onsets)
    assert len(onsets) == changes + 1
