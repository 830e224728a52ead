"""Working days of a country: its weekend and public holidays, from the ``holidays`` package.

Weekend days that a government declares working days (Viet Nam swaps some Saturdays
around its holidays) count as working days, as ``holidays`` records them.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from datetime import date, timedelta

import holidays


class UnknownCountryError(ValueError):
    """The ``holidays`` package has no calendar for this country code."""


_LOCK = threading.Lock()  # a holidays object fills in years lazily; threads share it


@functools.cache
def _country_calendar(country: str) -> holidays.HolidayBase:
    try:
        return holidays.country_holidays(country)
    except NotImplementedError as exc:
        raise UnknownCountryError(f"no public-holiday calendar for country {country!r}") from exc


def is_supported_country(country: str) -> bool:
    return country in holidays.list_supported_countries()


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """The working days of one country (ISO 3166 alpha-2 code)."""

    country: str

    def __post_init__(self) -> None:
        _country_calendar(self.country)  # fail early on an unknown country

    def is_working_day(self, day: date) -> bool:
        with _LOCK:
            return bool(_country_calendar(self.country).is_working_day(day))

    def holiday_name(self, day: date) -> str | None:
        with _LOCK:
            name = _country_calendar(self.country).get(day)
        return str(name) if name else None

    def working_days_before(self, day: date, count: int) -> date:
        """The ``count``-th working day strictly before ``day`` (``count`` >= 1)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        current = day
        remaining = count
        while remaining:
            current -= timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``[start, end)``."""
        return sum(
            1
            for offset in range((end - start).days)
            if self.is_working_day(start + timedelta(offset))
        )

    def previous_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the nearest working day before it."""
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the nearest working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day
