"""Every file of the shared iCalendar corpus (real exports and known-bad files, see its MANIFEST):
each readable one imported, with the meetings ``recurring-ical-events`` finds over the same
window and the warnings its small faults deserve; each unreadable one refused with a message
naming the problem, nothing imported; no file crashes the importer; a second import changes
nothing. Skipped when the corpus is absent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import icalendar
import pytest
import recurring_ical_events
from sqlalchemy import func, select

from core.ics_import import CalendarRefusedError, ImportWindow, read_calendar
from core.workdays import WorkingCalendar
from db.models import AuditRow, MeetingRow
from services.importing import ImportOptions, import_calendar
from services.loading import LoadOptions

if TYPE_CHECKING:
    from collections.abc import Callable

    from db.uow import SqlAlchemyUnitOfWork

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "ics-corpus"
HANOI = "Asia/Ho_Chi_Minh"
WIDE = ImportWindow(date(2000, 1, 1), date(2030, 12, 31))
STORED = ImportWindow(date(2020, 1, 1), date(2026, 12, 31))  # smaller: stored twice per backend
NOW = datetime(2026, 11, 23, tzinfo=UTC)
LOAD = LoadOptions(default_timezone=HANOI, country="VN", workdays=WorkingCalendar("VN"))
LF = "lines end with LF instead of CRLF (accepted)"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the ics corpus is absent ({CORPUS})")


@dataclass(frozen=True)
class Read:
    """Read, with these warnings (fragments of them, in any order)."""

    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refused:
    """Refused whole, the message containing this."""

    because: str


# One row per file. The MANIFEST's matrix shows eight parsers disagreeing; Focal reads what it
# can place in time without guessing a value, and refuses a file with a line it cannot read.
EXPECTED: dict[str, Read | Refused] = {
    "JoeHQiao__vietnam-holidays-ical__a5b22af__vietnam-holidays.ics": Read(
        ("unknown property 'TIMEZONE-ID'",)
    ),
    "JoeHQiao__vietnam-holidays-ical__vietnam-holidays.ics": Read(
        ("unknown property 'TIMEZONE-ID'",)
    ),
    "allenporter__ical__8c4bce9__google_calendar_public_holidays.ics": Read(),
    "allenporter__ical__apple_ical.ics": Read((LF,)),
    "allenporter__ical__emoji.ics": Read((LF,)),
    "allenporter__ical__google_calendar_invalid_offset.ics": Read((LF,)),
    "allenporter__ical__languages.ics": Read((LF,)),
    "allenporter__ical__office_356_custom_timezone.ics": Read(),
    "collective__icalendar__alarm_google_acknowledged.ics": Read(),
    "collective__icalendar__alarm_thunderbird_snoozed_until_1457.ics": Read(),
    "collective__icalendar__big_bad_calendar.ics": Refused(
        "line 1: BEGIN:VCALENDAR is never ended"
    ),
    "collective__icalendar__bom_calendar.ics": Read(("a byte-order mark",)),
    "collective__icalendar__broken_ical.ics": Refused(
        "line 4: cannot read DTSTART;;VALUE=DATE-TIME"
    ),
    "collective__icalendar__event_with_escaped_characters.ics": Refused(
        "BEGIN:VEVENT outside a VCALENDAR"
    ),
    "collective__icalendar__fuzz_testcase_vtimezone_lone_cr.ics": Refused("a lone carriage return"),
    "collective__icalendar__issue_1081_invalid_rrule_freq.ics": Refused(
        "line 7: cannot read RRULE:FREQ=INVALID_TYPE_CAUSES_ERROR"
    ),
    "collective__icalendar__issue_127_categories_with_commas.ics": Read((LF,)),
    "collective__icalendar__issue_218_bad_tzid.ics": Read(
        ("TZID 'UTC+11' is not an IANA timezone",)
    ),
    "collective__icalendar__issue_237_fail_to_parse_timezone_with_non_ascii_tzid.ics": Read(
        ("TZID '(UTC-03:00) Brasília' is not an IANA timezone", "an event without UID")
    ),
    "collective__icalendar__issue_313_globally_unique_tzid.ics": Read(
        ("TZID '/freeassociation.sourceforge.net/Europe/Berlin' is read as Europe/Berlin",)
    ),
    "collective__icalendar__issue_351_whitespace_in_property_and_params.ics": Read(
        ("unknown property 'REFRESH - INTERVAL'",)
    ),
    "collective__icalendar__issue_466_convert_tzid_with_slash.ics": Read(),
    "collective__icalendar__issue_722_missing_timezones.ics": Read(
        ("an event without DTSTART was skipped",)
    ),
    "collective__icalendar__issue_836_do_not_quote_tzid.ics": Read((LF,)),
    "collective__icalendar__multiple_calendar_components.ics": Read(
        ("blank lines at lines 3, 6", "2 calendars in one file")
    ),
    "collective__icalendar__pacific_fiji.ics": Refused("line 11: an event (UID noend123"),
    "collective__icalendar__parsing_error_in_UTC_offset.ics": Refused(
        "line 7: cannot read TZOFFSETFROM:+5744: Offset must be less than 24 hours"
    ),
    "jens-maus__node-ical__Office-2012-owa.ics": Read(
        ("TZID '(UTC-05:00) Eastern Time (US & Canada)' is neither an IANA name",)
    ),
    "jens-maus__node-ical__bad_custom_ms_tz.ics": Refused(
        "line 40: cannot read DURATION:-PT1W1D2H3M4S"
    ),
    "jens-maus__node-ical__exchange_whole_day_moved_recurrence.ics": Read((LF,)),
    "jens-maus__node-ical__google-calendar-kiev-tz.ics": Read((LF,)),
    "jens-maus__node-ical__large-file-with-late-error.ics": Refused(
        "line 360: cannot read DTSTART:20240230T100000Z"
    ),
    "jens-maus__node-ical__ms_timezones.ics": Refused(
        'line 152: cannot read DTSTART;TZID="W. Europe Standard Time:20200609T090000"'
    ),
    "jens-maus__node-ical__tentative-apple-calendar.ics": Read((LF,)),
    "jens-maus__node-ical__tripit-location-escaping.ics": Read(("times without a timezone",)),
    "jens-maus__node-ical__vtimezone-year-0001-dtstart.ics": Read((LF,)),
    "jens-maus__node-ical__windows-quoted-tz-rrule.ics": Read((LF,)),
    "kewisch__ical.js__blank_line_mid.ics": Read(("blank line at line 3",)),
    "kewisch__ical.js__google_birthday.ics": Refused("line 12: cannot read RDATE:20131210Z"),
    "kewisch__ical.js__utc_negative_zero.ics": Read((LF,)),
    "lanceliao__china-holiday-calender__209fbfe__holidayCal.ics": Read(
        ("an all-day event ends where it starts: read as one day (86 times)",)
    ),
    "lanceliao__china-holiday-calender__holidayCal.ics": Read((LF,)),
    "niccokunzmann__python-recurring-ical-events__bad_rrule_missing_until_event.ics": Refused(
        "line 9: cannot read RRULE:FREQ=WEEKLY;UNTL=20191023"
    ),
    "niccokunzmann__python-recurring-ical-events__daylight_saving_time.ics": Read(),
    "niccokunzmann__python-recurring-ical-events__fablab_cottbus.ics": Read(),
    "niccokunzmann__python-recurring-ical-events__issue42.ics": Read(
        ("cannot read CREATED:00001231T000000Z", "'Europe/lisbon' has a VTIMEZONE that disagrees")
    ),
    "niccokunzmann__python-recurring-ical-events__issue_18_cancel_status.ics": Read((LF,)),
    "niccokunzmann__python-recurring-ical-events__issue_20_exdate_ignored.ics": Read((LF,)),
    "niccokunzmann__python-recurring-ical-events__issue_62_moved_event.ics": Read((LF,)),
    "niccokunzmann__python-recurring-ical-events__issue_75_range_parameter.ics": Read(),
    "niccokunzmann__python-recurring-ical-events__issue_86_x_wr_timezone_without_time_zone_in_dt"
    ".ics": Read((LF,)),
    "niccokunzmann__python-recurring-ical-events__issue_97_simple_todo.ics": Read((LF,)),
    "niccokunzmann__python-recurring-ical-events__x_wr_timezone_simple_events_issue_59.ics": Read(),
    "niccokunzmann__x-wr-timezone__Germany-Holidays-date-as-value-type.in.ics": Read(),
    "niccokunzmann__x-wr-timezone__moved-event-RECURRENCE-ID.in.ics": Read((LF,)),
    "pimutils__khal__cal_lots_of_timezones.ics": Read((LF,)),
    "pimutils__khal__event_dt_local_missing_tz.ics": Read(("TZID 'FOO' is neither an IANA name",)),
    "pimutils__khal__event_rrule_recuid_cancelled.ics": Read((LF,)),
    "pimutils__khal__tz_windows_format.ics": Read(
        ("'New Zealand Standard Time' has a VTIMEZONE that disagrees",)
    ),
    "shiro46mt__biz-calendar-jp__first_and_last.ics": Read((LF,)),
}
FILES = sorted(EXPECTED)
READABLE = [name for name in FILES if isinstance(EXPECTED[name], Read)]


def test_the_table_covers_every_file_of_the_corpus() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.ics")) == FILES


def rie_instances(data: bytes, window: ImportWindow) -> set[tuple[str, str, str]]:
    """What recurring-ical-events finds on its own: (UID or title, RECURRENCE-ID, start)."""
    found = set()
    for calendar in icalendar.Calendar.from_ical(data.removeprefix(b"\xef\xbb\xbf"), multiple=True):
        calendar.subcomponents = [
            c for c in calendar.subcomponents if c.name != "VEVENT" or "DTSTART" in c
        ]
        query = recurring_ical_events.of(calendar)
        for component in query.between(window.first, window.last + timedelta(days=1)):
            uid = str(component.get("UID", component.get("SUMMARY", "")))
            recurrence = component.get("RECURRENCE-ID")
            rid = _instant(recurrence.dt) if recurrence is not None else ""
            found.add((uid, rid, _instant(component["DTSTART"].dt)))
    return found


def _instant(value: datetime | date) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat()


@pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed")
@pytest.mark.parametrize("name", FILES)
def test_each_file_is_read_with_its_warnings_or_refused_naming_the_problem(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    expected = EXPECTED[name]
    if isinstance(expected, Refused):
        with pytest.raises(CalendarRefusedError) as caught:
            read_calendar(data, window=WIDE, default_timezone=HANOI)
        assert expected.because in str(caught.value)
        return
    contents = read_calendar(data, window=WIDE, default_timezone=HANOI)
    for fragment in expected.warnings:
        assert any(fragment in w for w in contents.warnings), (fragment, contents.warnings)
    assert len(contents.events) == len(rie_instances(data, WIDE))
    assert len({e.key for e in contents.events}) == len(contents.events)


def test_every_readable_file_is_stored_once_and_a_second_import_changes_nothing(
    make_uow: Callable[[], SqlAlchemyUnitOfWork],
) -> None:
    options = ImportOptions(window=STORED, load=LOAD)
    written = 0
    for name in READABLE:
        if "issue42" in name:
            continue  # timed by bench/ics_import.py
        data = (CORPUS / name).read_bytes()
        first = import_calendar(data, source=name, uow=make_uow(), now=NOW, options=options)
        again = import_calendar(data, source=name, uow=make_uow(), now=NOW, options=options)
        with make_uow() as uow:
            stored = uow.session.scalar(
                select(func.count()).select_from(MeetingRow).where(MeetingRow.source == name)
            )
        assert stored == first.found == first.written, name
        assert again.written == 0, name
        written += first.written
    with make_uow() as uow:
        audited = uow.session.scalar(select(func.count()).select_from(AuditRow))
    assert audited == written, "one audit entry per change, none for the second imports"


def test_a_refused_file_imports_nothing(make_uow: Callable[[], SqlAlchemyUnitOfWork]) -> None:
    options = ImportOptions(window=STORED, load=LOAD)
    for name in FILES:
        if isinstance(EXPECTED[name], Read):
            continue
        data = (CORPUS / name).read_bytes()
        with pytest.raises(CalendarRefusedError):
            import_calendar(data, source=name, uow=make_uow(), now=NOW, options=options)
    with make_uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(MeetingRow)) == 0
