"""Reminder planning (SPEC.md, "Reminders"), pure.

For each open assignment the policy names days relative to the due date (14, 7, 3 and 1
days before, the day itself, 1 and 3 days after). Days are counted in the recipient's own
timezone (the due date is the date of the due instant there); each reminder goes out at the
policy's hour on a working day of the recipient's country. A reminder on or before the due
date that lands on a weekend or holiday moves earlier, one after it moves later; two that
land on the same day become one. At ``escalate_after_days`` overdue the chairs of the groups
the person was assigned through, and the coordinators, are told. An assignment made after
some reminders would have gone out gets one "assigned" notice at once instead of them.

This module holds the rules and the vocabulary; the planner that applies them to many
assignments is ``core.reminder_plan``, and reconciling a plan with the store
``core.reminder_store``.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from core.deadlines import to_utc
from core.model import Assignment, Role
from core.workdays import WorkingCalendar

if TYPE_CHECKING:
    from collections.abc import Iterable

    from core.model import Person, Roster


#: How late a missed reminder may still go out (after the service was down, say).
CATCH_UP = timedelta(days=2)


class ReminderKind(enum.StrEnum):
    BEFORE = "before"  # n days before the due date
    DUE = "due"  # on the due date
    OVERDUE = "overdue"  # n days after
    ESCALATION = "escalation"  # to chairs and coordinators
    ASSIGNED = "assigned"  # assigned after reminders would have started
    CHANGED = "changed"  # the deadline moved after this person was reminded of it
    REQUESTED = "requested"  # "Remind me tomorrow": one more, when the person asked for it


class AssignmentState(enum.StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    NOT_APPLICABLE = "not-applicable"
    CANCELLED = "cancelled"  # its meeting is cancelled

    @classmethod
    def of(cls, *, submitted: bool, not_applicable: bool, cancelled: bool) -> AssignmentState:
        """A submission settles an input first, then an excuse, then a cancelled meeting."""
        if submitted:
            return cls.SUBMITTED
        if not_applicable:
            return cls.NOT_APPLICABLE
        return cls.CANCELLED if cancelled else cls.OPEN


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """Days relative to the due date: positive before it, 0 on it, negative after it."""

    days_before: tuple[int, ...] = (14, 7, 3, 1, 0, -1, -3)
    hour: int = 9
    escalate_after_days: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.hour <= 23:  # noqa: PLR2004
            raise ValueError("the reminder hour is 0 to 23")
        if self.escalate_after_days < 1:
            raise ValueError("escalation comes at least one day after the due date")


@dataclass(frozen=True, slots=True)
class OpenAssignment:
    """What the planner needs of one assignment."""

    assignment: Assignment
    due_at: datetime  # aware UTC
    assigned_at: datetime  # aware UTC
    state: AssignmentState = AssignmentState.OPEN


class PlannedReminder(NamedTuple):
    """One reminder of a plan. A named tuple, not a dataclass: a plan holds a hundred thousand
    of them, and a tuple is made five times faster."""

    key: str
    kind: ReminderKind
    deadline: str
    person: str  # who owes the input
    recipient: str  # who gets the message (the person, or a chair or coordinator)
    planned_at: datetime  # aware UTC
    due_at: datetime
    days_before: int


#: Kinds that happen once per due instant: their key names no step.
_ONCE = frozenset({ReminderKind.ASSIGNED, ReminderKind.CHANGED})


def reminder_key(
    deadline: str,
    person: str,
    recipient: str,
    *,
    kind: ReminderKind,
    days_before: int,
    due_at: datetime,
) -> str:
    """Stable for the same assignment, recipient, step and due instant.

    The due instant is part of the key: when a deadline moves, its reminders are new ones.
    """
    to = "" if recipient == person else f">{recipient}"
    return f"{deadline}/{person}{to}{key_suffix(kind, days_before, due_at)}"


@functools.lru_cache(maxsize=4096)
def _stamp(due_at: datetime) -> str:
    return due_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def _local_day_at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return to_utc(datetime.combine(day, datetime.min.time()).replace(hour=hour), zone)


def _working_day(calendar: WorkingCalendar, nominal: date, due_date: date) -> date:
    if nominal <= due_date:
        return calendar.previous_working_day(nominal)
    return calendar.next_working_day(nominal)


def plan_for(
    item: OpenAssignment,
    recipient: Person,
    *,
    policy: ReminderPolicy,
    days: Iterable[int] | None = None,
) -> dict[date, tuple[int, datetime]]:
    """Local day -> (days before due, instant) for one recipient, merged per day."""
    steps = policy.days_before if days is None else days
    return reminder_days(
        item.due_at, recipient.timezone, recipient.country, policy=policy, days=steps
    )


def reminder_days(
    due_at: datetime, zone_name: str, country: str, *, policy: ReminderPolicy, days: Iterable[int]
) -> dict[date, tuple[int, datetime]]:
    """``plan_for`` for a recipient in ``zone_name`` and ``country``, of an input due ``due_at``."""
    zone = ZoneInfo(zone_name)
    calendar = WorkingCalendar(country)
    due_date = due_at.astimezone(zone).date()
    by_day: dict[date, tuple[int, datetime]] = {}
    for days_before in days:
        day = _working_day(calendar, due_date - timedelta(days=days_before), due_date)
        at = _local_day_at(day, policy.hour, zone)
        while days_before >= 0 and at > due_at:
            # the hour comes after the due time that day: one working day earlier
            day = calendar.previous_working_day(day - timedelta(days=1))
            at = _local_day_at(day, policy.hour, zone)
        current = by_day.get(day)
        if current is None or abs(days_before) < abs(current[0]):
            by_day[day] = (days_before, at)  # merged: the step nearest the due date wins
    return by_day


def next_slot(now: datetime, recipient: Person, policy: ReminderPolicy) -> datetime:
    """The recipient's next reminder time at or after ``now``: the hour, on a working day."""
    zone = ZoneInfo(recipient.timezone)
    calendar = WorkingCalendar(recipient.country)
    day = now.astimezone(zone).date()
    while True:
        day = calendar.next_working_day(day)
        at = _local_day_at(day, policy.hour, zone)
        if at >= now:
            return at
        day += timedelta(days=1)


def requested_reminder(
    deadline: str, person: Person, *, due_at: datetime, now: datetime, policy: ReminderPolicy
) -> PlannedReminder:
    """The "Remind me tomorrow" reminder: the reminder hour of the next working day after today.

    Asking twice on one day asks for the same reminder (one key per planned time).
    """
    zone = ZoneInfo(person.timezone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    at = next_slot(_local_day_at(tomorrow, 0, zone), person, policy)
    key = f"{deadline}/{person.handle}/{ReminderKind.REQUESTED.value}/{_stamp(at)}"
    return PlannedReminder(
        key, ReminderKind.REQUESTED, deadline, person.handle, person.handle, at, due_at, 0
    )


def kind_of(days_before: int) -> ReminderKind:
    """The kind of a policy step ``days_before`` the due date."""
    if days_before > 0:
        return ReminderKind.BEFORE
    return ReminderKind.DUE if days_before == 0 else ReminderKind.OVERDUE


def escalation_recipients(assignment: Assignment, roster: Roster) -> tuple[str, ...]:
    """The chairs of the groups the person was assigned through, and the coordinators."""
    chairs = {
        handle
        for code in assignment.via
        if (group := roster.groups.get(code)) is not None
        for handle in group.handles_with_role(Role.CHAIR)
    }
    recipients = (chairs | set(roster.coordinators)) - {assignment.person}
    return tuple(sorted(h for h in recipients if h in roster.people))


def key_suffix(kind: ReminderKind, days_before: int, due_at: datetime) -> str:
    """The end of a reminder's key after "deadline/person>recipient": "/step/stamp"."""
    step = kind.value if kind in _ONCE else f"{kind.value}{days_before:+d}"
    return f"/{step}/{_stamp(due_at)}"
