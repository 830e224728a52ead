"""Due rules: parsing ``due:`` and resolving it to an instant."""

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.deadlines import (
    DueRuleError,
    describe_time_left,
    due_local,
    parse_due_rule,
    resolve_due,
    to_utc,
)
from core.model import (
    AbsoluteDue,
    Deadline,
    DeadlineKind,
    DueRule,
    Meeting,
    MeetingKind,
    RelativeDue,
)
from core.workdays import WorkingCalendar

VN = WorkingCalendar("VN")
HCM = "Asia/Ho_Chi_Minh"
FIVE_PM = time(17, 0)
ZONES = ["Asia/Ho_Chi_Minh", "Asia/Manila", "Europe/Oslo", "America/New_York", "Pacific/Auckland"]

ASOEN_37 = Meeting(
    code="ASOEN-37",
    title="37th ASEAN Senior Officials on the Environment Meeting",
    kind=MeetingKind.SENIOR_OFFICIALS,
    start=datetime(2026, 9, 22, 9, 0),
    end=datetime(2026, 9, 24, 17, 0),
    timezone="Asia/Manila",
    groups=("ASOEN",),
)


def deadline(
    due: str, *, timezone: str | None = None, meeting: str | None = "ASOEN-37"
) -> Deadline:
    return Deadline(
        code="ASOEN37-WORKPLANS",
        title="Work plans",
        kind=DeadlineKind.WORKPLAN,
        due=parse_due_rule(due),
        meeting=meeting,
        timezone=timezone,
    )


def meeting_on(start: date, *, hour: int = 9) -> Meeting:
    first = datetime.combine(start, time(hour, 0))
    return dataclasses.replace(ASOEN_37, start=first, end=first + timedelta(days=2))


def resolve(rule: Deadline, meeting: Meeting | None = ASOEN_37) -> datetime:
    return resolve_due(rule, meeting, default_timezone=HCM, workdays=VN)


def local(instant: datetime, zone: str = HCM) -> datetime:
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "rule", "canonical"),
    [
        ("-21d", RelativeDue(days=-21), "-21d"),
        ("-10wd", RelativeDue(days=-10, working_days=True), "-10wd"),
        ("0d", RelativeDue(days=0), "0d"),
        ("-0d", RelativeDue(days=0), "0d"),
        (" -021d ", RelativeDue(days=-21), "-21d"),
        ("2026-08-28", AbsoluteDue(at=datetime(2026, 8, 28, 17, 0), date_only=True), "2026-08-28"),
        ("2026-08-28T17:00", AbsoluteDue(at=datetime(2026, 8, 28, 17, 0)), "2026-08-28T17:00"),
        ("2026-08-28T09:30", AbsoluteDue(at=datetime(2026, 8, 28, 9, 30)), "2026-08-28T09:30"),
        ("2026-08-28 09:30", AbsoluteDue(at=datetime(2026, 8, 28, 9, 30)), "2026-08-28T09:30"),
        ("2026-08-28T09:30:59", AbsoluteDue(at=datetime(2026, 8, 28, 9, 30)), "2026-08-28T09:30"),
    ],
    ids=repr,
)
def test_parse_due_rule(text: str, rule: DueRule, canonical: str) -> None:
    parsed = parse_due_rule(text)
    assert parsed == rule
    assert str(parsed) == canonical
    assert parse_due_rule(canonical) == rule


@pytest.mark.parametrize(
    ("text", "instead"),
    [
        ("+3d", "write a negative offset such as -3d"),
        ("3d", "write a negative offset such as -3d"),
        ("21", "use -21d (calendar days before the meeting), -10wd"),
        ("-3w", "use -21d (calendar days before the meeting), -10wd"),
        ("-21D", "use -21d"),
        ("tomorrow", "2026-08-28 or 2026-08-28T17:00"),
        ("2026-02-30", "write a date such as 2026-08-28"),
        ("2026-08-28T24:00", "or a local time such as 2026-08-28T17:00"),
        ("0wd", "use 0d for the start date"),
        ("-0wd", "use 0d for the start date"),
        ("", "use -21d"),
    ],
    ids=repr,
)
def test_parse_due_rule_refuses_and_says_what_to_write(text: str, instead: str) -> None:
    with pytest.raises(DueRuleError) as caught:
        parse_due_rule(text)
    assert instead in str(caught.value)


def test_a_day_that_does_not_exist_is_named() -> None:
    with pytest.raises(DueRuleError, match=r"^'2026-02-30' is not a real date"):
        parse_due_rule("2026-02-30")


@settings(max_examples=50)
@given(days=st.integers(min_value=0, max_value=9999), working=st.booleans())
def test_relative_rules_round_trip(days: int, working: bool) -> None:
    assume(days > 0 or not working)  # 0wd is refused
    rule = RelativeDue(days=-days, working_days=working)
    assert parse_due_rule(str(rule)) == rule


@settings(max_examples=50)
@given(
    at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    date_only=st.booleans(),
)
def test_absolute_rules_round_trip(at: datetime, date_only: bool) -> None:
    rule = AbsoluteDue(
        at=datetime.combine(at.date(), FIVE_PM) if date_only else at, date_only=date_only
    )
    assert parse_due_rule(str(rule)) == rule


# ---------------------------------------------------------------- local due time


def test_a_relative_rule_needs_a_meeting() -> None:
    for text in ("-21d", "-10wd"):
        with pytest.raises(DueRuleError, match="relative to a meeting"):
            due_local(parse_due_rule(text), None, workdays=VN)


def test_an_absolute_rule_needs_no_meeting() -> None:
    rule = parse_due_rule("2026-08-28")
    assert due_local(rule, None, workdays=VN) == datetime(2026, 8, 28, 17, 0)
    assert resolve(deadline("2026-08-28", meeting=None), None) == datetime(
        2026, 8, 28, 10, 0, tzinfo=UTC
    )


def test_zero_days_is_the_start_date_at_five_pm() -> None:
    assert due_local(parse_due_rule("0d"), ASOEN_37, workdays=VN) == datetime(2026, 9, 22, 17, 0)


# ---------------------------------------------------------------- resolution


def test_calendar_days_before_the_meeting_at_five_pm_coordinator_time() -> None:
    due = resolve(deadline("-21d"))
    assert due == datetime(2026, 9, 1, 10, 0, tzinfo=UTC)  # 17:00 in Ha Noi (UTC+7)
    assert due.utcoffset() == timedelta(0)


def test_a_deadline_with_its_own_timezone_uses_it() -> None:
    # 17:00 in Oslo on 1 September 2026 is summer time, UTC+2.
    assert resolve(deadline("-21d", timezone="Europe/Oslo")) == datetime(
        2026, 9, 1, 15, 0, tzinfo=UTC
    )
    assert resolve(deadline("-21d", timezone="Asia/Manila")) == datetime(
        2026, 9, 1, 9, 0, tzinfo=UTC
    )


def test_the_default_timezone_is_the_coordinators() -> None:
    rule = deadline("-21d")
    got = resolve_due(rule, ASOEN_37, default_timezone="Asia/Tokyo", workdays=VN)
    assert got == datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def test_absolute_rules() -> None:
    assert resolve(deadline("2026-08-28")) == datetime(2026, 8, 28, 10, 0, tzinfo=UTC)
    assert resolve(deadline("2026-08-28T09:30")) == datetime(2026, 8, 28, 2, 30, tzinfo=UTC)
    tokyo = deadline("2026-08-28T09:30", timezone="Asia/Tokyo")
    assert resolve(tokyo) == datetime(2026, 8, 28, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "rule", "due_date"),
    [
        (date(2026, 2, 23), "-1wd", date(2026, 2, 13)),  # across Tết 2026
        (date(2026, 2, 23), "-3wd", date(2026, 2, 11)),
        (date(2026, 2, 23), "-10wd", date(2026, 2, 2)),
        (
            date(2026, 9, 3),
            "-1wd",
            date(2026, 8, 28),
        ),  # across 2 September (and the 31 August swap)
        (date(2026, 9, 3), "-5wd", date(2026, 8, 24)),
        (date(2026, 9, 3), "-6wd", date(2026, 8, 22)),  # the working Saturday counts
        (date(2026, 9, 3), "-7wd", date(2026, 8, 21)),
        (date(2026, 2, 23), "-10d", date(2026, 2, 13)),  # calendar days ignore holidays
        (date(2026, 9, 3), "-3d", date(2026, 8, 31)),
    ],
    ids=str,
)
def test_working_and_calendar_days_around_holidays(start: date, rule: str, due_date: date) -> None:
    got = resolve(deadline(rule), meeting_on(start))
    assert local(got) == datetime.combine(due_date, FIVE_PM)


def test_the_start_date_is_the_meetings_local_date() -> None:
    # 01:00 in Manila on 22 September is still 21 September in UTC: the date is Manila's.
    early = meeting_on(date(2026, 9, 22), hour=1)
    late = meeting_on(date(2026, 9, 22), hour=23)
    assert resolve(deadline("-21d"), early) == resolve(deadline("-21d"), late)
    assert local(resolve(deadline("-1wd"), early)).date() == date(2026, 9, 21)


def test_moving_the_meeting_moves_a_relative_deadline_and_not_an_absolute_one() -> None:
    week = timedelta(days=7)
    moved = dataclasses.replace(ASOEN_37, start=ASOEN_37.start + week, end=ASOEN_37.end + week)
    assert resolve(deadline("-21d"), moved) - resolve(deadline("-21d"), ASOEN_37) == week
    assert resolve(deadline("-10wd"), moved) > resolve(deadline("-10wd"), ASOEN_37)
    assert resolve(deadline("2026-08-28"), moved) == resolve(deadline("2026-08-28"), ASOEN_37)
    assert resolve(deadline("2026-08-28T09:30"), moved) == resolve(
        deadline("2026-08-28T09:30"), ASOEN_37
    )


def test_an_ambiguous_wall_clock_time_is_read_as_the_earlier_instant() -> None:
    oslo = ZoneInfo("Europe/Oslo")  # 25 October 2026: 02:00-03:00 happens twice
    assert to_utc(datetime(2026, 10, 25, 2, 30), oslo) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert to_utc(datetime(2026, 10, 25, 3, 30), oslo) == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (timedelta(days=3, hours=5), "in 3 days"),
        (timedelta(days=1), "in 1 day"),
        (timedelta(hours=23, minutes=59), "in 23 hours"),
        (timedelta(hours=1), "in 1 hour"),
        (timedelta(minutes=5), "in 5 minutes"),
        (timedelta(seconds=20), "in 1 minute"),
        (-timedelta(minutes=1), "1 minute overdue"),
        (-timedelta(hours=2, minutes=30), "2 hours overdue"),
        (-timedelta(days=2), "2 days overdue"),
    ],
    ids=str,
)
def test_describe_time_left(left: timedelta, text: str) -> None:
    now = datetime(2026, 9, 1, 3, 0, tzinfo=UTC)
    assert describe_time_left(now + left, now) == text


# ---------------------------------------------------------------- properties

START_DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


@settings(max_examples=60, deadline=None)
@given(start=START_DATES, count=st.integers(min_value=1, max_value=30))
def test_working_day_deadlines_fall_on_the_nth_working_day_before_the_start(
    start: date, count: int
) -> None:
    due = local(resolve(deadline(f"-{count}wd"), meeting_on(start)))
    assert due.time() == FIVE_PM
    assert VN.is_working_day(due.date())
    assert due.date() < start
    assert VN.working_days_between(due.date(), start) == count


@settings(max_examples=60, deadline=None)
@given(start=START_DATES, count=st.integers(min_value=0, max_value=400))
def test_calendar_day_deadlines_fall_exactly_n_days_before_the_start(
    start: date, count: int
) -> None:
    due = local(resolve(deadline(f"-{count}d"), meeting_on(start)))
    assert due == datetime.combine(start - timedelta(days=count), FIVE_PM)


@settings(max_examples=60, deadline=None)
@given(
    start=START_DATES,
    rule=st.one_of(
        st.integers(min_value=0, max_value=60).map(lambda n: f"-{n}d"),
        st.integers(min_value=1, max_value=30).map(lambda n: f"-{n}wd"),
        st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)).map(date.isoformat),
    ),
    zone=st.sampled_from([None, *ZONES]),
)
def test_the_resolved_instant_is_five_pm_in_the_deadline_zone_and_deterministic(
    start: date, rule: str, zone: str | None
) -> None:
    meeting = meeting_on(start)
    first = resolve(deadline(rule, timezone=zone), meeting)
    again = resolve_due(
        deadline(rule, timezone=zone), meeting, default_timezone=HCM, workdays=WorkingCalendar("VN")
    )
    assert first == again
    assert first.tzinfo is UTC
    assert local(first, zone or HCM).time() == FIVE_PM
