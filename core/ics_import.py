"""Meetings from another calendar: iCalendar bytes and a window in, events or a refusal out.

Parsing is ``icalendar``'s, Google's ``X-WR-TIMEZONE`` is ``x_wr_timezone``'s and the
expansion of recurring events is ``recurring_ical_events``'; this module decides what Focal
makes of their answers. A file with anything it cannot read is refused whole
(``CalendarRefusedError`` naming the line and the problem); small faults it survives are
returned as warnings beside the events.
"""

from __future__ import annotations

import hashlib
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import recurring_ical_events
import x_wr_timezone
from icalendar import Calendar
from icalendar.error import GloballyUniqueTZIDGuessed

from core.ics_lines import CalendarText, CalendarTextError, read_text
from core.ics_zones import iana_zone, in_zone, localize, recurrence_id
from core.model import Meeting, MeetingKind, MeetingStatus

if TYPE_CHECKING:
    from collections.abc import Iterable

    from icalendar.cal.component import Component

#: More meetings than this in the window is not a meeting calendar (or the window is too wide).
MAX_MEETINGS = 20_000
#: The longest UID stored as it is (longer ones are stored as a digest).
MAX_UID = 500
#: A fault in one of these makes the event unreadable: the file is refused.
_ESSENTIAL = frozenset(
    {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "UID"}
)
_SINGLE = ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "UID")
#: What the libraries raise on content they cannot make sense of (dates out of range...).
_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError, IndexError, ArithmeticError)
_UID_NAMESPACE = uuid.UUID("0b7a4f8e-2f61-4c55-9a57-3c1f3f0e8d21")
_STATUS = {"CANCELLED": MeetingStatus.CANCELLED, "TENTATIVE": MeetingStatus.TENTATIVE}


class CalendarRefusedError(ValueError):
    """The file cannot be read; nothing of it is imported. The message says why and where."""


@dataclass(frozen=True, slots=True)
class ImportWindow:
    """The days whose meetings are imported, both included."""

    first: date
    last: date

    @classmethod
    def around(cls, now: datetime, *, before_days: int = 30, after_days: int = 365) -> ImportWindow:
        today = now.astimezone(UTC).date()
        return cls(today - timedelta(days=before_days), today + timedelta(days=after_days))


@dataclass(frozen=True, slots=True)
class ImportedEvent:
    """One meeting of the source: a single event, or one instance of a recurring one.

    ``recurrence_id`` is "" for a single event, else the instance's original start as UTC
    ``YYYYMMDDTHHMMSSZ`` (``YYYYMMDD`` for an all-day series). ``start``/``end`` are naive
    wall-clock times in ``timezone``; all-day events end on their last day, as ``Meeting``.
    """

    uid: str
    recurrence_id: str
    title: str
    start: datetime
    end: datetime
    timezone: str
    all_day: bool
    status: MeetingStatus
    venue: str | None = None
    notes: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.uid, self.recurrence_id)


@dataclass(frozen=True, slots=True)
class CalendarContents:
    events: tuple[ImportedEvent, ...]
    warnings: tuple[str, ...]
    name: str | None = None  # X-WR-CALNAME, when the file gives one
    #: (UID, RECURRENCE-ID) of every instance the file moves, wherever it moved to (even
    #: outside the window): such an instance is missing from ``events`` but not gone
    moved: frozenset[tuple[str, str]] = frozenset()


def import_code(uid: str, recurrence_id: str, *, prefix: str = "ics") -> str:
    """A meeting code for an imported event: readable, short, the same on every import."""
    digest = hashlib.sha256(f"{uid}\n{recurrence_id}".encode()).hexdigest()[:12]
    return f"{prefix}-{digest}"


def imported_meeting(
    event: ImportedEvent, *, code: str, kind: MeetingKind, groups: tuple[str, ...]
) -> Meeting:
    return Meeting(
        code=code,
        title=event.title,
        kind=kind,
        start=event.start,
        end=event.end,
        timezone=event.timezone,
        all_day=event.all_day,
        venue=event.venue,
        groups=groups,
        status=event.status,
        notes=event.notes,
    )


class _Notes:
    """Warnings, each said once with how often it happened."""

    def __init__(self, first: Iterable[str] = ()) -> None:
        self.counts: Counter[str] = Counter(first)

    def add(self, message: str) -> None:
        self.counts[message] += 1

    def as_tuple(self) -> tuple[str, ...]:
        return tuple(m if n == 1 else f"{m} ({n} times)" for m, n in self.counts.items())


def read_calendar(
    data: bytes, *, window: ImportWindow, default_timezone: str, limit: int = MAX_MEETINGS
) -> CalendarContents:
    """The meetings of ``data`` within ``window``; raise ``CalendarRefusedError`` if unreadable.

    Times without a timezone are read in the file's ``X-WR-TIMEZONE``, else in
    ``default_timezone`` (with a warning).
    """
    try:
        text = read_text(data)
    except CalendarTextError as exc:
        raise CalendarRefusedError(str(exc)) from None
    notes = _Notes(text.warnings)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # said once per process by icalendar (it caches the zone): said here per file instead
        warnings.simplefilter("ignore", GloballyUniqueTZIDGuessed)
        calendars = _parse(text, notes)
        events: dict[tuple[str, str], ImportedEvent] = {}
        moved: set[tuple[str, str]] = set()
        for calendar in calendars:
            found, moves = _read_events(
                calendar,
                text,
                window=window,
                default_timezone=default_timezone,
                notes=notes,
                limit=limit,
            )
            moved |= moves
            for event in found:
                if event.key in events:
                    notes.add("an event repeats a UID and RECURRENCE-ID: the first one is kept")
                    continue
                events[event.key] = event
                _check_limit(len(events), limit, window)
    for caught_warning in caught:
        if issubclass(caught_warning.category, DeprecationWarning):  # for us, not the user
            warnings.warn_explicit(
                caught_warning.message,
                caught_warning.category,
                caught_warning.filename,
                caught_warning.lineno,
            )
            continue
        notes.add(" ".join(str(caught_warning.message).split()))
    if len(calendars) > 1:
        notes.add(f"{len(calendars)} calendars in one file (all read)")
    name = next((str(c["X-WR-CALNAME"]) for c in calendars if "X-WR-CALNAME" in c), None)
    ordered = sorted(events.values(), key=lambda e: (e.start, e.uid, e.recurrence_id))
    return CalendarContents(tuple(ordered), notes.as_tuple(), name, frozenset(moved))


def _check_limit(count: int, limit: int, window: ImportWindow) -> None:
    if count > limit:
        raise CalendarRefusedError(
            f"more than {limit:,} meetings between {window.first} and {window.last}: "
            "import a shorter window (--from, --to)"
        )


def _parse(text: CalendarText, notes: _Notes) -> list[Calendar]:
    try:
        calendars: list[Calendar] = Calendar.from_ical(text.data, multiple=True)
    except _UNREADABLE as exc:
        raise CalendarRefusedError(text.describe(None, str(exc))) from None
    for calendar in calendars:
        for component in calendar.walk():
            for name, message in component.errors:
                if name is None or name.upper() in _ESSENTIAL:
                    raise CalendarRefusedError(text.describe(name, message))
                notes.add(f"{text.describe(name, message)} (ignored)")
    return calendars


@dataclass
class _Series:
    """What the source says about one UID before expansion."""

    recurring: bool = False
    tzid: str | None = None  # a TZID the parser could not resolve (no VTIMEZONE, not IANA)
    #: RECURRENCE-ID;RANGE=THISANDFUTURE -> how far its instances moved (start - original)
    shifts: dict[date, timedelta] = field(default_factory=dict)
    overrides: list[tuple[date, bool]] = field(default_factory=list)  # (RECURRENCE-ID, all day)


def _read_events(
    calendar: Component,
    text: CalendarText,
    *,
    window: ImportWindow,
    default_timezone: str,
    notes: _Notes,
    limit: int,
) -> tuple[list[ImportedEvent], set[tuple[str, str]]]:
    try:
        zone = _calendar_zone(calendar, notes)
        series = _prepare(calendar, text, notes)
        if zone is not None:
            calendar = x_wr_timezone.to_standard(calendar, timezone=ZoneInfo(zone))
        query = recurring_ical_events.CalendarQuery(calendar, components=("VEVENT",))
        occurrences = query.between(window.first, window.last + timedelta(days=1))
        _check_limit(len(occurrences), limit, window)
        fallback = zone or default_timezone
        events = [_event(c, series, fallback, notes) for c in occurrences]
        moved = {
            (uid, recurrence_id(value, all_day=all_day, zone=fallback))
            for uid, entry in series.items()
            for value, all_day in entry.overrides
        }
    except CalendarRefusedError:
        raise
    except _UNREADABLE as exc:
        name = "RRULE" if isinstance(exc, recurring_ical_events.BadRuleStringFormat) else None
        raise CalendarRefusedError(text.describe(name, str(exc) or type(exc).__name__)) from None
    return events, moved


def _calendar_zone(calendar: Component, notes: _Notes) -> str | None:
    value = calendar.get("X-WR-TIMEZONE")
    if value is None:
        return None
    zone = iana_zone(str(value))
    if zone is None:
        notes.add(f"X-WR-TIMEZONE {str(value)!r} is not a timezone name (ignored)")
        del calendar["X-WR-TIMEZONE"]
    return zone


def _prepare(calendar: Component, text: CalendarText, notes: _Notes) -> dict[str, _Series]:
    """Check each event before expansion; skip those without a start, name those without UID."""
    series: dict[str, _Series] = {}
    kept = []
    for component in calendar.subcomponents:
        if component.name != "VEVENT":
            kept.append(component)
            continue
        for name in _SINGLE:
            if isinstance(component.get(name), list):
                raise CalendarRefusedError(
                    f"{_where(text, name)}an event ({_describe(component)}) has {name} "
                    "more than once"
                )
        if "DTSTART" not in component:
            notes.add(f"an event without DTSTART was skipped ({_describe(component)})")
            continue
        _check_rules(component, text)
        if "UID" not in component:
            component.add("UID", _derived_uid(component))
            notes.add("an event without UID got one derived from its title and start")
        _learn(series.setdefault(str(component["UID"]), _Series()), component, notes)
        kept.append(component)
    calendar.subcomponents = kept
    return series


def _learn(entry: _Series, component: Component, notes: _Notes) -> None:
    """What one VEVENT says about its series: recurring, moved ranges, an unresolved TZID."""
    if any(k in component for k in ("RRULE", "RDATE", "RECURRENCE-ID")):
        entry.recurring = True
    recurrence = _prop(component, "RECURRENCE-ID")
    if recurrence is not None:
        all_day = not isinstance(_prop(component, "DTSTART").dt, datetime)
        entry.overrides.append((recurrence.dt, all_day))
    if recurrence is not None and _this_and_future(recurrence):
        entry.shifts[recurrence.dt] = _prop(component, "DTSTART").dt - recurrence.dt
    start = _prop(component, "DTSTART")
    tzid = start.params.get("TZID")
    if tzid and str(tzid).startswith("/") and iana_zone(str(tzid)):
        notes.add(f"TZID {str(tzid)!r} is read as {iana_zone(str(tzid))}")
    if tzid and isinstance(start.dt, datetime) and start.dt.tzinfo is None:
        entry.tzid = str(tzid)


def _check_rules(component: Component, text: CalendarText) -> None:
    rules = component.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        frequency = str(rule.get("FREQ", [""])[0]).upper()
        if frequency in {"SECONDLY", "MINUTELY"}:
            raise CalendarRefusedError(
                f"{_where(text, 'RRULE', 'FREQ=' + frequency)}RRULE FREQ={frequency}: "
                "a meeting does not repeat every second or minute"
            )


def _where(text: CalendarText, name: str, fragment: str = "") -> str:
    line = next(
        (c for c in text.lines if c.name == name and fragment.upper() in c.text.upper()), None
    )
    return f"line {line.number}: " if line else ""


def _describe(component: Component) -> str:
    parts = [f"UID {component['UID']}" if "UID" in component else "no UID"]
    if component.get("SUMMARY"):
        parts.append(repr(str(component["SUMMARY"])[:60]))
    return ", ".join(parts)


def _derived_uid(component: Component) -> str:
    seed = f"{component.get('SUMMARY', '')}\n{_prop(component, 'DTSTART').to_ical().decode()}"
    return f"{uuid.uuid5(_UID_NAMESPACE, seed)}@import"


def _event(
    component: Component, series: dict[str, _Series], fallback: str, notes: _Notes
) -> ImportedEvent:
    uid = str(component["UID"])
    info = series.get(uid, _Series())
    if len(uid) > MAX_UID:  # looked up whole in `series` above; stored as a digest
        uid = f"{hashlib.sha256(uid.encode()).hexdigest()}@long-uid"
    start: date = _prop(component, "DTSTART").dt
    end: Any = _prop(component, "DTEND").dt if "DTEND" in component else None
    if end is None and "DURATION" in component:
        end = start + _prop(component, "DURATION").dt
    all_day = not isinstance(start, datetime)
    if all_day:
        zone = fallback
        last = end if isinstance(end, date) and not isinstance(end, datetime) else start
        if end is not None and last <= start:
            notes.add("an all-day event ends where it starts: read as one day")
        start_local = datetime.combine(start, time())
        end_local = datetime.combine(max(start, last - timedelta(days=1)), time())
    else:
        assert isinstance(start, datetime)
        zone, start_local = localize(start, info.tzid, fallback, notes.add)
        end_local = start_local
        if isinstance(end, datetime):
            end_local = max(start_local, in_zone(end, zone))
    rid = ""
    if info.recurring and "RECURRENCE-ID" in component:
        original = _prop(component, "RECURRENCE-ID")
        value = original.dt
        if _this_and_future(original) and value in info.shifts:
            value = start - info.shifts[value]  # a later instance of a moved range
        rid = recurrence_id(value, all_day=all_day, zone=zone)
    return ImportedEvent(
        uid=uid,
        recurrence_id=rid,
        title=_text(component.get("SUMMARY"), 500) or "(untitled)",
        start=start_local,
        end=end_local,
        timezone=zone,
        all_day=all_day,
        status=_STATUS.get(str(component.get("STATUS", "")).upper(), MeetingStatus.CONFIRMED),
        venue=_text(component.get("LOCATION"), 500),
        notes=_text(component.get("DESCRIPTION"), 10_000),
    )


def _prop(component: Component, name: str) -> Any:  # noqa: ANN401 - icalendar's value types
    """A property as icalendar parsed it (its type depends on the property)."""
    return component.get(name)


def _this_and_future(prop: Any) -> bool:  # noqa: ANN401 - an icalendar property
    return str(prop.params.get("RANGE", "")).upper() == "THISANDFUTURE"


def _text(value: object, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] or None
