"""Any feed parses back with icalendar to the same events, and every line is well formed.

The instants are checked twice: through the TZIDs (icalendar looks the zone up by name) and
through the feed's own VTIMEZONEs (read without looking their TZID up).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from hypothesis import given, settings
from hypothesis import strategies as st

from core.feeds import DeadlineState, Feed, FeedDeadline, FeedMeeting, render_feed
from tests.zones import ASEAN_ZONES, PARTNER_ZONES

PREFIXES = {
    DeadlineState.DUE: "Hạn nộp: ",
    DeadlineState.OVERDUE: "Quá hạn: ",
    DeadlineState.SUBMITTED: "Đã nộp: ",
    DeadlineState.NOT_APPLICABLE: "Không áp dụng: ",
}
WORDS = (
    "Hội nghị Bộ trưởng Môi trường ASEAN",
    "Kế hoạch công tác",
    "Nhóm công tác về các thành phố bền vững",
    "东盟环境部长会议",
    "可持续城市工作组",
    "🌏🌱🇻🇳👩🏽‍💼",
    "a, b; c\\d",
    "line one\r\nline two\nthree\rfour",
    "Tie\u0302\u0301ng Vie\u0323\u0302t",  # decomposed: the feed writes it composed (NFC)
    "\t tabs and \x07 bells ",
    "",
)
texts = st.lists(
    st.one_of(st.sampled_from(WORDS), st.text(max_size=40)), min_size=1, max_size=5
).map(" ".join)


def expected_text(value: str) -> str:
    """What a client reads back: NFC, line breaks as ``\\n``, control characters dropped."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in value if c in "\t\n" or not (ord(c) < 0x20 or ord(c) == 0x7F))


def unescape(value: str) -> str:
    """A TEXT value as RFC 5545 §3.3.11 reads it."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def _exists(local: datetime, zone: str) -> bool:
    """Neither skipped nor repeated by a clock change (both readings are ambiguous)."""
    tz = ZoneInfo(zone)
    there = local.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return (
        there == local
        and local.replace(tzinfo=tz).utcoffset() == local.replace(tzinfo=tz, fold=1).utcoffset()
    )


@st.composite
def meetings(draw: st.DrawFn, index: int) -> FeedMeeting:
    zone = draw(st.sampled_from(ASEAN_ZONES + PARTNER_ZONES))
    all_day = draw(st.booleans())
    if all_day:
        first = draw(st.dates(date(2000, 1, 1), date(2045, 12, 31)))
        start = datetime.combine(first, datetime.min.time())
        end = start + timedelta(days=draw(st.integers(0, 6)))
    else:
        start = draw(
            st.datetimes(datetime(2000, 1, 1), datetime(2045, 12, 31)).map(
                lambda d: d.replace(microsecond=0)
            )
        )
        end = start + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
    recurring = draw(st.booleans())
    instance = ""
    if recurring:
        instance = (
            f"{start:%Y%m%d}"
            if all_day
            else f"{start.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC):%Y%m%dT%H%M%SZ}"
        )
    return FeedMeeting(
        uid=f"{index}-{draw(st.uuids())}@focal",
        recurrence_id=instance,
        title=draw(texts),
        start=start,
        end=end,
        timezone=zone,
        all_day=all_day,
        cancelled=draw(st.booleans()),
        tentative=draw(st.booleans()),
        sequence=draw(st.integers(0, 1000)),
        venue=draw(st.none() | texts),
        description=draw(st.none() | texts),
        url=draw(st.none() | st.just("https://example.org/meetings?id=1,2;x")),
    )


@st.composite
def feeds(draw: st.DrawFn) -> Feed:
    count = draw(st.integers(0, 12))
    found = [draw(meetings(i)) for i in range(count)]
    found = [
        m
        for m in found
        if m.all_day or (_exists(m.start, m.timezone) and _exists(m.end, m.timezone))
    ]
    deadlines = [
        FeedDeadline(
            uid=f"d{i}@focal",
            title=draw(texts),
            due_date=draw(st.dates(date(2000, 1, 1), date(2045, 12, 31))),
            state=draw(st.sampled_from(DeadlineState)),
            sequence=draw(st.integers(0, 50)),
            description=draw(st.none() | texts),
        )
        for i in range(draw(st.integers(0, 8)))
    ]
    return Feed(
        name=draw(texts),
        language="vi",
        stamp=draw(
            st.datetimes(datetime(2020, 1, 1), datetime(2040, 1, 1), timezones=st.just(UTC))
        ),
        meetings=found,
        deadlines=deadlines,
    )


def check_lines(body: bytes) -> None:
    assert not body.startswith(b"\xef\xbb\xbf")
    assert body.endswith(b"\r\n")
    lines = body[:-2].split(b"\r\n")
    for line in lines:
        assert b"\r" not in line
        assert b"\n" not in line
        assert len(line) <= 75, line
        line.decode()  # each physical line is valid UTF-8 on its own
        assert line[:1] != b"\t"
    assert lines[0] == b"BEGIN:VCALENDAR"
    assert lines[-1] == b"END:VCALENDAR"


@settings(max_examples=60, deadline=None)
@given(feeds())
def test_a_feed_parses_back_to_the_same_events(feed: Feed) -> None:
    body = render_feed(feed)

    check_lines(body)
    assert render_feed(feed) == body
    calendar = icalendar.Calendar.from_ical(body)
    # icalendar does not know X-WR-CALNAME and NAME as TEXT: it leaves them escaped
    for name in ("NAME", "X-WR-CALNAME"):
        assert unescape(str(calendar[name])) == expected_text(feed.name)
    assert "METHOD" not in calendar
    zones = {str(z["TZID"]): z.to_tz(lookup_tzid=False) for z in calendar.walk("VTIMEZONE")}
    timed = {m.timezone for m in feed.meetings if not m.all_day}
    assert list(zones) == sorted(timed)

    parsed = calendar.walk("VEVENT")
    keys = [
        (str(e["UID"]), e["RECURRENCE-ID"].to_ical().decode() if "RECURRENCE-ID" in e else "")
        for e in parsed
    ]
    expected_keys = {(m.uid, m.recurrence_id) for m in feed.meetings} | {
        (d.uid, "") for d in feed.deadlines
    }
    assert sorted(keys) == sorted(expected_keys)
    by_key = dict(zip(keys, parsed, strict=True))
    order = sort_keys(feed)
    for meeting in feed.meetings:
        event = by_key[meeting.uid, meeting.recurrence_id]
        _check_meeting(event, meeting, zones)
    for deadline in feed.deadlines:
        event = by_key[deadline.uid, ""]
        assert event.decoded("DTSTART") == deadline.due_date
        assert event.decoded("DTEND") == deadline.due_date + timedelta(days=1)
        assert str(event["SUMMARY"]) == expected_text(PREFIXES[deadline.state] + deadline.title)
        assert int(event["SEQUENCE"]) == deadline.sequence
        alarmed = deadline.state in {DeadlineState.DUE, DeadlineState.OVERDUE}
        assert len(event.walk("VALARM")) == int(alarmed)
    assert keys == sorted(expected_keys, key=lambda key: order[key])


def sort_keys(feed: Feed) -> dict[tuple[str, str], tuple[datetime, str, str]]:
    """Events come by start instant (an all-day meeting: midnight in its zone; a deadline:
    midnight UTC), then UID, then RECURRENCE-ID."""
    keys = {
        (m.uid, m.recurrence_id): (
            m.start.replace(tzinfo=ZoneInfo(m.timezone)).astimezone(UTC),
            m.uid,
            m.recurrence_id,
        )
        for m in feed.meetings
    }
    for d in feed.deadlines:
        keys[d.uid, ""] = (datetime.combine(d.due_date, datetime.min.time(), UTC), d.uid, "")
    return keys


def _check_meeting(event: icalendar.Event, meeting: FeedMeeting, zones: dict[str, object]) -> None:
    title = ("Đã hủy: " if meeting.cancelled else "") + meeting.title
    assert str(event["SUMMARY"]) == expected_text(title)
    assert int(event["SEQUENCE"]) == meeting.sequence
    status = "CANCELLED" if meeting.cancelled else "TENTATIVE" if meeting.tentative else "CONFIRMED"
    assert str(event["STATUS"]) == status
    if meeting.venue:
        assert str(event["LOCATION"]) == expected_text(meeting.venue)
    if meeting.description:
        assert str(event["DESCRIPTION"]) == expected_text(meeting.description)
    if meeting.all_day:
        assert event.decoded("DTSTART") == meeting.start.date()
        assert event.decoded("DTEND") == meeting.end.date() + timedelta(days=1)
        return
    zone = ZoneInfo(meeting.timezone)
    start = meeting.start.replace(tzinfo=zone).astimezone(UTC)
    end = meeting.end.replace(tzinfo=zone).astimezone(UTC)
    assert event.decoded("DTSTART").astimezone(UTC) == start
    assert ("DTEND" in event) == (end > start)
    if end > start:
        assert event.decoded("DTEND").astimezone(UTC) == end
    # the VTIMEZONE itself, read without looking its TZID up, gives the same instants
    own = zones[meeting.timezone]
    assert meeting.start.replace(tzinfo=own).astimezone(UTC) == start  # type: ignore[arg-type]
    assert meeting.end.replace(tzinfo=own).astimezone(UTC) == end  # type: ignore[arg-type]
