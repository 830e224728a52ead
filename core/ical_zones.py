"""A time zone's ``VTIMEZONE``, as the feeds write it: every change of offset at its onset.

``icalendar``'s ``Timezone.from_tzinfo`` finds a zone's changes of offset. The block is
rewritten from what it finds, because two things in its output trouble clients: it lists a
rule's later onsets as ``RDATE``s, which ical.js (Thunderbird) misreads (it skips the
``DTSTART`` of an observance that has them, and reads one date of each list), and it dates each
onset at the first local time after the change (03:00 on a spring-forward night) where RFC 5545
wants the local time before it (02:00). Here each change is an observance of its own, starting
at the onset found to the second.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

from core.ical_lines import CRLF

_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=256)
def zone_named(name: str) -> ZoneInfo | None:
    """The IANA zone called ``name``, or None if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=512)
def vtimezone_lines(name: str, first_year: int, last_year: int) -> tuple[str, ...]:
    """The zone's ``VTIMEZONE`` as unfolded lines, from 1 January of ``first_year``.

    It holds each change of offset up to the end of the year after ``last_year`` (none for the
    ASEAN zones today: one ``STANDARD`` block). ``icalendar``'s ``Timezone.from_tzinfo`` finds
    them; but it searches for the next change up to the year 9999, some 50 ms a zone, so a zone
    whose offset stays the same through the range (checked day by day) gets the one
    observance that call would give, built from ``icalendar``'s components directly.
    """
    zone = zone_named(name)
    if zone is None:
        raise ValueError(f"{name!r} is not an IANA time zone")
    first, last = date(first_year, 1, 1), date(min(last_year + 1, 9999), 12, 31)
    if _steady(zone, first, last):
        component = _steady_vtimezone(name, zone, first)
    else:
        component = _changing_vtimezone(name, zone, first, last)
    text = component.to_ical().decode().replace(CRLF + " ", "").replace(CRLF + "\t", "")
    return tuple(line for line in text.split(CRLF) if line)


def _steady(zone: ZoneInfo, first: date, last: date) -> bool:
    """Whether ``zone`` keeps one UTC offset from ``first`` to ``last`` (sampled daily)."""
    moment = datetime.combine(first, datetime.min.time(), zone)
    offset, end = moment.utcoffset(), datetime.combine(last, datetime.min.time(), zone)
    while moment < end:
        moment += _ONE_DAY
        if moment.utcoffset() != offset:
            return False
    return True


def _steady_vtimezone(name: str, zone: ZoneInfo, first: date) -> icalendar.Timezone:
    start = datetime.combine(first, datetime.min.time(), zone)
    offset = start.utcoffset() or timedelta(0)
    standard = start.dst() == timedelta(0)
    observance = icalendar.TimezoneStandard() if standard else icalendar.TimezoneDaylight()
    observance.TZOFFSETFROM = offset
    observance.TZOFFSETTO = offset
    observance.add("TZNAME", start.tzname() or str(offset))
    observance.DTSTART = start.replace(tzinfo=None)
    component = icalendar.Timezone()
    component.add("TZID", name)
    component.add_component(observance)
    return component


def _changing_vtimezone(name: str, zone: ZoneInfo, first: date, last: date) -> icalendar.Timezone:
    """One observance per change of offset, each starting at its exact onset."""
    found = icalendar.Timezone.from_tzinfo(zone, tzid=name, first_date=first, last_date=last)
    onsets: list[tuple[datetime, bool, timedelta, timedelta, str]] = []
    for sub in found.subcomponents:
        before, after = sub.TZOFFSETFROM, sub.TZOFFSETTO
        if before is None or after is None or sub.DTSTART is None:
            continue
        daylight = sub.name == "DAYLIGHT"
        for start in (sub.DTSTART, *(start for start, _ in sub.rdates)):
            onset = start if before == after else _onset(zone, start, before, after)
            onsets.append((onset, daylight, before, after, str(sub["TZNAME"])))
    component = icalendar.Timezone()
    component.add("TZID", name)
    for onset, daylight, before, after, tzname in sorted(onsets):
        observance = icalendar.TimezoneDaylight() if daylight else icalendar.TimezoneStandard()
        observance.TZOFFSETFROM = before
        observance.TZOFFSETTO = after
        observance.add("TZNAME", tzname)
        observance.DTSTART = onset
        component.add_component(observance)
    return component


def _onset(zone: ZoneInfo, start: datetime, before: timedelta, after: timedelta) -> datetime:
    """The local time, in the offset ``before``, at which ``zone`` changes to ``after``.

    ``start`` is a local time shortly after the change, in the new offset; the instant is
    found to the second by bisection in UTC, where nothing is skipped or repeated.
    """
    high = (start - after).replace(tzinfo=UTC)
    low = high - timedelta(days=2)
    if low.astimezone(zone).utcoffset() != before:
        return start
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0, tzinfo=None) + before
