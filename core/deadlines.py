"""Deadline rules: parsing ``due:`` and resolving it to an instant.

``due`` is absolute (``2026-08-28T17:00`` in the deadline's timezone; a bare date means
17:00 that day) or relative to the meeting's start date: ``-21d`` calendar days or
``-10wd`` working days of the coordinator's country, counted strictly before the start
date, at 17:00. A deadline's timezone is its own when given, else the coordinator's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.model import AbsoluteDue, Deadline, DueRule, Meeting, RelativeDue

if TYPE_CHECKING:
    from core.workdays import WorkingCalendar

DEFAULT_DUE_TIME = time(17, 0)
_RELATIVE = re.compile(r"^([+-]?)(\d{1,4})(wd|d)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")


class DueRuleError(ValueError):
    """A ``due:`` value that is not one of the accepted forms."""


def parse_due_rule(text: str) -> DueRule:
    """Parse ``-21d``, ``-10wd``, ``2026-08-28`` or ``2026-08-28T17:00``."""
    value = text.strip()
    match = _RELATIVE.match(value)
    if match:
        sign, number, unit = match.groups()
        days = int(number)
        if sign != "-" and days != 0:
            raise DueRuleError(
                f"{value!r} is after the meeting starts; "
                f"write a negative offset such as -{days}{unit}"
            )
        if unit == "wd" and days == 0:
            raise DueRuleError("0wd is not a working-day offset; use 0d for the start date")
        return RelativeDue(days=-days, working_days=unit == "wd")
    try:
        if _DATE.match(value):
            day = datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - a local date, zone kept beside it
            return AbsoluteDue(at=datetime.combine(day, DEFAULT_DUE_TIME), date_only=True)
        if _DATETIME.match(value):
            at = datetime.fromisoformat(value.replace(" ", "T"))
            return AbsoluteDue(at=at.replace(second=0, microsecond=0))
    except ValueError as exc:
        raise DueRuleError(
            f"{value!r} is not a real date or time ({exc}); write a date such as 2026-08-28 "
            "or a local time such as 2026-08-28T17:00"
        ) from exc
    raise DueRuleError(
        f"{value!r} is not a due rule: use -21d (calendar days before the meeting), "
        "-10wd (working days before it), 2026-08-28 or 2026-08-28T17:00"
    )


def due_local(rule: DueRule, meeting: Meeting | None, *, workdays: WorkingCalendar) -> datetime:
    """The naive local due time of ``rule`` (in the deadline's timezone)."""
    if isinstance(rule, AbsoluteDue):
        return rule.at
    if meeting is None:
        raise DueRuleError(f"{rule} is relative to a meeting, and this deadline has none")
    start = meeting.start_date
    if rule.working_days:
        day = workdays.working_days_before(start, -rule.days)
    else:
        day = start + timedelta(days=rule.days)
    return datetime.combine(day, DEFAULT_DUE_TIME)


def deadline_timezone(deadline: Deadline, *, default_timezone: str) -> str:
    return deadline.timezone or default_timezone


def resolve_due(
    deadline: Deadline,
    meeting: Meeting | None,
    *,
    default_timezone: str,
    workdays: WorkingCalendar,
) -> datetime:
    """The due instant of ``deadline`` as an aware UTC datetime."""
    local = due_local(deadline.due, meeting, workdays=workdays)
    zone = ZoneInfo(deadline_timezone(deadline, default_timezone=default_timezone))
    return to_utc(local, zone)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall-clock time in ``zone`` as aware UTC (the earlier reading when ambiguous)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def describe_time_left(due_at: datetime, now: datetime) -> str:
    """``in 3 days``, ``in 5 hours``, ``2 days overdue``: how a person reads a deadline."""
    seconds = (due_at - now).total_seconds()
    late = seconds < 0
    seconds = abs(seconds)
    if seconds >= 86400:  # noqa: PLR2004 - a day
        amount, unit = int(seconds // 86400), "day"
    elif seconds >= 3600:  # noqa: PLR2004 - an hour
        amount, unit = int(seconds // 3600), "hour"
    else:
        amount, unit = max(1, int(seconds // 60)), "minute"
    text = f"{amount} {unit}{'' if amount == 1 else 's'}"
    return f"{text} overdue" if late else f"in {text}"
