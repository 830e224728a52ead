"""Calendar feeds: a person's or a group's meetings and deadlines as one iCalendar document.

``render_feed`` is a pure function of a ``Feed``: the same feed gives the same bytes (so an
``ETag`` from ``feed_etag`` identifies it), because nothing comes from the clock or a random
source. ``DTSTAMP`` and ``LAST-MODIFIED`` are the data's last change (``Feed.stamp``), the
``VTIMEZONE`` blocks and the events are sorted, and the sequence numbers come in as data.

What a feed holds (RFC 5545, with RFC 7986's ``NAME`` and ``REFRESH-INTERVAL``):

* no ``METHOD`` (a feed is a published calendar, not a scheduling message);
* meetings with IANA ``TZID``s and one ``VTIMEZONE`` per zone (``core.ical_zones``), from
  1 January of the zone's earliest event year, so that a client sees one short rule; all-day
  meetings as ``VALUE=DATE`` with the exclusive end date; cancelled meetings kept, with
  ``STATUS:CANCELLED`` and a "Cancelled:" title prefix in the feed's language;
* deadlines as transparent all-day events on their due day, titled with their state ("Due:",
  "Overdue:", "Submitted:", "Not applicable:"), and a display alarm while one is still owed;
* every text NFC-normalised and escaped, every line folded at 75 octets without splitting a
  UTF-8 character, CRLF line ends, no byte-order mark.

A meeting's ``recurrence_id`` (an instance of an imported recurring event) is the instance's
original start: ``YYYYMMDDTHHMMSSZ`` in UTC for a timed meeting, ``YYYYMMDD`` for an all-day
one (RFC 5545: the value type of ``DTSTART``). It is written as ``RECURRENCE-ID`` in that form.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final, TypeAlias

from core.ical_lines import (
    clean_uri,
    escape_text,
    format_date,
    format_duration,
    format_local,
    format_utc,
    join_lines,
)
from core.ical_zones import vtimezone_lines, zone_named

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from zoneinfo import ZoneInfo

PRODID: Final = "-//Focal//Focal feeds//EN"


class DeadlineState(enum.StrEnum):
    """What a deadline event's title says."""

    DUE = "due"
    OVERDUE = "overdue"
    SUBMITTED = "submitted"
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True, slots=True)
class FeedMeeting:
    """A meeting as a feed shows it.

    ``start`` and ``end`` are naive wall-clock times in ``timezone``; for an all-day meeting
    they are midnights and ``end`` is the last day (inclusive, as in ``core.model.Meeting``).
    ``recurrence_id`` is empty unless the meeting is one instance of an imported recurring
    event (see the module's docstring for its form).
    """

    uid: str
    recurrence_id: str
    title: str
    start: datetime
    end: datetime
    timezone: str
    all_day: bool
    cancelled: bool
    tentative: bool
    sequence: int
    venue: str | None = None
    description: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class FeedDeadline:
    """A deadline on its local due day; ``title`` has no state prefix (the renderer adds it)."""

    uid: str
    title: str
    due_date: date
    state: DeadlineState
    sequence: int
    description: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed: its name, language, the data's last change (aware) and its events."""

    name: str
    language: str
    stamp: datetime
    meetings: Sequence[FeedMeeting]
    deadlines: Sequence[FeedDeadline]
    refresh: timedelta = timedelta(hours=1)
    alarm_before: timedelta = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Phrases:
    """What the renderer adds to titles, in one language; none needs escaping."""

    cancelled: str
    states: dict[DeadlineState, str]
    alarm: str


_PHRASES: Final = {
    "en": _Phrases(
        cancelled="Cancelled: ",
        states={
            DeadlineState.DUE: "Due: ",
            DeadlineState.OVERDUE: "Overdue: ",
            DeadlineState.SUBMITTED: "Submitted: ",
            DeadlineState.NOT_APPLICABLE: "Not applicable: ",
        },
        alarm="Input due: ",
    ),
    "vi": _Phrases(
        cancelled="Đã hủy: ",
        states={
            DeadlineState.DUE: "Hạn nộp: ",
            DeadlineState.OVERDUE: "Quá hạn: ",
            DeadlineState.SUBMITTED: "Đã nộp: ",
            DeadlineState.NOT_APPLICABLE: "Không áp dụng: ",
        },
        alarm="Sắp đến hạn nộp: ",
    ),
}
_ALARMED: Final = frozenset({DeadlineState.DUE, DeadlineState.OVERDUE})
_ALL_STATES: Final = frozenset(DeadlineState)
_RECURRENCE_UTC = re.compile(r"\d{8}T\d{6}Z")
_RECURRENCE_DATE = re.compile(r"\d{8}")
_ONE_DAY: Final = timedelta(days=1)


def render_feed(feed: Feed) -> bytes:
    """The whole ``VCALENDAR`` (RFC 5545) of ``feed``: byte-identical for equal input.

    Raises ``ValueError`` with one clear message on bad input (an unknown language or time
    zone, a naive stamp, an end before its start, a negative sequence, two different events
    with one UID).
    """
    phrases = _PHRASES.get(str(feed.language))
    if phrases is None:
        raise ValueError(f"feed language {feed.language!r} is not one of: en, vi")
    if feed.refresh <= timedelta(0):
        raise ValueError("a feed's refresh interval must be positive")
    if feed.alarm_before < timedelta(0):
        raise ValueError("a feed's alarm must come before the due day, not after it")
    stamp = format_utc(feed.stamp)
    refresh = format_duration(feed.refresh)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"NAME:{escape_text(feed.name)}",
        f"X-WR-CALNAME:{escape_text(feed.name)}",
        f"REFRESH-INTERVAL;VALUE=DURATION:{refresh}",
        f"X-PUBLISHED-TTL:{refresh}",
    ]
    events = _sorted_events(feed.meetings, feed.deadlines)
    for zone, (first, last) in sorted(_zone_years(feed.meetings).items()):
        lines.extend(vtimezone_lines(zone, first, last))
    trigger = format_duration(-feed.alarm_before)
    for _, _, _, event in events:
        if isinstance(event, FeedMeeting):
            _meeting_lines(lines, event, stamp, phrases)
        else:
            _deadline_lines(lines, event, stamp, phrases, trigger)
    lines.append("END:VCALENDAR")
    return join_lines(lines)


def feed_etag(body: bytes) -> str:
    """A strong ``ETag`` value (quoted) for a rendered feed."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


# ------------------------------------------------------------------ ordering


_Keyed: TypeAlias = "tuple[datetime, str, str, FeedMeeting | FeedDeadline]"


def _sorted_events(
    meetings: Iterable[FeedMeeting], deadlines: Iterable[FeedDeadline]
) -> list[_Keyed]:
    """Events by (start instant, UID, RECURRENCE-ID); an exact repeat is dropped."""
    seen: dict[tuple[str, str], FeedMeeting | FeedDeadline] = {}
    keyed: list[_Keyed] = []
    everything: list[FeedMeeting | FeedDeadline] = [*meetings, *deadlines]
    for event in everything:
        if isinstance(event, FeedMeeting):
            _check_meeting(event)
            key = (event.uid, event.recurrence_id)
            zone = _zone(event.timezone, event.uid)
            instant = event.start.replace(tzinfo=zone, fold=0).astimezone(UTC)
        else:
            _check_deadline(event)
            key = (event.uid, "")
            instant = datetime.combine(event.due_date, datetime.min.time(), UTC)
        if event.sequence < 0:
            raise ValueError(f"event {event.uid}: SEQUENCE {event.sequence} is negative")
        if not key[0]:
            raise ValueError("every feed event needs a UID")
        known = seen.setdefault(key, event)
        if known is not event:
            if known == event:
                continue
            raise ValueError(f"two different feed events have UID {key[0]!r}")
        keyed.append((instant, key[0], key[1], event))
    keyed.sort(key=lambda item: item[:3])
    return keyed


def _zone(name: str, uid: str) -> ZoneInfo:
    zone = zone_named(name)
    if zone is None:
        raise ValueError(f"{name!r} is not an IANA time zone (event {uid})")
    return zone


def _check_deadline(deadline: FeedDeadline) -> None:
    if isinstance(deadline.due_date, datetime):
        raise ValueError(  # noqa: TRY004 - one exception type for all bad feed input
            f"deadline {deadline.uid}: due_date must be a date, not a datetime"
        )
    if deadline.state not in _ALL_STATES:
        raise ValueError(f"deadline {deadline.uid}: {deadline.state!r} is not a deadline state")


def _check_meeting(meeting: FeedMeeting) -> None:
    if meeting.start.tzinfo is not None or meeting.end.tzinfo is not None:
        raise ValueError(f"meeting {meeting.uid}: start and end must be local wall-clock times")
    if meeting.end < meeting.start:
        raise ValueError(f"meeting {meeting.uid} ends before it starts")
    if not meeting.recurrence_id:
        return
    # RFC 5545: RECURRENCE-ID has DTSTART's value type (a date for an all-day meeting)
    form = _RECURRENCE_DATE if meeting.all_day else _RECURRENCE_UTC
    if not form.fullmatch(meeting.recurrence_id):
        expected = "YYYYMMDD" if meeting.all_day else "YYYYMMDDTHHMMSSZ (UTC)"
        kind = "an all-day" if meeting.all_day else "a timed"
        raise ValueError(
            f"meeting {meeting.uid}: recurrence id {meeting.recurrence_id!r} is not {expected},"
            f" the form for {kind} meeting"
        )


# ----------------------------------------------------------------- time zones


def _zone_years(meetings: Iterable[FeedMeeting]) -> dict[str, tuple[int, int]]:
    """Each zone a timed meeting uses, with the first and last year of its meetings."""
    years: dict[str, tuple[int, int]] = {}
    for meeting in meetings:
        if meeting.all_day:
            continue
        first, last = meeting.start.year, meeting.end.year
        known = years.get(meeting.timezone)
        if known is not None:
            first, last = min(first, known[0]), max(last, known[1])
        years[meeting.timezone] = (first, last)
    return years


# --------------------------------------------------------------------- events


def _meeting_lines(lines: list[str], meeting: FeedMeeting, stamp: str, phrases: _Phrases) -> None:
    lines.append("BEGIN:VEVENT")
    lines.append(f"UID:{escape_text(meeting.uid)}")
    if meeting.recurrence_id:
        if meeting.recurrence_id.endswith("Z"):
            lines.append(f"RECURRENCE-ID:{meeting.recurrence_id}")
        else:
            lines.append(f"RECURRENCE-ID;VALUE=DATE:{meeting.recurrence_id}")
    lines.extend((f"SEQUENCE:{meeting.sequence:d}", f"DTSTAMP:{stamp}", f"LAST-MODIFIED:{stamp}"))
    if meeting.all_day:
        lines.append(f"DTSTART;VALUE=DATE:{format_date(meeting.start.date())}")
        lines.append(f"DTEND;VALUE=DATE:{format_date(meeting.end.date() + _ONE_DAY)}")
    else:
        tzid = meeting.timezone
        lines.append(f"DTSTART;TZID={tzid}:{format_local(meeting.start)}")
        if meeting.end > meeting.start:
            lines.append(f"DTEND;TZID={tzid}:{format_local(meeting.end)}")
    title = escape_text(meeting.title)
    lines.append(f"SUMMARY:{phrases.cancelled}{title}" if meeting.cancelled else f"SUMMARY:{title}")
    if meeting.venue:
        lines.append(f"LOCATION:{escape_text(meeting.venue)}")
    if meeting.description:
        lines.append(f"DESCRIPTION:{escape_text(meeting.description)}")
    if meeting.url:
        lines.append(f"URL:{clean_uri(meeting.url)}")
    if meeting.cancelled:
        lines.extend(("STATUS:CANCELLED", "TRANSP:TRANSPARENT", "END:VEVENT"))
    elif meeting.tentative:
        lines.extend(("STATUS:TENTATIVE", "END:VEVENT"))
    else:
        lines.extend(("STATUS:CONFIRMED", "END:VEVENT"))


def _deadline_lines(
    lines: list[str], deadline: FeedDeadline, stamp: str, phrases: _Phrases, trigger: str
) -> None:
    title = escape_text(deadline.title)  # the phrases need no escaping
    lines.extend(
        (
            "BEGIN:VEVENT",
            f"UID:{escape_text(deadline.uid)}",
            f"SEQUENCE:{deadline.sequence:d}",
            f"DTSTAMP:{stamp}",
            f"LAST-MODIFIED:{stamp}",
            f"DTSTART;VALUE=DATE:{format_date(deadline.due_date)}",
            f"DTEND;VALUE=DATE:{format_date(deadline.due_date + _ONE_DAY)}",
            f"SUMMARY:{phrases.states[deadline.state]}{title}",
        )
    )
    if deadline.description:
        lines.append(f"DESCRIPTION:{escape_text(deadline.description)}")
    if deadline.url:
        lines.append(f"URL:{clean_uri(deadline.url)}")
    lines.append("TRANSP:TRANSPARENT")
    if deadline.state in _ALARMED:
        lines.extend(
            (
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                f"DESCRIPTION:{phrases.alarm}{title}",
                f"TRIGGER:{trigger}",
                "END:VALARM",
            )
        )
    lines.append("END:VEVENT")
