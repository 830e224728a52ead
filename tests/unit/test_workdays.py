"""Working days of a country: weekends, public holidays and swapped Saturdays."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.workdays import UnknownCountryError, WorkingCalendar, is_supported_country

VN = WorkingCalendar("VN")
BN = WorkingCalendar("BN")  # Brunei: Friday and Sunday are the weekend

MONDAY = 0
SATURDAY = 5


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def test_an_ordinary_week_in_viet_nam_is_monday_to_friday() -> None:
    week = days(date(2026, 3, 2), date(2026, 3, 8))  # Mon .. Sun, no holiday
    assert week[0].weekday() == MONDAY
    assert [VN.is_working_day(d) for d in week] == [True] * 5 + [False] * 2


@pytest.mark.parametrize(
    "holiday",
    [
        *days(date(2026, 2, 16), date(2026, 2, 20)),  # Tết 2026, Mon .. Fri
        date(2026, 1, 1),
        date(2026, 4, 30),
        date(2026, 5, 1),
        date(2026, 8, 31),  # the day off given for the working Saturday 2026-08-22
        date(2026, 9, 1),
        date(2026, 9, 2),
        *days(date(2027, 2, 4), date(2027, 2, 10)),  # Tết 2027, Thu .. Wed
    ],
    ids=str,
)
def test_viet_nam_public_holidays_are_not_working_days(holiday: date) -> None:
    assert not VN.is_working_day(holiday)
    assert VN.holiday_name(holiday)


def test_an_ordinary_day_has_no_holiday_name() -> None:
    assert VN.holiday_name(date(2026, 3, 3)) is None


def test_the_swapped_saturday_2026_08_22_is_a_working_day() -> None:
    assert date(2026, 8, 22).weekday() == SATURDAY
    assert VN.is_working_day(date(2026, 8, 22))
    assert not VN.is_working_day(date(2026, 8, 15))  # the Saturday before: an ordinary weekend
    assert not VN.is_working_day(date(2026, 8, 29))  # and the one after


@pytest.mark.parametrize(
    ("day", "count", "expected"),
    [
        # Tết 2026: Sun 22, Sat 21, Mon 16 .. Fri 20 off; Sun 15, Sat 14; Fri 13 is the first.
        (date(2026, 2, 23), 1, date(2026, 2, 13)),
        (date(2026, 2, 23), 3, date(2026, 2, 11)),
        (date(2026, 2, 23), 5, date(2026, 2, 9)),
        (date(2026, 2, 23), 6, date(2026, 2, 6)),
        # National Day 2026: Wed 2 and Tue 1 September, Mon 31 August (swapped), weekend.
        (date(2026, 9, 3), 1, date(2026, 8, 28)),
        (date(2026, 9, 3), 2, date(2026, 8, 27)),
        # The working Saturday counts.
        (date(2026, 8, 24), 1, date(2026, 8, 22)),
        (date(2026, 8, 24), 2, date(2026, 8, 21)),
        # Strictly before: a working day does not count itself.
        (date(2026, 3, 4), 1, date(2026, 3, 3)),
        # Tết 2027: Thu 4 .. Wed 10 February.
        (date(2027, 2, 11), 1, date(2027, 2, 3)),
    ],
    ids=str,
)
def test_working_days_before(day: date, count: int, expected: date) -> None:
    assert VN.working_days_before(day, count) == expected


@pytest.mark.parametrize("count", [0, -1])
def test_working_days_before_needs_a_positive_count(count: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        VN.working_days_before(date(2026, 3, 4), count)


def test_working_days_between_counts_the_half_open_range() -> None:
    assert VN.working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert VN.working_days_between(date(2026, 2, 11), date(2026, 2, 23)) == 3
    assert VN.working_days_between(date(2026, 3, 2), date(2026, 3, 9)) == 5
    assert VN.working_days_between(date(2026, 3, 4), date(2026, 3, 4)) == 0
    assert VN.working_days_between(date(2026, 3, 9), date(2026, 3, 2)) == 0


def test_previous_and_next_working_day() -> None:
    assert VN.previous_working_day(date(2026, 2, 20)) == date(2026, 2, 13)
    assert VN.next_working_day(date(2026, 2, 14)) == date(2026, 2, 23)
    assert VN.previous_working_day(date(2026, 8, 23)) == date(2026, 8, 22)
    assert VN.previous_working_day(date(2026, 3, 4)) == date(2026, 3, 4)
    assert VN.next_working_day(date(2026, 3, 4)) == date(2026, 3, 4)


def test_brunei_works_on_saturday_and_rests_on_friday() -> None:
    friday, saturday = date(2026, 6, 12), date(2026, 6, 13)  # no holiday in either country
    assert (BN.is_working_day(friday), BN.is_working_day(saturday)) == (False, True)
    assert (VN.is_working_day(friday), VN.is_working_day(saturday)) == (True, False)
    monday = date(2026, 6, 15)
    assert BN.working_days_before(monday, 1) == saturday
    assert VN.working_days_before(monday, 1) == friday


@pytest.mark.parametrize("country", ["XX", "vn", ""])
def test_an_unknown_country_is_refused(country: str) -> None:
    assert not is_supported_country(country)
    with pytest.raises(UnknownCountryError, match="no public-holiday calendar"):
        WorkingCalendar(country)


def test_supported_countries() -> None:
    assert is_supported_country("VN")
    assert is_supported_country("NO")
    assert is_supported_country("BN")


@settings(max_examples=60, deadline=None)
@given(
    calendar=st.sampled_from([VN, BN]),
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    count=st.integers(min_value=1, max_value=40),
)
def test_working_days_before_is_the_nth_working_day_strictly_before(
    calendar: WorkingCalendar, day: date, count: int
) -> None:
    result = calendar.working_days_before(day, count)
    assert calendar.is_working_day(result)
    assert result < day
    assert calendar.working_days_between(result, day) == count
    if count > 1:
        assert calendar.working_days_before(day, count - 1) > result
