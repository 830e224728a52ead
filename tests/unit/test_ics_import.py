"""Reading other calendars (pure): recurrences, moved and cancelled instances, timezones,
small faults survived with a warning, and files refused with the line and the problem."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from hypothesis import given, settings
from hypothesis import strategies as st

from core.deadlines import to_utc
from core.ics_import import (
    CalendarRefusedError,
    ImportWindow,
    import_code,
    read_calendar,
)
from core.model import MeetingStatus

HANOI = "Asia/Ho_Chi_Minh"
WINDOW = ImportWindow(date(2026, 1, 1), date(2026, 12, 31))


def ics(*lines: str, eol: str = "\r\n") -> bytes:
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *lines, "END:VCALENDAR"]
    return (eol.join(body) + eol).encode()


def read(data: bytes, window: ImportWindow = WINDOW, zone: str = HANOI):
    return read_calendar(data, window=window, default_timezone=zone)


def refusal(data: bytes) -> str:
    with pytest.raises(CalendarRefusedError) as caught:
        read(data)
    return str(caught.value)


WEEKLY = (
    "BEGIN:VEVENT",
    "UID:awgesc-weekly@example.org",
    "SUMMARY:AWGESC coordination call",
    "DTSTART;TZID=Asia/Jakarta:20260105T140000",
    "DTEND;TZID=Asia/Jakarta:20260105T150000",
    "RRULE:FREQ=WEEKLY;COUNT=4",
    "LOCATION:Online",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:awgesc-weekly@example.org",
    "RECURRENCE-ID;TZID=Asia/Jakarta:20260112T140000",
    "SUMMARY:AWGESC coordination call (moved)",
    "DTSTART;TZID=Asia/Jakarta:20260113T160000",
    "DTEND;TZID=Asia/Jakarta:20260113T170000",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:awgesc-weekly@example.org",
    "RECURRENCE-ID;TZID=Asia/Jakarta:20260119T140000",
    "STATUS:CANCELLED",
    "SUMMARY:AWGESC coordination call",
    "DTSTART;TZID=Asia/Jakarta:20260119T140000",
    "DTEND;TZID=Asia/Jakarta:20260119T150000",
    "END:VEVENT",
)


def test_a_weekly_series_gives_one_meeting_per_instance_moved_and_cancelled_honoured() -> None:
    contents = read(ics(*WEEKLY))
    assert contents.warnings == ()
    by_rid = {e.recurrence_id: e for e in contents.events}
    # RECURRENCE-ID: the original start in UTC (14:00 in Jakarta is 07:00Z)
    assert sorted(by_rid) == [
        "20260105T070000Z",
        "20260112T070000Z",
        "20260119T070000Z",
        "20260126T070000Z",
    ]
    moved = by_rid["20260112T070000Z"]
    assert (moved.start, moved.end) == (datetime(2026, 1, 13, 16), datetime(2026, 1, 13, 17))
    assert moved.title == "AWGESC coordination call (moved)"
    assert moved.timezone == "Asia/Jakarta"
    assert by_rid["20260119T070000Z"].status is MeetingStatus.CANCELLED
    assert by_rid["20260105T070000Z"].status is MeetingStatus.CONFIRMED
    assert by_rid["20260105T070000Z"].venue == "Online"
    assert {e.uid for e in contents.events} == {"awgesc-weekly@example.org"}


def test_lf_and_crlf_give_the_same_meetings_lf_with_a_warning() -> None:
    crlf, lf = read(ics(*WEEKLY)), read(ics(*WEEKLY, eol="\n"))
    assert crlf.events == lf.events
    assert lf.warnings == ("lines end with LF instead of CRLF (accepted)",)


def test_a_single_event_has_an_empty_recurrence_id_and_tentative_is_kept() -> None:
    contents = read(
        ics(
            "BEGIN:VEVENT",
            "UID:amme-18@asean.org",
            "SUMMARY:18th AMME",
            "STATUS:TENTATIVE",
            "DTSTART:20261020T010000Z",
            "DTEND:20261021T090000Z",
            "END:VEVENT",
        )
    )
    (event,) = contents.events
    assert event.recurrence_id == ""
    assert event.status is MeetingStatus.TENTATIVE
    assert (event.timezone, event.start, event.end) == (
        "UTC",
        datetime(2026, 10, 20, 1),
        datetime(2026, 10, 21, 9),
    )


def test_all_day_events_end_on_their_last_day_and_recur_by_date() -> None:
    contents = read(
        ics(
            "X-WR-TIMEZONE:Asia/Manila",
            "BEGIN:VEVENT",
            "UID:asoen-retreat@example.org",
            "SUMMARY:ASOEN retreat",
            "DTSTART;VALUE=DATE:20260922",
            "DTEND;VALUE=DATE:20260925",
            "RRULE:FREQ=YEARLY;COUNT=2",
            "END:VEVENT",
        ),
        window=ImportWindow(date(2026, 1, 1), date(2027, 12, 31)),
    )
    first, second = contents.events
    assert first.all_day
    assert (first.start, first.end) == (datetime(2026, 9, 22), datetime(2026, 9, 24))
    assert first.timezone == "Asia/Manila"
    assert (first.recurrence_id, second.recurrence_id) == ("20260922", "20270922")


def test_google_x_wr_timezone_turns_utc_times_into_the_calendars_zone() -> None:
    contents = read(
        ics(
            "X-WR-TIMEZONE:Asia/Manila",
            "BEGIN:VEVENT",
            "UID:g1@google.com",
            "SUMMARY:Call",
            "DTSTART:20260302T010000Z",
            "DTEND:20260302T020000Z",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:g2@google.com",
            "SUMMARY:Floating",
            "DTSTART:20260303T090000",
            "END:VEVENT",
        )
    )
    utc, floating = contents.events
    assert (utc.timezone, utc.start) == ("Asia/Manila", datetime(2026, 3, 2, 9))
    assert (floating.timezone, floating.start) == ("Asia/Manila", datetime(2026, 3, 3, 9))
    assert contents.warnings == ()


def test_floating_times_without_x_wr_timezone_are_read_in_the_office_zone_with_a_warning() -> None:
    contents = read(
        ics("BEGIN:VEVENT", "UID:f@x", "SUMMARY:F", "DTSTART:20260303T090000", "END:VEVENT")
    )
    (event,) = contents.events
    assert (event.timezone, event.start) == (HANOI, datetime(2026, 3, 3, 9))
    assert contents.warnings == (f"times without a timezone are read as {HANOI} times",)


OUTLOOK_ZONE = (
    "BEGIN:VTIMEZONE",
    "TZID:{name}",
    "BEGIN:STANDARD",
    "DTSTART:16010101T000000",
    "TZOFFSETFROM:{offset}",
    "TZOFFSETTO:{offset}",
    "END:STANDARD",
    "END:VTIMEZONE",
)


def outlook(name: str, offset: str) -> list[str]:
    return [line.format(name=name, offset=offset) for line in OUTLOOK_ZONE]


def event_in(tzid: str) -> list[str]:
    return [
        "BEGIN:VEVENT",
        "UID:o@x",
        "SUMMARY:O",
        f'DTSTART;TZID="{tzid}":20260303T090000',
        f'DTEND;TZID="{tzid}":20260303T100000',
        "END:VEVENT",
    ]


def test_a_windows_tzid_is_mapped_to_its_iana_zone() -> None:
    contents = read(
        ics(*outlook("SE Asia Standard Time", "+0700"), *event_in("SE Asia Standard Time"))
    )
    (event,) = contents.events
    assert (event.timezone, event.start) == ("Asia/Bangkok", datetime(2026, 3, 3, 9))
    assert contents.warnings == ()


def test_a_zone_known_only_by_its_vtimezone_is_converted_to_utc_with_a_warning() -> None:
    contents = read(ics(*outlook("(UTC+07:00) Office", "+0700"), *event_in("(UTC+07:00) Office")))
    (event,) = contents.events
    assert (event.timezone, event.start, event.end) == (
        "UTC",
        datetime(2026, 3, 3, 2),
        datetime(2026, 3, 3, 3),
    )
    assert "is not an IANA timezone" in contents.warnings[0]


def test_an_unknown_tzid_without_vtimezone_is_read_in_the_office_zone_with_a_warning() -> None:
    contents = read(ics(*event_in("Somewhere Time")))
    (event,) = contents.events
    assert (event.timezone, event.start) == (HANOI, datetime(2026, 3, 3, 9))
    assert (
        "'Somewhere Time' is neither an IANA name nor defined in the file" in contents.warnings[0]
    )


def test_small_faults_are_survived_with_warnings() -> None:
    data = b"\xef\xbb\xbf" + ics(
        "X-UNKNOWN-TO-ALL:fine",
        "TIMEZONE-ID:Asia/Ho_Chi_Minh",
        "",
        "BEGIN:VEVENT",
        "UID:w@x",
        "SUMMARY:W",
        "DTSTART:20260303T090000Z",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:no-start@x",
        "SUMMARY:No start",
        "END:VEVENT",
    )
    contents = read(data)
    assert [e.uid for e in contents.events] == ["w@x"]
    assert contents.warnings == (
        "a byte-order mark before BEGIN:VCALENDAR (ignored)",
        "blank line at line 6 (ignored)",
        "line 5: unknown property 'TIMEZONE-ID' (ignored)",
        "an event without DTSTART was skipped (UID no-start@x, 'No start')",
    )


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ("BEGIN:VEVENT", "UID:a", "DTSTART;;VALUE=DATE-TIME:20260303T090000", "END:VEVENT"),
            "line 6: cannot read DTSTART;;VALUE=DATE-TIME:20260303T090000",
        ),
        (
            ("BEGIN:VEVENT", "UID:a", "DTSTART:20260230T090000Z", "END:VEVENT"),
            "line 6: cannot read DTSTART:20260230T090000Z: Wrong datetime format",
        ),
        (
            (
                "BEGIN:VEVENT",
                "UID:a",
                "DTSTART:20260203T090000Z",
                "RRULE:FREQ=SOMETIMES",
                "END:VEVENT",
            ),
            "line 7: cannot read RRULE:FREQ=SOMETIMES",
        ),
        (
            (
                "BEGIN:VEVENT",
                "UID:a",
                "DTSTART:20260203T090000Z",
                "RRULE:FREQ=MINUTELY",
                "END:VEVENT",
            ),
            "line 7: RRULE FREQ=MINUTELY: a meeting does not repeat every second or minute",
        ),
        (
            ("BEGIN:VEVENT", "UID:a", "DTSTART:20260203T090000Z"),
            "line 7: END:VCALENDAR where BEGIN:VEVENT of line 4 should end",
        ),
        (
            ("BEGIN:VEVENT", "UID:a", "DTSTART:20260203T090000Z", "END:VTODO"),
            "line 7: END:VTODO where BEGIN:VEVENT of line 4 should end",
        ),
        (
            (
                "BEGIN:VEVENT",
                "UID:a",
                "DTSTART:20260203T090000Z",
                "DTSTART:20260204T090000Z",
                "END:VEVENT",
            ),
            "an event (UID a) has DTSTART more than once",
        ),
    ],
)
def test_unreadable_content_is_refused_naming_the_line(
    lines: tuple[str, ...], expected: str
) -> None:
    assert expected in refusal(ics(*lines))


def test_not_a_calendar_lone_cr_and_other_encodings_are_refused() -> None:
    assert "not an iCalendar calendar" in refusal(b"BEGIN:VEVENT\r\nEND:VEVENT\r\n")
    assert refusal(b"") == "the file is empty"
    assert refusal(ics("COMMENT:a\rb")) == "line 4: a lone carriage return (CR without LF)"
    assert refusal(ics("COMMENT:caf\xe9").replace(b"\xc3\xa9", b"\xe9")).startswith(
        "line 4: not UTF-8"
    )


def test_too_many_meetings_in_the_window_is_refused() -> None:
    data = ics(
        "BEGIN:VEVENT", "UID:h@x", "DTSTART:20260101T000000Z", "RRULE:FREQ=HOURLY", "END:VEVENT"
    )
    with pytest.raises(CalendarRefusedError, match="more than 100 meetings"):
        read_calendar(data, window=WINDOW, default_timezone=HANOI, limit=100)


def test_import_codes_are_stable_short_and_distinct() -> None:
    code = import_code("u@x", "20260105T070000Z", prefix="AWGESC")
    assert code == import_code("u@x", "20260105T070000Z", prefix="AWGESC")
    assert code.startswith("AWGESC-")
    assert len(code) == len("AWGESC-") + 12
    assert code != import_code("u@x", "20260112T070000Z", prefix="AWGESC")


# ------------------------------------------------------------------ properties

ZONE_NAMES = ["Asia/Ho_Chi_Minh", "Asia/Jakarta", "Europe/Berlin", "America/New_York", "UTC"]


@settings(max_examples=40, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 10, 1), max_value=datetime(2027, 3, 1)),
    zone=st.sampled_from(ZONE_NAMES),
    frequency=st.sampled_from(["DAILY", "WEEKLY", "MONTHLY"]),
    count=st.integers(min_value=1, max_value=30),
    minutes=st.integers(min_value=15, max_value=600),
)
def test_every_instance_rie_finds_is_one_meeting_at_the_same_instant(
    start: datetime, zone: str, frequency: str, count: int, minutes: int
) -> None:
    start = start.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=minutes)
    data = ics(
        "BEGIN:VEVENT",
        "UID:series@x",
        "SUMMARY:Series",
        f"DTSTART;TZID={zone}:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID={zone}:{end:%Y%m%dT%H%M%S}",
        f"RRULE:FREQ={frequency};COUNT={count}",
        "END:VEVENT",
    )
    contents = read(data)
    expected = recurring_ical_events.of(icalendar.Calendar.from_ical(data)).between(
        WINDOW.first, WINDOW.last + timedelta(days=1)
    )
    assert len(contents.events) == len(expected)
    assert len({e.recurrence_id for e in contents.events}) == len(contents.events)
    instants = sorted(c["DTSTART"].dt.astimezone(UTC) for c in expected)
    assert sorted(to_utc(e.start, ZoneInfo(e.timezone)) for e in contents.events) == instants
    assert read(data.replace(b"\r\n", b"\n")).events == contents.events


def test_an_overlong_uid_is_stored_as_a_stable_digest() -> None:
    data = ics("BEGIN:VEVENT", f"UID:{'x' * 600}", "DTSTART:20260303T090000Z", "END:VEVENT")
    (event,) = read(data).events
    assert event.uid.endswith("@long-uid")
    assert len(event.uid) < 100
    assert read(data).events[0].uid == event.uid


NAMES = ["DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "UID"]
VALUES = ["20260101", "20260101T000000Z", "00010101", "99991231T235959Z", "FREQ=DAILY", "PT1H", ""]
PARAMS = ["", ";VALUE=DATE", ";TZID=Nowhere", ";TZID=Europe/Berlin", ";RANGE=THISANDFUTURE"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(WEEKLY)),
            st.sampled_from(NAMES),
            st.sampled_from(PARAMS),
            st.one_of(st.sampled_from(VALUES), st.text(max_size=12)),
        ),
        max_size=4,
    )
)
def test_no_content_crashes_the_reader(edits: list[tuple[int, str, str, str]]) -> None:
    lines = list(WEEKLY)
    for at, name, params, value in edits:
        lines.insert(at, f"{name}{params}:{value}".replace("\r", " ").replace("\n", " "))
    try:
        contents, message = read(ics(*lines)), ""
    except CalendarRefusedError as refused:
        contents, message = None, str(refused)
    if contents is None:
        assert message, "a refusal always says why"
    else:
        assert len({e.key for e in contents.events}) == len(contents.events)
